"""Test-wide fixtures. eventlet must patch the standard library before anything imports it:
nameko runs on eventlet, and unpatched sockets hang its tests."""

import warnings

warnings.filterwarnings("ignore", message=".*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from tests.support import broker, databases, greenio  # noqa: E402

AMQP_BASE = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672")
PG_ADMIN = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def vhost() -> Iterator[str]:
    """A fresh RabbitMQ vhost for one test, deleted afterwards: tests never see each other's
    queues. Yields the AMQP URI."""
    name = f"parpulse-test-{uuid.uuid4().hex[:10]}"
    broker.create_vhost(name)
    try:
        yield f"{AMQP_BASE}/{name}"
    finally:
        broker.delete_vhost(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: "os.PathLike[str]") -> Iterator[str]:
    """A fresh empty database of each kind the platform supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.db"
        return
    with databases.postgres_database(PG_ADMIN) as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with databases.postgres_database(PG_ADMIN) as url:
        yield url


@pytest.fixture(autouse=True)
def no_green_thread_left_on_a_closed_fd() -> Iterator[None]:
    """Fails the test that leaves a green thread waiting on a file descriptor it closed, rather
    than a later test that reuses the number (see tests/support/greenio.py)."""
    yield
    left = greenio.stale_listeners()
    assert not left, "green threads still wait on closed sockets:\n" + "\n".join(left)
