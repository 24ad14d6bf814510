"""The dossier status machine over TrangThaiHoSo codes 1-10.

Messages arrive late, duplicated and out of order, so a dossier's history is checked for
*reachability*: a status may follow another if some chain of allowed steps leads there
(2 then 10 is fine, the 4 and 9 in between may still be on their way); it is impossible when
no chain does (anything after 10, going back to 1).
"""

from __future__ import annotations

from functools import cache

NAMES = {
    1: "submitted",
    2: "accepted",
    3: "refused at intake",
    4: "in processing",
    5: "supplement requested",
    6: "awaiting fee payment",
    7: "withdrawn",
    8: "processing suspended",
    9: "decided, result ready",
    10: "result returned",
}

NEXT: dict[int, frozenset[int]] = {
    1: frozenset({2, 3, 7}),
    2: frozenset({4, 5, 6, 7, 8, 9}),
    4: frozenset({4, 5, 6, 7, 8, 9}),
    5: frozenset({4, 6, 7, 8, 9}),
    6: frozenset({4, 5, 7, 8, 9}),
    8: frozenset({4, 5, 6, 7, 9}),
    9: frozenset({10}),
    3: frozenset(),
    7: frozenset(),
    10: frozenset(),
}

# Tie-break for reports stamped with the same instant (a sync often reuses the acceptance time
# for the processing status): the order in which the statuses can happen.
ORDER = {1: 0, 2: 1, 4: 2, 5: 3, 6: 3, 8: 3, 9: 4, 10: 5, 3: 6, 7: 6}

PAUSING = frozenset({5, 6, 8})
TERMINAL = frozenset({3, 7, 10})
CLOSED = frozenset({3, 7, 9, 10})
SUPPLEMENT = 5


def is_known(status: int) -> bool:
    return status in NEXT


@cache
def reachable(src: int, dst: int) -> bool:
    """True if `dst` can come after `src`. The same status again is a repeat, not a step."""
    if src == dst:
        return True
    seen: set[int] = set()
    frontier = [src]
    while frontier:
        for nxt in NEXT[frontier.pop()]:
            if nxt == dst:
                return True
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False


def describe(status: int) -> str:
    return f"{status} ({NAMES.get(status, 'unknown')})"
