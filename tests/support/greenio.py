"""A guard against green threads left waiting on a closed file descriptor.

eventlet is not told when a socket is closed under a green thread blocked on it. Its listener
stays registered on the number, and the next user of that number that eventlet did not open
(a psycopg2 connection, a subprocess pipe) fails with "Second simultaneous read on fileno N",
in whatever test happens to run next."""

from __future__ import annotations

import os

from eventlet import hubs


def stale_listeners() -> list[str]:
    """The hub's listeners whose file descriptor is closed, described for an assertion."""
    found = []
    for evtype, bucket in hubs.get_hub().listeners.items():
        for fileno, listener in list(bucket.items()):
            try:
                os.fstat(fileno)
            except OSError:
                found.append(f"{evtype} on closed fd {fileno}: {listener!r}")
    return found
