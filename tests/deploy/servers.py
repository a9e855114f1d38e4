"""Real servers for the deployment tests: fresh PostgreSQL databases, gunicorn, nginx, a
TCP forwarder that can cut the database away, and a network namespace whose link to the
database can be partitioned.

Why subprocesses and not pytest-django's live server: these tests prove what a deployment
runs. gunicorn's gthread workers with DEBUG off, the files `collectstatic` wrote and
WhiteNoise serves, the settings read from nothing but the environment (ENV_FILE= so that a
developer's .env cannot help), a load balancer in front, a shared Redis. None of that is
exercised when Django serves itself inside the test process.

Every server here is started in a session of its own (`start_new_session=True`), so that
stopping it, or killing it like a crashed machine, takes its whole process group: no
worker outlives its test. Every address is a loopback one, or one of a network namespace
the test made for itself, and every port is chosen at run time, so that parallel runs
(pytest-xdist, two checkouts) do not collide.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
LOOPBACK = "127.0.0.1"
NGINX = "/usr/sbin/nginx"
DATABASE_URL = os.getenv("DATABASE_URL", "")
# The Redis the tests that deploy with REDIS_URL share (each run under a key prefix of its
# own); .ci/run starts it when it is down.
REDIS_ADDRESS = (LOOPBACK, 6379)
REDIS_URL = f"redis://{REDIS_ADDRESS[0]}:{REDIS_ADDRESS[1]}/0"

requires_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the deployment tests serve from PostgreSQL: set DATABASE_URL to postgres://…",
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# The addresses of the network namespaces that tests made on this machine (see
# `partitionable_namespace`): not loopback, but no less this machine's.
NAMESPACE_ADDRESSES: set[str] = set()


def require_loopback(url: str) -> None:
    """These tests only ever talk to servers they started on this machine."""
    host = urlsplit(url).hostname or ""
    if not is_loopback(host) and host not in NAMESPACE_ADDRESSES:
        raise AssertionError(f"refusing to send a request to {url}: not a loopback address")


def free_port(host: str = LOOPBACK) -> int:
    """A port of `host` that nothing listens on now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def random_secret_key() -> str:
    """Like the README's: 50 random bytes, URL-safe (67 characters)."""
    return secrets.token_urlsafe(50)


# --- PostgreSQL ------------------------------------------------------------------------


def postgres_address() -> tuple[str, int]:
    """Host and port of the PostgreSQL server that DATABASE_URL names."""
    params = conninfo_to_dict(DATABASE_URL)
    return params.get("host") or LOOPBACK, int(params.get("port") or 5432)


@contextlib.contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """A new, empty database next to DATABASE_URL's, dropped afterwards whatever happens.

    Its name holds the test run's pid (`<dbname>_deploy_<label>_<pid>`), so two runs, or
    two pytest-xdist workers, never share one, and a developer's data is never touched.
    Yields its URL.
    """
    params = conninfo_to_dict(DATABASE_URL)
    host, port = postgres_address()
    if not is_loopback(host):
        pytest.skip(f"the deployment tests only use a loopback PostgreSQL, not {host}")
    user = params.get("user") or "postgres"
    name = f"{params.get('dbname') or 'sat_portal'}_deploy_{label}_{os.getpid()}"
    admin = make_conninfo(DATABASE_URL, dbname="postgres")
    identifier = sql.Identifier(name)

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))

    drop()  # left over by a run that was killed before its own clean-up
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        drop()


def redis_key_prefix(stack: contextlib.ExitStack, who: str) -> str:
    """A CACHE_KEY_PREFIX of this run's own in the Redis the tests share (counters of
    another run, or of a developer's server, never count here), whose keys are deleted
    when `stack` closes. Fails the test, naming `who`, when Redis does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    stack.callback(client.close)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"{who} share Redis at {REDIS_URL}, which does not answer: {error}")
    prefix = f"sat-deploy-{os.getpid()}-{secrets.token_hex(4)}"
    stack.callback(delete_keys, client, prefix)
    return prefix


def delete_keys(client: redis.Redis, prefix: str) -> None:
    """Django's keys are `<KEY_PREFIX>:<version>:<key>`."""
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def with_port(database_url: str, port: int, host: str = LOOPBACK) -> str:
    """The same database reached through another address and port (the forwarder's)."""
    params = conninfo_to_dict(database_url)
    return f"postgres://{params.get('user') or 'postgres'}@{host}:{port}/{params['dbname']}"


# --- Django's environment and manage.py --------------------------------------------------


def app_environment(database_url: str, static_root: Path, **overrides: str) -> dict[str, str]:
    """The complete environment of a production process, and nothing inherited.

    A test that passed because of a variable in the developer's shell, or a line of a
    local .env (ENV_FILE= reads none), would prove nothing about a deployment. Only PATH
    and the locale come from outside.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "ENV_FILE": "",
        "DATABASE_URL": database_url,
        "SECRET_KEY": random_secret_key(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
    }
    env.update(overrides)
    return env


def manage(
    env: Mapping[str, str], *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `python manage.py ARGS` as an operator would, with exactly `env`."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode:
        raise AssertionError(
            f"manage.py {' '.join(args[:2])} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


def last_line(output: str) -> str:
    """Commands print their one-time secret (a link, a token) as the last line."""
    lines = output.strip().splitlines()
    assert lines, "the command printed nothing"
    return lines[-1].strip()


# What the two-node and outage tests need in their database, made the way the app itself
# makes it (the same functions the console and commands call), in one manage.py run.
SEED_SCRIPT = """
import json, os
from django.contrib.auth import get_user_model
from sites import team
from sites.credentials import api_keys, scim_tokens
from sites.services import create_site
msp, admin = team.create_msp(os.environ["SEED_MSP"], os.environ["SEED_ADMIN"])
admin.set_password(os.environ["SEED_PASSWORD"])
admin.save()
site = create_site(msp, os.environ["SEED_SITE"])
scim_token = scim_tokens.issue_token(site, via="command")[1]
keys = {
    name: api_keys.issue_key(msp, name=name, by=admin)[1]
    for name in os.environ["SEED_API_KEYS"].split(",")
}
print(json.dumps({"site_pk": site.pk, "scim_token": scim_token, "api_keys": keys}))
"""


@dataclass(frozen=True)
class Seed:
    """An MSP with an admin login (with a password), a site, its Secret Token and API keys."""

    admin: str
    password: str
    site_pk: int
    scim_token: str
    api_keys: dict[str, str]


def seed(env: Mapping[str, str], *, api_keys: tuple[str, ...] = ("deploy-test",)) -> Seed:
    admin, password = "alice@acme.example", "deploy-" + secrets.token_urlsafe(12)
    result = manage(
        {
            **env,
            "SEED_MSP": "Acme IT",
            "SEED_ADMIN": admin,
            "SEED_PASSWORD": password,
            "SEED_SITE": "Contoso",
            "SEED_API_KEYS": ",".join(api_keys),
        },
        "shell",
        "-v",
        "0",
        "-c",
        SEED_SCRIPT,
    )
    data = json.loads(last_line(result.stdout))
    return Seed(admin, password, data["site_pk"], data["scim_token"], data["api_keys"])


# --- HTTP ------------------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP response, read whole. `headers` keys are lower-case (a repeated header:
    its last value; `header_list` has them all)."""

    status: int
    headers: dict[str, str]
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def upstream(self) -> str:
        """Which app server answered behind nginx (X-Upstream): the last address tried."""
        return self.headers.get("x-upstream", "").split(",")[-1].strip()


# What a client sees when a server is gone or hangs up mid-answer.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


def request(
    method: str,
    url: str,
    *,
    body: object | None = None,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    timeout: float = 15,
) -> Answer:
    """One request on a new connection; redirects are not followed (the tests look at
    them). `body` is sent as JSON, `form` as a urlencoded form. Raises one of
    CONNECTION_ERRORS when no answer arrives."""
    require_loopback(url)
    parts = urlsplit(url)
    sent_headers = dict(headers or {})
    data: bytes | None = None
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers.setdefault("Content-Type", "application/scim+json")
    elif form is not None:
        data = urlencode(form).encode()
        sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, target or "/", body=data, headers=sent_headers)
        response = conn.getresponse()
        raw = response.getheaders()
        return Answer(
            response.status,
            {name.lower(): value for name, value in raw},
            response.read(),
            [(name.lower(), value) for name, value in raw],
        )
    finally:
        conn.close()


@dataclass
class FormSession:
    """A browser's cookies and CSRF token, for posting Django forms without a browser."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def send(self, method: str, path: str, form: Mapping[str, str] | None = None) -> Answer:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = request(method, self.base_url + path, form=form, headers=headers)
        for name, value in answer.header_list:
            if name == "set-cookie":
                for cookie, morsel in SimpleCookie(value).items():
                    self.cookies[cookie] = morsel.value
        return answer

    def csrf_form(self, path: str) -> tuple[Answer, str]:
        """GET a page with a form: its answer and the form's CSRF token."""
        answer = self.send("GET", path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        assert match, f"no CSRF token in {path} ({answer.status})"
        return answer, match[1]


def wait_until_answers(url: str, *, process: subprocess.Popen | None, log: Path, what: str) -> None:
    """Poll `url` until it answers 200 (30 s at most), failing early if `process` died."""
    deadline = time.monotonic() + 30
    last_error = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what} exited at start ({process.returncode}):\n{tail(log)}")
        try:
            if request("GET", url, timeout=2).status == 200:
                return
        except CONNECTION_ERRORS as error:
            last_error = repr(error)
        time.sleep(0.1)
    raise AssertionError(f"{what} did not answer {url} within 30 s ({last_error}):\n{tail(log)}")


def tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def stop_process_group(process: subprocess.Popen, *, grace: float = 10) -> None:
    """SIGTERM the process's whole group (its graceful stop), SIGKILL whatever is left.

    A group, because gunicorn's workers and nginx's are children that would otherwise
    outlive a master killed on its own.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers that outlived their master
    if process.poll() is None:
        process.wait(timeout=10)


# --- gunicorn ----------------------------------------------------------------------------


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py sat_portal.wsgi`, as the README deploys it, on a free
    loopback port: 2 worker processes of 4 threads, DEBUG off, settings from `env` only.

    `host` and `launcher` run it elsewhere: `launcher` is a command that runs gunicorn's
    (`ip netns exec NAME`, which execs it: the process and its group stay gunicorn's) and
    `host` the address it binds there."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        *,
        name: str = "gunicorn",
        port: int | None = None,
        host: str = LOOPBACK,
        launcher: Sequence[str] = (),
    ):
        self.name = name
        self.host = host
        self.launcher = tuple(launcher)
        # In a namespace of its own nothing else listens: a port free here is free there.
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.log = workdir / f"{name}.log"
        # Each node counts its own metrics, as separate machines would.
        metrics_dir = workdir / f"{name}-metrics"
        metrics_dir.mkdir(exist_ok=True)
        # gunicorn (25.1+) opens a control socket at $HOME/.gunicorn/gunicorn.ctl: one
        # path per user, which the test's gunicorns would take from one another. A short
        # HOME of its own (a socket path has at most 107 bytes).
        self.home = Path(tempfile.mkdtemp(prefix="sat-gunicorn-"))
        self.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "HOME": str(self.home)}
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """host:port, as nginx's $upstream_addr names it."""
        return f"{self.host}:{self.port}"

    def start(self) -> Gunicorn:
        """Launch and wait until it answers (/healthz)."""
        self.launch()
        self.wait_ready()
        return self

    def launch(self) -> None:
        """Start the processes without waiting: several nodes then boot side by side."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *self.launcher,
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(ROOT / "gunicorn.conf.py"),
                    "--bind",
                    self.address,
                    "sat_portal.wsgi",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        wait_until_answers(
            self.url + "/healthz", process=self.process, log=self.log, what=self.name
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a machine that died."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
        shutil.rmtree(self.home, ignore_errors=True)

    def log_tail(self) -> str:
        return tail(self.log)


# --- nginx -------------------------------------------------------------------------------

NGINX_CONF = """\
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr '
                        'upstream_status=$upstream_status time=$request_time';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    upstream sat_portal {{
{servers}
    }}

    server {{
        listen {listen};
        location / {{
            proxy_pass http://sat_portal;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # One id follows a request through every hop: the app keeps the balancer's.
            proxy_set_header X-Request-Id $request_id;
            add_header X-Balancer-Request-Id $request_id always;
            # A node that refuses connections or hangs up is skipped, as a cloud load
            # balancer does; requests it already received are not re-sent elsewhere
            # unless idempotent (nginx's default), so the client retries those.
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx as the load balancer: round robin over `upstreams`, on a free
    loopback port, with its config, logs, pid file and temp files in `workdir`."""

    def __init__(self, upstreams: list[str], workdir: Path):
        self.dir = workdir / "nginx"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.upstreams = upstreams
        self.process: subprocess.Popen | None = None
        self.log = self.dir / "error.log"

    def write_config(self) -> Path:
        servers = "\n".join(
            f"        server {address} max_fails=1 fail_timeout=10s;" for address in self.upstreams
        )
        conf = self.dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                # As root, nginx would run its worker as `nobody`, which cannot enter the
                # test's private temp folder.
                user="user root;" if os.geteuid() == 0 else "",
                dir=self.dir,
                servers=servers,
                listen=f"{LOOPBACK}:{self.port}",
            )
        )
        return conf

    def start(self) -> Nginx:
        conf = self.write_config()
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(conf), "-e", str(self.log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "stderr.log").open("ab"),
            start_new_session=True,
        )
        wait_until_answers(self.url + "/healthz", process=self.process, log=self.log, what="nginx")
        return self

    def reload(self) -> None:
        """SIGHUP: new workers with the config re-read and, what matters here, a fresh
        view of the upstreams (a node restarted after a kill is not held as failed for
        the rest of fail_timeout)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGHUP)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)


# --- a database link that can be cut ------------------------------------------------------


class TcpForwarder:
    """A TCP port (on loopback unless `host` says otherwise) forwarded to PostgreSQL or
    Redis, which the test can cut and restore.

    Cutting closes the listener (new connections are refused, as from a host that is
    down) and every forwarded connection (open ones break, as after a failover): what
    gunicorn's workers see when the database or Redis goes away. Restoring listens on the same
    port again, so the app's DATABASE_URL does not change.
    """

    def __init__(self, target: tuple[str, int], host: str = LOOPBACK):
        self.target = target
        self.host = host
        self.port = free_port(host)
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.acceptor: threading.Thread | None = None
        self.stopping = threading.Event()

    def start(self) -> TcpForwarder:
        self.stopping.clear()
        # create_server sets SO_REUSEADDR: the port can be listened on again at once.
        self.listener = socket.create_server((self.host, self.port))
        self.listener.settimeout(0.1)  # so that the accept loop sees `stopping`
        self.acceptor = threading.Thread(target=self._accept, args=(self.listener,), daemon=True)
        self.acceptor.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    @property
    def open_connections(self) -> int:
        with self.lock:
            return len(self.sockets) // 2

    def cut(self) -> None:
        self.stopping.set()
        if self.acceptor is not None:
            self.acceptor.join(timeout=5)
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        with self.lock:
            doomed = list(self.sockets)
        for sock in doomed:
            self._close(sock)

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()


# --- a network namespace whose database link can be partitioned ---------------------------

IP, TC = "ip", "tc"
# Each namespace takes a /29 of this private range: a /30 for each of its two links.
ADDRESS_POOL = ipaddress.ip_network("10.0.0.0/8")
# Taken while a run picks its /29 and puts it on the host, so that two runs (pytest-xdist
# workers, another checkout) never pick the same one: a path all of them share.
ADDRESS_LOCK = (
    Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
) / "sat-portal-deploy-tests-netns.lock"


class ToolFailed(Exception):
    """`ip` or `tc` exited non-zero; the message has its command line and stderr."""


def run_tool(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if check and result.returncode:
        raise ToolFailed(f"`{' '.join(command)}`: {result.stderr.strip()}")
    return result


@dataclass(frozen=True)
class VethPair:
    """A virtual cable from the host to the namespace: a /30 with an address at each end."""

    host_device: str
    namespace_device: str
    host_address: str
    namespace_address: str


@dataclass
class Namespace:
    """A network namespace joined to the host by two cables: `client` carries the test's
    HTTP requests to what runs inside, `database` what runs inside to the database."""

    name: str
    client: VethPair
    database: VethPair
    partitioned: bool = False

    @property
    def launcher(self) -> tuple[str, ...]:
        """The command that runs a program inside (it execs it: same process)."""
        return (IP, "netns", "exec", self.name)

    def _qdisc(self, action: str, *kind: str, check: bool = True) -> None:
        ends = (
            ((TC,), self.database.host_device),
            ((TC, "-n", self.name), self.database.namespace_device),
        )
        for tc, device in ends:
            run_tool(*tc, "qdisc", action, "dev", device, "root", *kind, check=check)

    def partition(self) -> None:
        """From now on every packet on the database cable is dropped, both ways, and the
        sender is told it was sent: a network partition. Nothing is closed, refused or
        reset; only timeouts can notice. The client cable still carries everything.

        A `blackhole` qdisc on each end's egress does what `netem loss 100%` does (drop,
        report success), and is built into every kernel with traffic control, where netem
        is a module that minimal kernels (this project's test machine's) lack."""
        self._qdisc("add", "blackhole")
        self.partitioned = True

    def heal(self) -> None:
        """Packets flow again (the qdiscs go, back to the kernel's default). Idempotent."""
        if self.partitioned:
            self._qdisc("del", check=False)
            self.partitioned = False


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    """The IPv4 networks of the host's addresses and routes (the default route aside)."""
    used = []
    for link in json.loads(run_tool(IP, "-j", "-4", "addr", "show").stdout):
        for info in link.get("addr_info", []):
            network = f"{info['local']}/{info['prefixlen']}"
            used.append(ipaddress.IPv4Network(network, strict=False))
    for route in json.loads(run_tool(IP, "-j", "-4", "route", "show", "table", "all").stdout):
        if route.get("dst", "default") != "default":
            used.append(ipaddress.IPv4Network(route["dst"], strict=False))
    return [network for network in used if network.prefixlen > 0]


def _free_block() -> ipaddress.IPv4Network:
    """A /29 of ADDRESS_POOL that nothing on the host uses, from one chosen by the pid."""
    used = _networks_in_use()
    count = 2 ** (29 - ADDRESS_POOL.prefixlen)
    first = os.getpid() % count
    for step in range(4096):
        address = int(ADDRESS_POOL.network_address) + (first + step) % count * 8
        block = ipaddress.IPv4Network((address, 29))
        if not any(block.overlaps(network) for network in used):
            return block
    raise ToolFailed(f"no free /29 in {ADDRESS_POOL} near the {first}th")


def _remove_namespace(name: str, host_devices: Sequence[str]) -> None:
    for device in host_devices:
        # A veth goes with its peer, and each with its qdiscs.
        run_tool(IP, "link", "del", device, check=False)
    run_tool(IP, "netns", "del", name, check=False)


@contextlib.contextmanager
def partitionable_namespace() -> Iterator[Namespace]:
    """A network namespace of this run's (`sat-portal-partition-<pid>`), joined to the host
    by two veth pairs on private /30s, removed afterwards with its cables whatever happens.

    Skips the test where namespaces cannot be made (not root, no iproute2) or the kernel
    cannot drop packets on demand. Names hold the pid and the /29 is one the host does not
    use, picked under a lock every run shares: parallel runs never meet. While it exists,
    `request` may talk to the namespace's client address.
    """
    if missing := [tool for tool in (IP, TC) if shutil.which(tool) is None]:
        pytest.skip(f"the partition test needs iproute2 ({', '.join(missing)} not found)")
    pid = os.getpid()
    name = f"sat-portal-partition-{pid}"
    host_devices = (f"satc{pid}", f"satd{pid}")  # a device name has at most 15 bytes
    _remove_namespace(name, host_devices)  # left over by a run killed before its clean-up
    try:
        run_tool(IP, "netns", "add", name)
    except ToolFailed as error:
        pytest.skip(f"cannot create a network namespace (root is needed): {error}")
    try:
        pairs = []
        with ADDRESS_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
            block = _free_block()
            for host_device, namespace_device, network in zip(
                host_devices, ("client", "database"), block.subnets(new_prefix=30), strict=True
            ):
                host_address, namespace_address = map(str, network.hosts())
                peer = ("peer", "name", namespace_device, "netns", name)
                run_tool(IP, "link", "add", host_device, "type", "veth", *peer)
                run_tool(IP, "addr", "add", f"{host_address}/30", "dev", host_device)
                run_tool(IP, "link", "set", host_device, "up")
                inside = (IP, "-n", name)
                run_tool(*inside, "addr", "add", f"{namespace_address}/30", "dev", namespace_device)
                run_tool(*inside, "link", "set", namespace_device, "up")
                pairs.append(
                    VethPair(host_device, namespace_device, host_address, namespace_address)
                )
        run_tool(IP, "-n", name, "link", "set", "lo", "up")
        namespace = Namespace(name, *pairs)
        try:
            namespace.partition()
        except ToolFailed as error:
            pytest.skip(f"this kernel cannot drop packets on demand: {error}")
        namespace.heal()
        NAMESPACE_ADDRESSES.add(namespace.client.namespace_address)
        try:
            yield namespace
        finally:
            NAMESPACE_ADDRESSES.discard(namespace.client.namespace_address)
    finally:
        _remove_namespace(name, host_devices)
