"""The dossiers service as a separate process that stops at a chosen point while applying one
chosen dossier, so the test can `kill -9` it exactly there (no hook in production code).

    FAULT_CONFIG='{...service config...}' FAULT_AT=before_commit|after_commit \
    FAULT_DOSSIER=<code> FAULT_MARKER=<file> python -m tests.faults.faults_worker
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

from nameko import config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

from services.common.dependencies import TransactionalStore  # noqa: E402
from services.dossiers.adapters.uow import DossiersUnitOfWork  # noqa: E402
from services.dossiers.service import DossiersService  # noqa: E402

FAULT_AT = os.environ.get("FAULT_AT", "")
FAULT_DOSSIER = os.environ.get("FAULT_DOSSIER", "")
MARKER = Path(os.environ.get("FAULT_MARKER", "/dev/null"))


class StallingUnitOfWork(DossiersUnitOfWork):
    """Stalls (for the kill) just before or just after committing the chosen dossier."""

    def commit(self) -> None:
        chosen = any(getattr(getattr(e, "dossier", None), "dossier_code", None) == FAULT_DOSSIER
                     for e in self.events)
        if chosen and FAULT_AT == "before_commit":
            self.session.flush()  # the effect is written, inside the open transaction
            MARKER.write_text(FAULT_AT)
            eventlet.sleep(3600)
        super().commit()
        if chosen and FAULT_AT == "after_commit":
            MARKER.write_text(FAULT_AT)  # committed; the message is not acked yet
            eventlet.sleep(3600)


class StallingDossiers(DossiersService):
    db = TransactionalStore("dossiers", uow_cls=StallingUnitOfWork)


def main() -> None:
    config.setup(json.loads(os.environ["FAULT_CONFIG"]))
    container = ServiceContainer(StallingDossiers)
    container.start()
    container.wait()


if __name__ == "__main__":
    main()
