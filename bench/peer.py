"""`--peer`: python-scim's in-memory `scim2-server`, served the way we are, for comparison.

The peer lives in a virtualenv of its own (`bench/.peer-venv`, gitignored), never in the
project's dependencies. `ensure_venv()` creates it on first use with pinned versions from
PyPI; the same by hand:

    python3 -m venv bench/.peer-venv
    bench/.peer-venv/bin/pip install scim2-server==0.8.3 gunicorn==27.0.1

It is served by gunicorn, gthread, one process of 8 threads (its storage is the process's
memory, so one process holds every resource), on a loopback port, with one bearer token.
No database: every write is gone when it stops.
"""

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from .server import children, cpu_seconds, free_port, stop_process, wait_until_answering

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".peer-venv"
PACKAGES = ("scim2-server==0.8.3", "gunicorn==27.0.1")
# scim2-server's WSGI application answers under /v2 (scim2_server.applications.base).
PEER_PATH = "/v2"

# Written to a temporary folder and loaded by the peer's gunicorn: the `scim2-server`
# command's own application (scim2_server.testserver), with the token from the environment.
APP_MODULE = "bench_peer_app"
APP_SOURCE = """\
import os

from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BearerTokenApplication
from scim2_server.utils import load_default_provider

application = BearerTokenApplication(
    InMemoryStorage(), load_default_provider(), bearer_tokens=[os.environ["PEER_TOKEN"]]
)
"""


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path) -> Path:
    """The peer's Python, creating its virtualenv from PyPI if it is not there yet."""
    python = venv_python(venv)
    if python.exists():
        return python
    print(f"Creating {venv} with {', '.join(PACKAGES)} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES],
        check=True,
    )
    return python


class PeerServer:
    """scim2-server under gunicorn (gthread 1x8) on a free loopback port; `stop()` ends it."""

    def __init__(self, venv: Path):
        self.python = ensure_venv(venv)
        self.token = secrets.token_urlsafe(32)
        self.folder = tempfile.TemporaryDirectory(prefix="bench-peer-")
        Path(self.folder.name, f"{APP_MODULE}.py").write_text(APP_SOURCE)
        self.log = Path(self.folder.name, "gunicorn.log")
        self.process: subprocess.Popen | None = None
        self.tenant_url = ""

    def start(self) -> str:
        port = free_port()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.python),
                    "-m",
                    "gunicorn",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    "1",
                    "--threads",
                    "8",
                    "--keep-alive",
                    "5",
                    "--log-level",
                    "warning",
                    "--bind",
                    f"127.0.0.1:{port}",
                    f"{APP_MODULE}:application",
                ],
                cwd=self.folder.name,
                env={**os.environ, "PEER_TOKEN": self.token, "PYTHONPATH": self.folder.name},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.tenant_url = f"http://127.0.0.1:{port}{PEER_PATH}"
        wait_until_answering(
            self.process, self.tenant_url + "/ServiceProviderConfig", self.log_tail
        )
        return self.tenant_url

    def workers_cpu_seconds(self) -> float:
        if self.process is None or self.process.poll() is not None:
            return 0.0
        return sum(cpu_seconds(pid) for pid in children(self.process.pid))

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
        self.folder.cleanup()
