from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from farm import db
from farm.app import create_app
from farm.payments import emulator
from farm.settings import Settings
from tests import support


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = support.backend() == "postgres"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="runs in the PostgreSQL pass (FARM_TEST_DB=postgres)")
            )


@pytest.fixture(scope="session")
def stripe_port() -> Iterator[int]:
    port = support.free_port()
    # Stripe gives an intent created without its payment methods automatic payment methods,
    # and refuses to confirm it without a return_url. The gateway still does both (issue 16):
    # until it names its methods (allowed_payment_method_types), this emulator uses the older
    # card-only default. Remove the env once it does; test_stripe_emulator.py runs Stripe's.
    proc = emulator.start_process(port, env={"FARM_EMULATOR_AUTOMATIC_PAYMENT_METHODS": "off"})
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[support.TestDatabase]:
    """One migrated database for the session; tests empty it after themselves."""
    if support.backend() == "postgres" and not support.postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be reachable under CI (127.0.0.1:5432)")
        pytest.skip("PostgreSQL is not reachable")
    database = support.new_database(tmp_path_factory.mktemp("db"))
    database.create()
    import asyncio

    asyncio.run(
        db.migrate(Settings(database_url=database.url, data_dir=tmp_path_factory.mktemp("d")))
    )
    yield database
    database.drop()


@pytest.fixture
def settings(database: support.TestDatabase, stripe_port: int, tmp_path: Path) -> Settings:
    return support.test_settings(data_dir=tmp_path, db_url=database.url, stripe_port=stripe_port)


@pytest.fixture
async def conn(settings: Settings) -> AsyncIterator[None]:
    """The database, connected for services called directly; emptied afterwards."""
    await db.connect(settings)
    try:
        yield
    finally:
        await support.wipe(settings)
        await db.close()


@pytest.fixture
async def app(settings: Settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await support.wipe(settings)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
