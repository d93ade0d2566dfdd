"""Starting and stopping the real servers some tests need, on loopback only."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def unavailable(reason: str):
    """Skip a lane whose tool or service is missing, saying what to install; in CI, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: no lane may be skipped)")
    pytest.skip(reason)


REDIS_URL = "redis://127.0.0.1:6379/0"


def require_redis() -> str:
    """The machine's Redis (rate-limit counts shared by workers and instances); skip without it (fail under CI)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        unavailable("Redis is not running on 127.0.0.1:6379 (start redis-server)")
    return REDIS_URL


def require(tool: str, package: str) -> str:
    """The path of a Debian-packaged tool; skip without it (fail under CI)."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin")
    if path:
        return path
    unavailable(f"{tool} not found: install the Debian package {package} (apt-get install {package})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _as_postgres() -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: drop to the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def shared_dir(path: Path) -> Path:
    """A work folder the postgres user can use too when the tests run as root."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


class PgBouncer:
    """A real PgBouncer in transaction mode (as Neon's pooler runs) in front of a server."""

    def __init__(self, workdir: Path, upstream_host: str, upstream_port: int):
        self.binary = require("pgbouncer", "pgbouncer")
        self.workdir = shared_dir(workdir)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # It must run as a user that may open the upstream's socket folder, if any.
        self.user = Path(upstream_host).owner() if upstream_host.startswith("/") else "postgres"
        (self.workdir / "pgbouncer.ini").write_text(f"""\
[databases]
* = host={upstream_host} port={upstream_port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
server_login_retry = 1
query_wait_timeout = 10
server_connect_timeout = 3
logfile = {self.workdir}/pgbouncer.log
""")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PgBouncer:
        user = ["-u", self.user] if os.geteuid() == 0 else []
        self.process = subprocess.Popen([self.binary, *user, str(self.workdir / "pgbouncer.ini")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        """SIGKILL: the pooler vanishes mid-flight, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class PostgresCluster:
    """A PostgreSQL cluster of the test's own, never the shared one, to stop and start."""

    def __init__(self, workdir: Path):
        if not (PG_BIN / "initdb").exists():
            require("initdb", "postgresql")
        self.workdir = shared_dir(workdir)
        self.data = self.workdir / "data"
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*_as_postgres(), str(PG_BIN / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresCluster:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.workdir / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


class StallingProxy:
    """A TCP proxy on loopback that can stop forwarding without closing anything.

    Stalled, it goes on reading what either side sends and throws it away, as a network
    that swallows packets would: both kernels keep acknowledging, so neither side sees an
    error, and TCP keepalives are answered all the while.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stalled = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="stalling-proxy", daemon=True).start()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.stalled.is_set():
                    target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def stall(self) -> None:
        self.stalled.set()

    def resume(self) -> None:
        self.stalled.clear()

    def close(self) -> None:
        self.listener.close()
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.close()


class Gunicorn:
    """The app served by gunicorn (gunicorn.conf.py), as in production, on a loopback port."""

    def __init__(self, env: dict[str, str], workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads), **env}
        self.process: subprocess.Popen | None = None
        # Kept for the server's life: stop() removes it.
        self.log = tempfile.NamedTemporaryFile(prefix="tm-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self) -> Gunicorn:
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [str(root / ".venv" / "bin" / "gunicorn"), "-c", str(root / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "app:app"],
            cwd=root, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError:
            self.stop_process()
            raise RuntimeError(f"gunicorn did not start:\n{self.output()[-3000:]}") from None
        return self

    def worker_pids(self) -> set[int]:
        import psutil

        return {child.pid for child in psutil.Process(self.process.pid).children()}

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop_process(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def stop(self) -> None:
        self.stop_process()
        Path(self.log.name).unlink(missing_ok=True)


@contextmanager
def served_in_thread(app):
    """The app over real HTTP: werkzeug's threaded server on a free loopback port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
