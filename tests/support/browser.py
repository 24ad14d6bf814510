"""Debian's chromium driven by Playwright, in a process that eventlet has monkey-patched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MISSING = f"{CHROMIUM} missing: install Debian's chromium (apt-get install -y chromium)"


def available() -> bool:
    return Path(CHROMIUM).exists()


@contextmanager
def chromium() -> Iterator[Browser]:
    # Not `with sync_playwright()`: under eventlet's monkey-patching Playwright's graceful stop
    # waits forever for its driver; the driver exits by itself with this process. Its event
    # loop, though, stays registered as this thread's running loop, which would break every
    # later asyncio user (aiosmtpd, the next Playwright start): unregister it when done.
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()
        asyncio.events._set_running_loop(None)
