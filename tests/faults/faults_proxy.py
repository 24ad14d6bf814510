"""A TCP proxy between a service and the broker that can drop every connection, delay traffic
and blackhole (accept and keep connections open, forward nothing). Green threads: the test
process runs under eventlet.

Each socket is closed only by the one green thread that reads it; everyone else shuts it down,
which wakes that reader. eventlet is not told when a socket is closed under a waiting green
thread: its listener would stay registered on the file descriptor, and the next non-green user
of that number (a psycopg2 connection, a subprocess pipe) would fail with "Second simultaneous
read on fileno N"."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class FaultyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.delay = 0.0
        self.blackholed = False
        self.accepted = 0
        self.accepted_while_blackholed = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def uri(self, vhost_uri: str) -> str:
        """`vhost_uri` (amqp://user:pw@host:port/vhost) re-pointed at the proxy."""
        scheme, rest = vhost_uri.split("://", 1)
        creds, hostpath = rest.split("@", 1)
        path = hostpath.split("/", 1)[1] if "/" in hostpath else ""
        return f"{scheme}://{creds}@127.0.0.1:{self.port}/{path}"

    def _accept(self) -> None:
        try:
            self._accept_until_closed()
        finally:
            self.listener.close()

    def _accept_until_closed(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._closed:
                client.close()
                return
            self.accepted += 1
            self._track(client)
            if self.blackholed:
                self.accepted_while_blackholed += 1
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                self._release(client)
                continue
            self._track(server)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.blackholed:
                    continue  # the peer sees a live but silent connection
                if self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except (OSError, EOFError):  # eventlet raises EOFError for a socket closed under recv
            pass
        self._shut(dst)  # wakes the pump reading dst, which closes it
        self._release(src)

    def _swallow(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError, EOFError):
            while client.recv(65536):
                pass
        self._release(client)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _release(self, sock: socket.socket) -> None:
        """Called by the socket's reader once it has stopped reading."""
        with self._lock:
            self._sockets.discard(sock)
        self._shut(sock)
        sock.close()

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    def blackhole(self) -> None:
        self.blackholed = True

    def heal(self) -> None:
        """Back to forwarding; connections that lived through the blackhole are dropped (both
        ends have lost track of them), new ones are forwarded."""
        self.drop_all()
        self.blackholed = False
        self.delay = 0.0

    def close(self) -> None:
        self._closed = True
        self._shut(self.listener)  # wakes accept(); _accept closes the listener
        self.drop_all()
