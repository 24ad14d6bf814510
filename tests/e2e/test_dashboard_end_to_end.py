"""The whole product in a real headless Chromium: dossier events published to RabbitMQ go
through the dossiers and scoring services to the gateway, and the dashboard's ranking changes
live over SSE, without a reload. A screenshot is kept in artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from services.dossiers.service import DossiersService
from services.gateway.service import GatewayService
from services.scoring.service import ScoringService
from tests.dossiers.service.conftest import Inbound, native
from tests.support.browser import CHROMIUM, chromium
from tests.support.services import running, service_config

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ROW = "#ranking-department tbody tr[data-unit='{}']"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} missing: install Debian's chromium (apt-get install -y chromium)")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def platform(vhost: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """dossiers, scoring and the gateway on the real broker, each with its own database, on
    the real clock (the page picks the current month from the browser's date)."""
    common = {"RANKING_INTERVAL": 0.2, "KPI_INTERVAL": 0.2, "PUBLIC_RANKINGS": True}
    gateway = service_config(vhost, f"sqlite:///{tmp_path}/g.db", **common)
    with ExitStack() as stack:
        stack.enter_context(running(DossiersService, service_config(
            vhost, f"sqlite:///{tmp_path}/d.db", **common), migrate="dossiers"))
        stack.enter_context(running(ScoringService, service_config(
            vhost, f"sqlite:///{tmp_path}/s.db", **common), migrate="scoring"))
        stack.enter_context(running(GatewayService, gateway, migrate="gateway"))
        yield {"url": f"http://{gateway['WEB_SERVER_ADDRESS']}", "inbound": Inbound(vhost)}


def test_ranking_changes_live_when_a_dossier_event_is_published(
        platform: dict[str, Any], browser: Browser) -> None:
    inbound: Inbound = platform["inbound"]
    now = datetime.now(UTC)
    # Two departments, each with an accepted online dossier: both score the same.
    for unit, code in (("H99.01", "E2E-A"), ("H99.02", "E2E-B")):
        inbound.send(native(code, 2, now - timedelta(hours=3), unit_code=unit, channel=2))
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(platform["url"] + "/")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
    first, second = page.locator(ROW.format("H99.01")), page.locator(ROW.format("H99.02"))
    expect(first).to_have_attribute("data-rank", "1", timeout=20_000)
    expect(second).to_have_attribute("data-rank", "1", timeout=20_000)
    page.evaluate("window.__sameDocument = true")

    # H99.01 asks the applicant for a supplement twice: the dossier is late, its score drops.
    for status, hours in ((5, 2.5), (4, 2), (5, 1.5)):
        inbound.send(native("E2E-A", status, now - timedelta(hours=hours),
                            unit_code="H99.01", channel=2))
    expect(second).to_have_attribute("data-rank", "1", timeout=20_000)
    expect(first).to_have_attribute("data-rank", "2", timeout=20_000)
    expect(first.locator("td.change .down")).to_be_visible()  # moved down one place
    assert page.evaluate("window.__sameDocument") is True  # updated live, not reloaded
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-e2e.png"))
    context.close()
    assert errors == []
