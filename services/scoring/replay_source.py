"""Reading a dossier export for replay: every line checked, only each dossier's latest kept.

A province-year is ~1M dossiers in ~10M lines, so nothing parsed is kept per dossier or per
line. Pass 1 validates every line, so a malformed one fails the replay with its file:line before
any table is touched (as the one-pass reader always did), but remembers only which line holds
each dossier's highest version: one dict entry per dossier, then one byte per line. Pass 2 reads
those lines again, in file order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import from_json

from services.contracts.dossiers import DossierSnapshot

_LINE_BITS = 32  # a line number fits below these bits of the packed (version, line) int
_LINE_MASK = (1 << _LINE_BITS) - 1


class _Carrier(BaseModel):
    """A dossier event, as far as replay cares."""

    model_config = ConfigDict(extra="ignore")
    dossier: DossierSnapshot


# The validators themselves: pass 1 runs once per line, and the model methods' wrapping costs
# a third as much again as the validation.
_snapshot_json: Any = DossierSnapshot.__pydantic_validator__.validate_json
_event_json: Any = _Carrier.__pydantic_validator__.validate_json


def parse_line(path: str | Path, number: int, line: bytes) -> DossierSnapshot:
    """One line: a DossierSnapshot, or a dossier event carrying it under "dossier"."""
    try:
        return _parse(line)
    except ValueError as exc:
        raise _not_a_snapshot(path, number, exc) from None


def _parse(line: bytes) -> DossierSnapshot:
    # Validating from JSON beats parsing to Python objects and validating those. Without a
    # backslash no key is escaped, so the raw bytes tell whether a "dossier" key can exist;
    # when one does but is not the top-level one, the carrier fails and the general rule below
    # (the top-level "dossier" if any, else the line itself) decides, as it always did.
    if b"\\" not in line:
        if b'"dossier"' not in line:
            return _snapshot_json(line)
        try:
            return _event_json(line).dossier
        except ValueError:
            pass
    doc = from_json(line)
    if isinstance(doc, dict):
        doc = doc.get("dossier", doc)
    return DossierSnapshot.model_validate(doc)


def _not_a_snapshot(path: str | Path, number: int, exc: ValueError) -> ValueError:
    # pydantic's ValidationError and invalid UTF-8 (we read bytes) are ValueErrors too.
    return ValueError(f"{path}:{number}: not a dossier snapshot: {exc}")


def each_line(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of every non-blank line. Bytes, not text: the JSON parser
    decodes UTF-8 itself, and a decoding error then carries the line number too."""
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.isspace():
                yield number, line


class LatestSnapshots:
    """Each dossier's highest version in an export; the first such line when it repeats,
    exactly as the ledger keeps the first of equal versions. Construction runs pass 1 (and
    raises on a malformed line); iterating runs pass 2, once."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._stamp = _stamp(path)
        best: dict[str, int] = {}  # dossier code -> version << _LINE_BITS | line number
        number = 0
        try:
            with open(path, "rb") as lines:
                for number, line in enumerate(lines, start=1):
                    if line.isspace():
                        continue
                    snapshot = _parse(line)
                    seen = best.get(snapshot.dossier_code)
                    if seen is None or snapshot.version > seen >> _LINE_BITS:
                        best[snapshot.dossier_code] = snapshot.version << _LINE_BITS | number
        except ValueError as exc:
            raise _not_a_snapshot(path, number, exc) from None
        if number > _LINE_MASK:
            raise ValueError(f"{path}: more than {_LINE_MASK} lines; split the export")
        self.dossiers = len(best)
        self._wanted = bytearray(number + 1)
        for packed in best.values():
            self._wanted[packed & _LINE_MASK] = 1

    def __len__(self) -> int:
        return self.dossiers

    def __iter__(self) -> Iterator[DossierSnapshot]:
        wanted, self._wanted = self._wanted, bytearray()
        if not wanted and self.dossiers:
            raise RuntimeError("LatestSnapshots can be iterated once")
        found, size = 0, len(wanted)
        with open(self.path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                if number < size and wanted[number]:
                    found += 1
                    yield parse_line(self.path, number, line)
        # The lines chosen in pass 1 are only right if pass 2 read the same file.
        if found != self.dossiers or _stamp(self.path) != self._stamp:
            raise ValueError(f"{self.path}: the file changed while it was being replayed")


def _stamp(path: str | Path) -> tuple[int, int, int]:
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns
