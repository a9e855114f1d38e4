"""Fixtures of the deployment tests; the servers themselves are in `servers.py`.

Each test starts what it needs through `stack`, whose teardown stops it whatever happened
(a failed assertion, a timeout, Ctrl-C): the test's gunicorns, nginx and forwarder, then
its database, which it drops.
"""

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import ARTIFACTS, DATABASE_URL, app_environment, manage


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Register what a test starts (`stack.callback(server.stop)`, `stack.enter_context(
    fresh_database(...))`); it is all stopped, last started first, when the test ends."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`manage.py collectstatic --no-input` into a folder of this test session, as a
    deployment runs it before starting gunicorn: WhiteNoise then serves the hashed,
    compressed files from there. Collected once: the files do not depend on the database
    or on any test's settings."""
    root = tmp_path_factory.mktemp("static")
    manage(app_environment(DATABASE_URL, root), "collectstatic", "--no-input", "-v", "0")
    assert (root / "staticfiles.json").is_file(), "collectstatic wrote no manifest"
    return root


@pytest.fixture(autouse=True)
def keep_server_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed test's server logs (gunicorn's, nginx's error and access logs) are copied
    to test-artifacts/<test name>/: its temporary folder is gone by the time one looks."""
    yield
    if not getattr(request.node, "call_failed", False):
        return
    folders = [request.node.funcargs.get("tmp_path")]
    cluster = request.node.funcargs.get("cluster")
    if cluster is not None:
        folders.append(cluster.balancer.dir.parent)
    target = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name) / "logs"
    for folder in filter(None, folders):
        for log in Path(folder).rglob("*.log"):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, target / f"{log.parent.name}-{log.name}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Tells fixtures' teardown whether the test itself failed (for screenshots)."""
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


# Tests publish measured figures with `record_property(FIGURES, text)`: they travel with
# the test's report (also from pytest-xdist's workers) and are printed at the end of the
# run, whatever the verbosity, so that they can be quoted without re-running with -s.
FIGURES = "deployment figures"


def pytest_terminal_summary(terminalreporter) -> None:
    texts = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == FIGURES
    ]
    if texts:
        terminalreporter.section(FIGURES)
        for text in texts:
            terminalreporter.write_line(text)
