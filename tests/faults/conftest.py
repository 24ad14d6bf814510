"""Private infrastructure for the fault scenarios: a RabbitMQ node and a PostgreSQL cluster of
their own (the shared ones serve other tests running concurrently, so they are never killed
or restarted), each started once per session and stopped at its end."""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import amqp
import pytest
from sqlalchemy import create_engine, text

from tests.support.services import free_port

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _run(args: list[str], timeout: float, env: dict[str, str] | None = None,
         check: bool = True) -> int:
    """A command with a hard time limit; waiting polls (a green sleep), so in-process services
    keep running meanwhile."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            raise
        if check and code != 0:
            out.seek(0)
            raise RuntimeError(f"{args[0]} failed ({code}): {out.read()[-2000:].decode()}")
        return code


def _owner_alive(root: Path) -> bool:
    try:
        os.kill(int((root / "owner.pid").read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


def reap_orphans() -> None:
    """Stop private instances left by a test session that was itself killed (a CI timeout):
    only directories this module created, and only when their owning process is gone."""
    for root in Path(tempfile.gettempdir()).glob("pp-faults-*"):
        if not (root / "owner.pid").exists() or _owner_alive(root):
            continue
        with contextlib.suppress(OSError, ValueError):
            group = int((root / "group.pid").read_text())
            # Only the node started from this directory, not a process that reused the id.
            if str(root).encode() in Path(f"/proc/{group}/environ").read_bytes():
                os.killpg(group, signal.SIGKILL)
        if (root / "data").exists():
            with contextlib.suppress(Exception):
                _run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                      str(root / "data"), "-m", "immediate", "stop"], timeout=30, check=False)
        shutil.rmtree(root, ignore_errors=True)


class PrivateRabbit:
    """One RabbitMQ node in a temporary directory, in the foreground: the test holds its process
    group and can `kill -9` it, then restart it on the same database (mnesia) directory."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pp-faults-rabbit-"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.node = f"pp-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        home = self.root / "home"
        home.mkdir()
        # The CLI authenticates with the cookie in $HOME: a private one, shared by both.
        cookie = home / ".erlang.cookie"
        cookie.write_text(uuid.uuid4().hex.upper())
        cookie.chmod(0o400)
        (self.root / "enabled_plugins").write_text("")
        (self.root / "env.conf").write_text("")
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        self.env = {
            **os.environ, "HOME": str(home), "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> None:
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        (self.root / "group.pid").write_text(str(self.proc.pid))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                tail = (self.root / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"private RabbitMQ exited at start:\n{tail}")
            # await_startup fails at once while the node is not yet registered with epmd.
            if _run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, "-q", "await_startup",
                     "--timeout", "30"], timeout=40, env=self.env, check=False) == 0 \
                    and self.accepts_amqp():
                return
            time.sleep(0.5)
        self.kill()
        raise RuntimeError(f"private RabbitMQ not ready within {timeout}s")

    def sync_metadata(self) -> None:
        """Flush the node's dets tables. RabbitMQ 3.10 keeps a new quorum queue's registration
        in a dets table saved lazily: after a `kill -9` shortly after the declaration the queue
        comes back without a leader and nacks every publish. Production queues are declared
        long before a crash; the test declares them seconds before, so it saves them here."""
        _run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, "-q", "eval",
              "[dets:sync(T) || T <- dets:all()]."], timeout=30, env=self.env)

    def accepts_amqp(self) -> bool:
        try:
            conn = amqp.Connection(host=f"127.0.0.1:{self.port}", connect_timeout=2)
            conn.connect()
            conn.close()
            return True
        except Exception:
            return False

    def kill(self) -> None:
        """`kill -9` of the whole node (the script, beam and its helpers)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster owned by the postgres user, on a free port."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pp-faults-pg-"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.port = free_port()
        pg = pwd.getpwnam("postgres")
        os.chown(self.root, pg.pw_uid, pg.pw_gid)
        self.data = self.root / "data"

    def _pg(self, tool: str, *args: str, timeout: float = 60.0) -> None:
        _run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args], timeout=timeout)

    def start(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w",
                 "-t", "30", "-o", f"-p {self.port} -k {self.root} "
                 "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start")

    def restart(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-m", mode, "restart")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"faults_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url().replace("postgresql://", "postgresql+psycopg2://"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                     timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_rabbit() -> Iterator[PrivateRabbit]:
    reap_orphans()
    node = PrivateRabbit()
    atexit.register(node.stop)  # also when the session dies without finalising fixtures
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    reap_orphans()
    cluster = PrivatePostgres()
    atexit.register(cluster.stop)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
