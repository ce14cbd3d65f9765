"""Answers that stay safe when things go wrong: the database down, a bug in a page, and
production's transport settings."""

from __future__ import annotations

import httpx
import pytest
from tortoise import connections

from farm.app import create_app
from farm.land import routes as land_routes
from tests.support import log_in_client, make_customer

HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy",
           "content-security-policy")  # fmt: skip


@pytest.fixture
def database_down(monkeypatch):
    """Every query the app sends from now on fails as a refused connection would."""

    async def refused(*args, **kwargs):
        raise ConnectionRefusedError("database down")

    def take_down() -> None:
        conn = connections.get("default")
        for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many",
                     "execute_script"):  # fmt: skip
            monkeypatch.setattr(conn, name, refused)

    return take_down


async def test_healthz_is_503_not_500_when_the_database_is_down_and_a_session_cookie_is_sent(
    client, database_down
):
    await make_customer()
    await log_in_client(client, "wang@example.com")
    assert client.cookies.get("farm_session")
    database_down()
    r = await client.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}


async def test_a_500_page_carries_the_security_headers_and_no_traceback(app, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(land_routes.services, "open_offers", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/")
    assert r.status_code == 500
    assert "Traceback" not in r.text and "a bug" not in r.text
    for name in HEADERS:
        assert r.headers.get(name), name
    assert "strict-transport-security" not in r.headers  # not in development or tests


async def test_production_sends_hsts_and_secure_session_cookies_even_behind_an_http_base_url(
    settings, monkeypatch
):
    production = settings.with_(environment="production", base_url="http://farm.example")
    app = create_app(production)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            r = await c.get("/login")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    cookie = r.headers.get("set-cookie", "")
    assert "farm_session=" in cookie and "secure" in cookie.lower() and "httponly" in cookie.lower()


async def test_a_page_is_503_with_retry_after_not_500_when_the_database_is_down(app, database_down):
    database_down()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        page = await c.get("/")
        api = await c.get("/", headers={"accept": "application/json"})
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "暂时不可用" in page.text and "Traceback" not in page.text  # the default language
    for name in HEADERS:
        assert page.headers.get(name), name
    assert api.status_code == 503 and "暂时不可用" in api.json()["error"]


async def test_out_of_connections_counts_as_unreachable_and_a_bug_does_not():
    import asyncpg

    from farm import db

    try:
        try:
            raise asyncpg.TooManyConnectionsError("sorry, too many clients already")
        except asyncpg.TooManyConnectionsError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert db.is_unreachable(wrapped)
    assert not db.is_unreachable(RuntimeError("a bug"))
    assert not db.is_unreachable(ValueError("bad input"))
