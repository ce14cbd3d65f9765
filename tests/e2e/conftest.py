from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from farm import db
from farm.demo import load_demo
from farm.fieldwork.photos import PhotoStore
from farm.payments.emulator import register_webhook
from farm.settings import Settings
from farm.storage import storage_for
from tests import support

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("FARM_SCREENSHOTS", "data/screenshots"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.e2e)


async def _prepare(settings: Settings) -> None:
    await db.connect(settings)
    try:
        await support.wipe(settings)
        store = PhotoStore(storage_for(settings))  # the demo's field photos
        await load_demo(today=support.datetime.now(support.UTC).date(), store=store)
    finally:
        await db.close()


async def _wipe(settings: Settings) -> None:
    await db.connect(settings)
    try:
        await support.wipe(settings)
    finally:
        await db.close()


@pytest.fixture
def live_server(settings: Settings, stripe_port: int) -> Iterator[support.LiveServer]:
    """`farm web` with the demo loaded, and the emulator delivering webhooks to it."""
    asyncio.run(_prepare(settings))
    server = support.LiveServer(settings)
    register_webhook(
        port=stripe_port,
        url=f"{server.url}/stripe/webhook",
        secret=str(settings.stripe_webhook_secret),
        name="e2e",
    )
    try:
        yield server
    finally:
        register_webhook(port=stripe_port, url="http://127.0.0.1:9/", secret="x", name="e2e")
        server.stop()
        asyncio.run(_wipe(settings))


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                "/usr/bin/chromium is missing: `python3 dev.py test` installs it with apt-get"
            )
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
