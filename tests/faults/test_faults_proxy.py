"""The fault proxy itself: its green threads never outlive the sockets they read, and the
guard that would catch one that did (tests/support/greenio.py) does."""

from __future__ import annotations

import socket
import time

import eventlet
from eventlet import hubs

from tests.faults.faults_proxy import FaultyProxy
from tests.support.greenio import stale_listeners


def _echo_server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            eventlet.spawn_n(_echo, conn)

    eventlet.spawn_n(serve)
    return server, int(server.getsockname()[1])


def _echo(conn: socket.socket) -> None:
    while data := conn.recv(1024):
        conn.sendall(data)
    conn.close()


def test_proxy_leaves_no_reader_on_a_closed_socket() -> None:
    server, port = _echo_server()
    proxy = FaultyProxy(port)
    try:
        kept = socket.create_connection(("127.0.0.1", proxy.port))
        kept.sendall(b"ping")
        assert kept.recv(4) == b"ping"
        for _ in range(3):  # clients that hang up by themselves
            with socket.create_connection(("127.0.0.1", proxy.port)) as client:
                client.sendall(b"x")
                assert client.recv(1) == b"x"
        proxy.drop_all()
        assert kept.recv(4) == b"", "a dropped connection reads as closed"
        kept.close()
        proxy.close()
        time.sleep(0.2)  # the readers wake, close their sockets and end
        assert stale_listeners() == []
    finally:
        proxy.close()
        server.shutdown(socket.SHUT_RDWR)
        time.sleep(0.05)
        server.close()


def test_guard_reports_a_reader_left_on_a_closed_socket() -> None:
    a, b = socket.socketpair()
    reader = eventlet.spawn(a.recv, 1)
    eventlet.sleep(0)  # the reader registers on a's descriptor
    fileno = a.fileno()
    a.close()
    try:
        found = stale_listeners()
        assert any(f"closed fd {fileno}:" in line for line in found), found
    finally:
        hubs.get_hub().mark_as_reopened(fileno)  # what eventlet does when it reuses the number
        reader.kill()
        b.close()
    assert stale_listeners() == []
