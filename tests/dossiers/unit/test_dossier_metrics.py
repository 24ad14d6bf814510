"""The dossiers service's own metrics count committed facts only."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.dossiers import handlers
from tests.dossiers.fakes import FakeUnitOfWork
from tests.dossiers.unit.test_dossier_handlers import ctx, native, send, t


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_completions_are_counted_by_unit_and_outcome() -> None:
    uow = FakeUnitOfWork()
    before = sample("parpulse_dossiers_completed_total", unit="H99.01", outcome="early")
    send(uow, native(2, t(5, 8), code="M-1"))
    send(uow, native(9, t(7, 10), code="M-1"))
    send(uow, native(9, t(7, 10), code="M-1"))  # the same statement again: nothing new
    after = sample("parpulse_dossiers_completed_total", unit="H99.01", outcome="early")
    assert after - before == 1


def test_sweep_publishes_open_dossiers_per_unit_and_state() -> None:
    uow = FakeUnitOfWork()
    send(uow, native(2, t(5, 8), code="M-2"))
    send(uow, native(2, t(5, 8), code="M-3", unit_code="H99.02"))
    # 1.005342 takes 10 working days: on 16 Oct at 09:00 both are due within the day.
    handlers.sweep(uow, ctx(t(16, 9)))
    assert sample("parpulse_dossiers_open", unit="H99.01", state="due_soon") == 1
    assert sample("parpulse_dossiers_open", unit="H99.02", state="due_soon") == 1
    handlers.sweep(uow, ctx(t(20, 9)))
    assert sample("parpulse_dossiers_open", unit="H99.01", state="overdue") == 1
    # Cleared, not left behind: no dossier is due soon any more.
    assert sample("parpulse_dossiers_open", unit="H99.01", state="due_soon") == 0
    assert sample("parpulse_sweeper_last_run_timestamp_seconds", service="dossiers") > 0
