"""The dashboard in a real headless Chromium (Debian's), against a stub of the gateway API:
Vietnamese by default, English on request, live SSE updates, drill-down, reconnection, layout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.gateway.browser.stub_gateway import StubGateway, entry
from tests.support.browser import CHROMIUM, chromium

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} missing: install Debian's chromium (apt-get install -y chromium)")

DEPT_ROWS = "#ranking-department tbody tr[data-unit]"


@pytest.fixture(scope="module")
def stub() -> Iterator[StubGateway]:
    gateway = StubGateway().start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, stub: StubGateway) -> Iterator[Page]:
    # A fresh context per test: empty localStorage, so Vietnamese is the default again.
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.goto(stub.url + "/")
    expect(tab.locator(DEPT_ROWS)).to_have_count(8)
    expect(tab.locator("#conn")).to_have_attribute("data-state", "live")
    yield tab
    context.close()
    assert errors == []  # no script error, no failed request


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"))


def ranking_event(period: str, entries: list[dict[str, Any]], version: int) -> dict[str, Any]:
    return {"type": "scoring.ranking_changed", "scheme": "qd766", "level": "department",
            "period": period, "as_of": "2026-11-12", "version": version, "entries": entries}


def test_loads_in_vietnamese_with_the_ranking_kpis_and_alerts(page: Page) -> None:
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.locator("#ranking-department-title")).to_have_text("Xếp hạng sở, ban, ngành")
    first = page.locator(DEPT_ROWS).first
    expect(first).to_have_attribute("data-unit", "H99.01")
    expect(first.locator("td.unit")).to_have_text("Sở Tư pháp")
    expect(first.locator("td.score")).to_have_text("93,4")
    expect(first.locator(".chip")).to_have_text("Xuất sắc")
    expect(first.locator("td.change .up")).to_have_text("▲ 1")
    expect(first.locator(".gbar")).to_have_count(6)
    unmeasured = page.locator(f"{DEPT_ROWS}[data-unit='H99.10']")
    expect(unmeasured.locator("td.score")).to_have_text("không đo")
    expect(unmeasured.locator("td.rank")).to_have_text("–")
    expect(page.locator(DEPT_ROWS).last).to_have_attribute("data-unit", "H99.10")
    expect(page.locator("#ranking-commune tbody tr[data-unit]")).to_have_count(6)
    expect(page.locator("#kpi-received")).to_have_text("1.284")
    expect(page.locator("#kpi-on-time")).to_have_text("93,8%")
    expect(page.locator("#kpi-overdue")).to_have_text("17")
    expect(page.locator("#alerts li")).to_have_count(3)
    expect(page.locator("#alerts li").first.locator(".kind")).to_have_text("Quá hạn")
    expect(page.locator("#alerts li[data-kind='quarantined_input'] .a-unit")).to_have_text(
        "Toàn tỉnh")
    expect(page.locator("#conn-label")).to_have_text("Trực tiếp")
    shot(page, "1920x1080")


def test_english_toggle_translates_and_is_remembered(page: Page) -> None:
    page.click("#lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("#ranking-department-title")).to_have_text("Department ranking")
    first = page.locator(DEPT_ROWS).first
    expect(first.locator("td.unit")).to_have_text("Department of Justice")
    expect(first.locator(".chip")).to_have_text("Excellent")
    expect(page.locator(f"{DEPT_ROWS}[data-unit='H99.10'] td.score")).to_have_text(
        "not measured")
    expect(page.locator("#alerts li").first.locator(".kind")).to_have_text("Overdue")
    expect(page.locator("#kpi-received")).to_have_text("1,284")
    expect(page.locator("#lang-toggle")).to_have_text("Tiếng Việt")
    expect(page.locator("#period option[data-kind='rolling']")).to_have_text("Last 30 days")
    shot(page, "en-1920x1080")
    page.reload()
    expect(page.locator("#ranking-department-title")).to_have_text("Department ranking")


def test_ranking_alert_and_kpi_events_update_the_page_live(page: Page, stub: StubGateway) -> None:
    period = page.locator("#period").input_value()
    moved = [entry("H99.03", 1, 95.0, 2), entry("H99.01", 2, 93.4, -1)]
    stub.push("ranking", ranking_event("2001-01", moved, 99))  # another period: ignored
    stub.push("ranking", ranking_event(period, moved, 2))
    first = page.locator(DEPT_ROWS).first
    expect(first).to_have_attribute("data-unit", "H99.03")
    expect(first.locator("td.unit")).to_have_text("Sở Xây dựng")  # name from /units
    expect(first.locator("td.score")).to_have_text("95,0")
    expect(first).to_have_class("flash")
    expect(page.locator(DEPT_ROWS)).to_have_count(2)
    stub.push("ranking", ranking_event(period, [entry("H99.05", 1, 10.0)], 1))  # stale version
    stub.push("alert", {"type": "notification.alert_raised", "alert": {
        "key": "completed_late:H99.01-261112-0001", "kind": "completed_late", "state": "open",
        "unit_code": "H99.01", "dossier_code": "H99.01-261112-0001",
        "raised_at": "2026-11-12T10:15:00+07:00", "details": {}}})
    newest = page.locator("#alerts li").first
    expect(newest).to_have_attribute("data-key", "completed_late:H99.01-261112-0001")
    expect(newest.locator(".kind")).to_have_text("Hoàn thành trễ hạn")
    expect(newest.locator(".a-unit")).to_have_text("Sở Tư pháp")
    stub.push("kpi", {"as_of": "2026-11-12T10:16:00+07:00", "received_today": 1290,
                      "on_time_rate": 0.5, "open_overdue": 18, "due_soon": 40, "open_total": 1})
    expect(page.locator("#kpi-overdue")).to_have_text("18")
    expect(page.locator("#kpi-on-time")).to_have_text("50,0%")
    expect(page.locator(DEPT_ROWS).first).to_have_attribute("data-unit", "H99.03")


def test_clicking_a_row_opens_the_unit_drill_down(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "1366x768")
    page.click(f"{DEPT_ROWS}[data-unit='H99.02']")
    panel = page.locator("#drilldown")
    expect(panel).to_be_visible()
    expect(page.locator("#drilldown-title")).to_have_text("Sở Tài chính")
    expect(page.locator("#scorecard tbody tr[data-indicator]")).to_have_count(4)
    unmeasured = page.locator("#scorecard tr[data-indicator='procedures_published']")
    expect(unmeasured).to_contain_text("không đo")
    expect(page.locator("#scorecard tr[data-indicator='online_filing']")).to_contain_text(
        "54 / 120")
    expect(page.locator("#costly li")).to_have_count(2)
    expect(page.locator("#overdue-dossiers li")).to_have_text(
        ["H99.02-261101-0042 1.002481 · hạn 17:00 10/11"])
    expect(page.locator(f"{DEPT_ROWS}[data-unit='H99.02']")).to_have_class("selected")
    shot(page, "drilldown-1366x768")
    page.set_viewport_size({"width": 1920, "height": 1080})
    shot(page, "drilldown-1920x1080")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_reconnects_after_the_stream_drops(page: Page, stub: StubGateway) -> None:
    page.evaluate("""() => {
        window.connStates = [];
        new MutationObserver(() => window.connStates.push(
            document.querySelector('#conn').dataset.state))
          .observe(document.querySelector('#conn'), {attributes: true});
    }""")
    last_id = stub.push("kpi", {"received_today": 7, "open_overdue": 1, "due_soon": 2})
    expect(page.locator("#kpi-received")).to_have_text("7")
    connects = len(stub.stream_requests)
    stub.drop_streams()
    for _ in range(100):  # the page reconnects within its retry delay (200 ms from the stub)
        if len(stub.stream_requests) > connects:
            break
        page.wait_for_timeout(50)
    # The browser resumed where it stopped: the stream's log holds no gap and no repeat.
    assert stub.stream_requests[connects:] == [str(last_id)]
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    assert "reconnecting" in page.evaluate("window.connStates")
    stub.push("kpi", {"received_today": 8, "open_overdue": 1, "due_soon": 2})
    expect(page.locator("#kpi-received")).to_have_text("8")


def test_single_column_below_1100_pixels(page: Page) -> None:
    page.set_viewport_size({"width": 1000, "height": 800})
    main = page.locator(".col-main").bounding_box()
    side = page.locator(".col-side").bounding_box()
    assert main and side
    assert side["y"] + side["height"] <= main["y"]  # stacked: alerts above the rankings
    assert abs(main["width"] - side["width"]) < 1
    shot(page, "1000x800")


def test_the_periods_follow_the_platforms_clock_not_the_browsers(page: Page,
                                                                  stub: StubGateway) -> None:
    # The stub's KPIs say 2026-11-12 (a demo's compressed clock may be months from today's
    # date): the dashboard opens on that month and asks for its rankings.
    expect(page.locator("#kpi-received")).to_have_text("1.284")
    expect(page.locator("#period")).to_have_value("2026-11")
    expect(page.locator("#period option[data-kind='month']")).to_have_text("Tháng 11/2026")
    quarter = page.locator("#period option[data-kind='quarter']")
    expect(quarter).to_have_attribute("value", "2026-Q4")
    assert any("period=2026-11" in r for r in stub.requests if r.startswith("/api/v1/rankings"))
    # The platform's clock moves into December: the page rolls over with it.
    stub.push("kpi", {"as_of": "2026-12-01T08:00:00+07:00", "received_today": 3,
                      "on_time_rate": None, "open_overdue": 0, "due_soon": 0, "open_total": 3})
    expect(page.locator("#period")).to_have_value("2026-12")
    expect(page.locator("#kpi-received")).to_have_text("3")
