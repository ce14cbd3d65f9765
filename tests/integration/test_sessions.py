"""Server-side sessions (farm.accounts.sessions): the cookie carries only a random token, and
logging out, a password reset, a deactivation or "end all other sessions" end sessions on the
server, wherever their cookie was copied."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx

from farm.accounts import sessions, tokens
from farm.accounts.models import Role, Session
from farm.accounts.services import sign_up
from farm.admin import services as admin_services
from farm.subscriptions.models import Subscription
from tests.support import NOW, csrf_of, log_in_client, make_customer, make_season


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _cookie_data(cookie: str) -> dict:
    payload = cookie.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


async def test_a_cookie_copied_before_logout_no_longer_opens_the_account(client, app):
    await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    copied = client.cookies.get("farm_session")
    assert (await client.get("/account")).status_code == 200
    r = await client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    async with _client(app) as thief:
        thief.cookies.set("farm_session", copied)
        replay = await thief.get("/account")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


async def test_the_cookie_holds_only_the_session_token_and_the_table_only_its_hash(client):
    await make_customer()
    await log_in_client(client, "wang@example.com")
    data = _cookie_data(client.cookies.get("farm_session"))
    assert set(data) == {"sid"} and len(data["sid"]) >= 43  # 32 random bytes
    row = await Session.get()
    assert row.token_hash == sessions.token_hash(data["sid"]) and row.token_hash != data["sid"]
    assert row.ended_at is None and row.expires_at - row.created_at == timedelta(days=14)


async def test_the_session_cookie_is_httponly_and_samesite_lax(client):
    await make_customer()
    token = await csrf_of(client)
    r = await client.post(
        "/login",
        data={"email": "wang@example.com", "password": "correct horse", "csrf_token": token},
    )
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("farm_session="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


async def test_a_visitor_who_only_reads_pages_makes_no_session_row(client):
    await make_season()
    for path in ("/", "/login", "/signup"):
        assert (await client.get(path)).status_code == 200
    assert await Session.all().count() == 0


async def test_a_form_still_needs_the_sessions_csrf_token_after_logging_in(client):
    await make_customer()
    await log_in_client(client, "wang@example.com")
    r = await client.post("/logout", data={"csrf_token": "not-the-token"})
    assert r.status_code == 403
    assert (await client.get("/account")).status_code == 200  # still signed in


async def test_the_sessions_page_lists_devices_and_ends_all_others_but_this_one(client, app):
    await make_customer()
    async with _client(app) as phone:
        phone.headers["user-agent"] = (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
        )
        await log_in_client(phone, "wang@example.com")
        csrf = await log_in_client(client, "wang@example.com")
        page = await client.get("/account/sessions")
        assert page.status_code == 200 and "Chrome · Android" in page.text
        r = await client.post("/account/sessions/end-others", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/account/sessions?ended=1"
        assert (await phone.get("/account")).status_code == 303  # the phone is logged out
    assert (await client.get("/account")).status_code == 200  # this browser is not
    assert await Session.filter(ended_at__isnull=True).count() == 1


async def test_another_users_sessions_are_not_listed_nor_ended(client, app):
    await make_customer()
    await make_customer("li@example.com", "李")
    async with _client(app) as other:
        await log_in_client(other, "li@example.com")
        csrf = await log_in_client(client, "wang@example.com")
        page = await client.get("/account/sessions")
        assert page.text.count("<li>") == 1
        await client.post("/account/sessions/end-others", data={"csrf_token": csrf})
        assert (await other.get("/account")).status_code == 200


async def test_resetting_the_password_ends_every_other_session(client, app, settings):
    user = await make_customer()
    async with _client(app) as stolen:
        await log_in_client(stolen, "wang@example.com")
        link = tokens.make_token(secret=str(settings.secret_key), purpose=tokens.RESET, user=user)
        token = await csrf_of(client, f"/password/reset/{link}")
        r = await client.post(
            f"/password/reset/{link}", data={"password": "a new one!", "csrf_token": token}
        )
        assert r.status_code == 303
        assert (await stolen.get("/account")).status_code == 303
    assert (await client.get("/account")).status_code == 200  # the browser that reset it


async def test_deactivating_a_staff_account_ends_its_sessions_at_once(client, app):
    from farm.land.models import Cooperative

    coop = await Cooperative.create(name="社", name_en="Coop")
    boss = await sign_up(email="boss@coop.example", name="Boss", password="correct horse",
                         language="zh_CN", role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
    staff = await sign_up(email="two@coop.example", name="Two", password="correct horse",
                          language="zh_CN", role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
    await log_in_client(client, "two@coop.example")
    assert (await client.get("/manage")).status_code == 200
    await admin_services.set_active(user=boss, staff_id=staff.id, active=False, now=NOW)
    assert await Session.filter(user_id=staff.id, ended_at__isnull=True).count() == 0
    assert (await client.get("/manage")).status_code == 303


async def test_last_seen_is_written_at_most_every_few_minutes(conn):
    user = await make_customer()
    token = await sessions.open_session(user=user, user_agent="x", now=NOW)
    _user, opened = await sessions.session_user(token, now=NOW + timedelta(minutes=1))
    await sessions.seen(opened, now=NOW + timedelta(minutes=1))
    assert (await Session.get()).last_seen_at == NOW  # not yet
    await sessions.seen(opened, now=NOW + timedelta(minutes=6))
    assert (await Session.get()).last_seen_at == NOW + timedelta(minutes=6)


async def test_an_expired_session_opens_nothing_and_the_purge_deletes_it_twice_safely(conn):
    user = await make_customer()
    token = await sessions.open_session(user=user, user_agent="", now=NOW)
    ended = await sessions.open_session(user=user, user_agent="", now=NOW)
    await sessions.end_session(ended, now=NOW)
    later = NOW + sessions.LIFETIME + timedelta(seconds=1)
    assert await sessions.session_user(token, now=NOW + timedelta(days=13)) is not None
    assert await sessions.session_user(token, now=later) is None
    assert await sessions.session_user(ended, now=NOW) is None
    assert await sessions.purge(now=later) == 2
    assert await sessions.purge(now=later) == 0


async def test_a_reservation_replayed_with_a_logged_out_cookie_reserves_nothing(client, app):
    """The flash sale's path checks the session row in its one statement (PostgreSQL)."""
    plan = await make_season()
    await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    copied = client.cookies.get("farm_session")
    await client.post("/logout", data={"csrf_token": csrf})
    async with _client(app) as thief:
        thief.cookies.set("farm_session", copied)
        r = await thief.post(f"/plans/{plan.id}/reserve", data={"csrf_token": csrf})
    assert r.status_code in (303, 403) and "/checkout" not in r.headers.get("location", "")
    assert await Subscription.all().count() == 0


async def test_a_signed_in_customer_still_reserves_on_the_fast_path(client):
    plan = await make_season()
    await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    r = await client.post(f"/plans/{plan.id}/reserve", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/checkout/")
    assert await Subscription.all().count() == 1
