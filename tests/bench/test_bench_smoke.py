"""The benchmark's smoke run: it starts its own gunicorn on a fresh PostgreSQL database,
replays a tiny Entra cycle, scaling and floor, stops everything and prints its figures.

No figure is asserted: timings depend on the machine. What is asserted is that every
request kind ran without an error and every section of the report was printed.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from bench.server import checkout_label

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.getenv("DATABASE_URL", "")
# The in-memory peer (--peer) only when its virtualenv is already there: the smoke run
# never installs anything.
PEER_VENV = ROOT / "bench" / ".peer-venv"


KIND_KINDS = (
    "POST /Users",
    "GET /Users filter userName eq",
    "GET /Users/{id}",
    "PATCH /Users/{id}",
)


def run_bench(*args: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.scim_cycle", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def bench_database_url() -> str:
    # A database of its own, next to the one the test run uses, so parallel runs and
    # the developer's data are never touched (the benchmark drops it afterwards).
    params = conninfo_to_dict(DATABASE_URL)
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    user = params.get("user", "postgres")
    name = f"{params.get('dbname') or 'sat_portal'}_bench_smoke_{os.getpid()}"
    return f"postgres://{user}@{host}:{port}/{name}"


def server_query(query: str, *params):
    with psycopg.connect(bench_database_url().rsplit("/", 1)[0] + "/postgres") as conn:
        return conn.execute(query, params).fetchone()


def autovacuum_is_off() -> bool:
    return server_query("SHOW autovacuum")[0] == "off"


def commit_label() -> str:
    return checkout_label(ROOT)


@pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the benchmark runs gunicorn on PostgreSQL: set DATABASE_URL to a postgres:// URL",
)
def test_the_smoke_benchmark_runs_every_mode_and_prints_its_figures(tmp_path):
    figures_path = tmp_path / "figures.json"
    peer = ["--peer"] if (PEER_VENV / "bin" / "python").exists() else []

    result = run_bench(
        "--start-server",
        "--smoke",
        "--mode",
        "all",
        *peer,
        # Before/after: here this checkout against itself, served twice, two rounds.
        "--against",
        str(ROOT),
        "--rounds",
        "2",
        "--sites",
        "2",
        "--database-url",
        bench_database_url(),
        "--json",
        str(figures_path),
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    if autovacuum_is_off():
        # Tables filled from empty would keep empty-table statistics (bench/autoanalyze.py).
        assert "analyzes changed tables as it would" in result.stdout
    headings = ("Entra cycle:", "Scaling:", "Database floor:", "Request kinds:", "wall time")
    for heading in (*headings, "rows created"):
        assert heading in result.stdout
    figures = json.loads(figures_path.read_text())
    cycle = figures["cycle"]
    assert cycle["failure_count"] == 0
    for kind in ("probe", "user GET filter", "user POST", "group POST", "user PATCH disable"):
        assert cycle["requests"][kind]["errors"] == 0
        assert cycle["requests"][kind]["queries_per_request"] is not None
    assert cycle["rows"]["in database"]["users"] == 2 * 30
    assert figures["scaling"]["verdicts"]
    assert figures["floor"]["POST /Users"]["times_floor"] is not None
    kinds = figures["kinds"]
    assert kinds["failure_count"] == 0
    measured = {(row["kind"], row["target"]) for row in kinds["rows"]}
    targets = ["SAT Portal", commit_label(), *(["scim2-server"] if peer else [])]
    assert measured == {(kind, target) for kind in KIND_KINDS for target in targets}
    assert kinds["rounds"] == 2
    assert len(kinds["each_round"]) == 2
    assert [change["kind"] for change in kinds["cpu_change"]] == list(KIND_KINDS)
    assert f"at {commit_label()}" in result.stdout
    # Both servers' databases are gone afterwards.
    for name in (bench_database_url(), bench_database_url() + "_against"):
        assert server_query(
            "SELECT count(*) FROM pg_database WHERE datname = %s", name.rsplit("/", 1)[1]
        ) == (0,)


def test_the_benchmark_refuses_a_target_that_is_not_this_machine():
    result = run_bench("--url", "http://192.0.2.1/api/v2/scim", "--token", "satscim_x", timeout=60)

    assert result.returncode != 0
    assert "only runs against loopback" in result.stderr


@pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres") or shutil.which("valgrind") is None,
    reason="counts instructions under valgrind, on PostgreSQL",
)
def test_the_instruction_count_runs_a_kind_under_valgrind_and_prints_its_figure():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.instructions",
            "--kind",
            "patch",
            "--warm-up",
            "1",
            "--requests",
            "2",
            "--database-url",
            bench_database_url() + "_ir",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    label = checkout_label(ROOT)
    (line,) = result.stdout.splitlines()
    figure, _, at = line.removeprefix("patch: ").partition("M instructions per request at ")
    assert float(figure) > 0.1 and at == label
    # Its database is dropped afterwards.
    name = conninfo_to_dict(bench_database_url() + "_ir")["dbname"]
    assert server_query("SELECT count(*) FROM pg_database WHERE datname = %s", name)[0] == 0
