"""`--start-server`: a fresh PostgreSQL database, a seeded site with a token, and gunicorn.

Everything started here is stopped by `BenchServer.stop()`, which the caller runs in a
`finally`. The database is dropped at the end too, unless asked to keep it.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .client import require_loopback

ROOT = Path(__file__).resolve().parent.parent
SCIM_PATH = "/api/v2/scim"

# Sites the bench creates besides the demo's Contoso (the main site), issuing their
# tokens through the one token module. Names come one a line in BENCH_SITES.
EXTRA_SITES_SCRIPT = """
import os
from sites.credentials import scim_tokens
from sites.models import MSP, Site
msp = MSP.objects.get(name="Demo MSP")
for name in os.environ["BENCH_SITES"].splitlines():
    site, _ = Site.objects.get_or_create(msp=msp, name=name)
    print(scim_tokens.issue_token(site, via="command")[1])
"""


def database_name(database_url: str) -> str:
    return conninfo_to_dict(database_url).get("dbname", "")


def check_bench_database(database_url: str) -> None:
    """Only ever drop a loopback database whose name says it belongs to the benchmark."""
    params = conninfo_to_dict(database_url)
    require_loopback(f"http://{params.get('host') or '127.0.0.1'}/")
    if "bench" not in params.get("dbname", ""):
        raise SystemExit(
            f"Refusing to recreate database {params.get('dbname')!r}: "
            "its name must contain 'bench'."
        )


def sibling_database_url(database_url: str, suffix: str) -> str:
    """The same server, another database: its name with `suffix` added."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


def checkout_label(checkout: Path) -> str:
    """A checkout by its commit, e.g. "@03472df" (its folder's name outside git)."""
    result = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"@{result.stdout.strip()}" if result.returncode == 0 else checkout.name


def drop_database(database_url: str, *, recreate: bool = False) -> None:
    check_bench_database(database_url)
    name = sql.Identifier(database_name(database_url))
    with psycopg.connect(make_conninfo(database_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if recreate:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of proc(5), counted from the state field (3).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_until_answering(
    process: subprocess.Popen, url: str, log_tail: Callable[[], str], seconds: float = 30
) -> None:
    """Return once `url` gives any HTTP answer (a 401 without a token too); stop the run
    if the server exits or stays silent for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited at start:\n{log_tail()}")
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
        else:
            return
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s:\n{log_tail()}")


def stop_process(process: subprocess.Popen | None) -> None:
    """gunicorn's graceful shutdown (SIGTERM), or a kill after 20 s."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class BenchServer:
    def __init__(
        self,
        database_url: str,
        *,
        count_queries: bool,
        keep_database: bool,
        checkout: Path = ROOT,
    ):
        # `checkout`: the project folder to serve, this one or an older commit's worktree
        # (before/after figures from one benchmark).
        self.root = checkout
        self.database_url = database_url
        self.count_queries = count_queries
        self.keep_database = keep_database
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            # The per-site limit (200 a second by default, Entra needs 25) would cap what is
            # measured; it still counts every request, so its cost stays in the figures.
            "SCIM_SITE_RATE_LIMIT": "1000000/sec",
            # With REDIS_URL set (as deployed), each server counts under its own keys.
            "CACHE_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
            "PYTHONPATH": str(checkout),
        }
        self.tenant_url = ""
        self.created_database = False

    def manage(self, *args: str, **env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SystemExit(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def prepare(self, site_names: list[str]) -> tuple[str, list[str]]:
        """Create the database and sites; return Contoso's token and one token per
        named site. The plaintexts stay in this process's memory."""
        drop_database(self.database_url, recreate=True)
        self.created_database = True
        self.manage("migrate", "--no-input")
        self.manage("seed_demo")  # its output holds a generated password: not printed
        main = self.manage("issue_scim_token", "Contoso").strip().splitlines()[-1]
        if not site_names:
            return main, []
        output = self.manage(
            "shell", "-v", "0", "-c", EXTRA_SITES_SCRIPT, BENCH_SITES="\n".join(site_names)
        )
        tokens = output.split()
        if len(tokens) != len(site_names):
            raise SystemExit(f"Expected {len(site_names)} tokens from manage.py shell.")
        return main, tokens

    def start(self) -> str:
        port = free_port()
        app = "bench.wsgi_counting:application" if self.count_queries else "sat_portal.wsgi"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(self.root / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                app,
            ],
            cwd=self.root,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.tenant_url = f"http://127.0.0.1:{port}{SCIM_PATH}"
        wait_until_answering(self.process, self.tenant_url + "/Users", self.log_tail)
        return self.tenant_url

    def workers_rss_kib(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return [rss_kib(pid) for pid in children(self.process.pid)]

    def workers_cpu_seconds(self) -> float:
        if self.process is None or self.process.poll() is not None:
            return 0.0
        return sum(cpu_seconds(pid) for pid in children(self.process.pid))

    def log_tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        if self.created_database and not self.keep_database:
            drop_database(self.database_url)
