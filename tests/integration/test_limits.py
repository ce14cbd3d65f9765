"""Limits that hold across processes (farm.accounts.limits): failed logins per account and per
address, sign-ups and resets per address, resets per account; the owner's own browser is not
locked out by someone else's guesses; nothing reveals whether an account exists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from farm.accounts import limits
from farm.accounts.models import Attempt, User
from farm.mail import OutboxMailer
from farm.notifications.models import Notification
from tests import support
from tests.support import NOW, csrf_of, log_in_client, make_customer

WRONG = "wrong password!"


async def try_login(client: httpx.AsyncClient, email: str, password: str, token: str) -> int:
    data = {"email": email, "password": password, "csrf_token": token}
    return (await client.post("/login", data=data)).status_code


async def test_others_guesses_lock_the_account_but_not_its_owners_own_browser(client, app):
    await make_customer("wang@example.com")
    owner = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with owner:
        token = await log_in_client(owner, "wang@example.com")  # the owner's browser, before
        await owner.post("/logout", data={"csrf_token": token})
        attacker = await csrf_of(client)
        statuses = [await try_login(client, "wang@example.com", WRONG, attacker) for _ in range(7)]
        assert statuses == [400] * 5 + [429] * 2
        assert await try_login(client, "wang@example.com", "correct horse", attacker) == 429
        # The owner's browser carries its device cookie: counted on its own, it gets in.
        token = await csrf_of(owner)
        assert await try_login(owner, "wang@example.com", "correct horse", token) == 303
        assert (await owner.get("/account")).status_code == 200


async def test_a_password_reset_unlocks_a_locked_account(client, app):
    await make_customer("wang@example.com")
    token = await csrf_of(client)
    for _ in range(6):
        await try_login(client, "wang@example.com", WRONG, token)
    assert await try_login(client, "wang@example.com", "correct horse", token) == 429
    user = await User.get(email="wang@example.com")
    from farm.accounts import tokens

    secret = str(app.state.settings.secret_key)
    link = tokens.make_token(secret=secret, purpose=tokens.RESET, user=user)
    r = await client.post(
        f"/password/reset/{link}", data={"password": "a new one!", "csrf_token": token}
    )
    assert r.status_code == 303
    token = await csrf_of(client, "/")
    await client.post("/logout", data={"csrf_token": token})
    assert await try_login(client, "wang@example.com", "a new one!", await csrf_of(client)) == 303


async def test_one_address_spraying_passwords_over_many_accounts_is_stopped_after_20(client):
    for i in range(10):
        await User.create(email=f"c{i}@example.com", name="顾客", password_hash="x")
    token = await csrf_of(client)
    statuses = []
    for attempt in range(50):  # 5 passwords on each of 10 accounts
        email = f"c{attempt % 10}@example.com"
        statuses.append(await try_login(client, email, f"guess {attempt // 10}", token))
    assert statuses[:20] == [400] * 20
    assert set(statuses[20:]) == {429}
    r = await client.post("/login", data={"email": "c0@example.com", "password": "x",
                                          "csrf_token": token})  # fmt: skip
    assert "分钟" in r.text  # minutes, in the visitor's language


async def test_signups_from_one_address_are_limited_to_ten_an_hour(client):
    statuses = []
    for i in range(12):
        client.cookies.clear()
        token = await csrf_of(client, "/signup")
        r = await client.post("/signup", data={"email": f"n{i}@example.com", "name": "新人",
                                               "password": "correct horse", "csrf_token": token})  # fmt: skip
        statuses.append(r.status_code)
    assert statuses == [303] * 10 + [429] * 2
    assert await User.all().count() == 10


async def test_a_reset_says_the_same_for_known_and_unknown_emails_and_queues_at_most_three(
    client, app
):
    await make_customer("wang@example.com")
    token = await csrf_of(client, "/password/forgot")
    answers = set()
    for email in ["wang@example.com"] * 6 + ["ghost@example.com"]:
        r = await client.post("/password/forgot", data={"email": email, "csrf_token": token})
        answers.add((r.status_code, r.text.replace(email, "EMAIL")))
    assert len(answers) == 1 and next(iter(answers))[0] == 303
    assert await Notification.filter(to="wang@example.com").count() == 3
    assert await Notification.exclude(to="wang@example.com").count() == 0


async def test_a_reset_with_the_mail_server_down_answers_the_same_and_keeps_the_mail(
    client, app, monkeypatch
):
    await make_customer("wang@example.com")
    mailer: OutboxMailer = app.state.mailer

    async def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(mailer, "send", down)
    token = await csrf_of(client, "/password/forgot")
    known = await client.post("/password/forgot",
                              data={"email": "wang@example.com", "csrf_token": token})  # fmt: skip
    unknown = await client.post("/password/forgot",
                                data={"email": "ghost@example.com", "csrf_token": token})  # fmt: skip
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert await Notification.filter(to="wang@example.com", sent_at__isnull=True).count() == 1


async def test_old_attempts_are_purged_and_recent_ones_kept(conn):
    await Attempt.create(kind="login-account", key="ghost@example.com", at=NOW - timedelta(hours=2))
    await Attempt.create(kind="login-account", key="ghost@example.com", at=NOW)
    assert await limits.purge(now=NOW) == 1
    assert await Attempt.all().count() == 1


def browser(server: support.LiveServer, address: str) -> httpx.AsyncClient:
    """A browser at `address` (the proxy's X-Forwarded-For, which uvicorn trusts from
    127.0.0.1)."""
    return httpx.AsyncClient(base_url=server.url, timeout=120,
                             headers={"x-forwarded-for": address})  # fmt: skip


async def crowd_logins(server, addresses: list[str], emails: list[str]) -> list[int]:
    """One wrong password from each address at once."""
    browsers = [browser(server, a) for a in addresses]
    try:
        tokens = await asyncio.gather(*(csrf_of(b) for b in browsers))
        return list(await asyncio.gather(*(
            try_login(b, e, WRONG, t) for b, e, t in zip(browsers, emails, tokens, strict=True)
        )))  # fmt: skip
    finally:
        await asyncio.gather(*(b.aclose() for b in browsers))


@pytest.mark.postgres
async def test_100_concurrent_wrong_passwords_against_4_workers_check_exactly_5(conn, settings):
    await make_customer("wang@example.com")
    server = support.LiveServer(settings, workers=4)
    try:
        async with browser(server, "192.0.2.1") as owner:
            await log_in_client(owner, "wang@example.com")  # the owner's browser, known
            owner.cookies.delete("farm_session")
            addresses = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100)]
            statuses = await crowd_logins(server, addresses, ["wang@example.com"] * 100)
            assert statuses.count(400) == 5 and statuses.count(429) == 95
            async with browser(server, "198.51.100.7") as stranger:
                token = await csrf_of(stranger)
                assert await try_login(stranger, "wang@example.com", "correct horse", token) == 429
            token = await csrf_of(owner)
            assert await try_login(owner, "wang@example.com", "correct horse", token) == 303
    finally:
        server.stop()


@pytest.mark.postgres
async def test_100_concurrent_wrong_passwords_from_one_address_against_4_workers_check_exactly_20(
    conn, settings
):
    for i in range(25):
        await User.create(email=f"c{i}@example.com", name="顾客", password_hash="x")
    server = support.LiveServer(settings, workers=4)
    try:
        emails = [f"c{i % 25}@example.com" for i in range(100)]
        statuses = await crowd_logins(server, ["203.0.113.9"] * 100, emails)
        assert statuses.count(400) == 20 and statuses.count(429) == 80
    finally:
        server.stop()


@pytest.mark.postgres
async def test_100_concurrent_signups_from_one_address_against_4_workers_make_exactly_10(
    conn, settings
):
    server = support.LiveServer(settings, workers=4)
    try:
        browsers = [httpx.AsyncClient(base_url=server.url, timeout=120) for _ in range(100)]
        try:
            tokens = await asyncio.gather(*(csrf_of(b, "/signup") for b in browsers))

            async def sign_up(i: int) -> int:
                data = {"email": f"n{i}@example.com", "name": "新人", "password": "correct horse",
                        "csrf_token": tokens[i]}  # fmt: skip
                return (await browsers[i].post("/signup", data=data)).status_code

            statuses = await asyncio.gather(*(sign_up(i) for i in range(100)))
        finally:
            await asyncio.gather(*(b.aclose() for b in browsers))
        # Counted one after another: exactly ten through, never more, and never none (a
        # crowd whose attempts all saw each other in flight once starved itself).
        assert statuses.count(303) == 10 and statuses.count(429) == 90
        assert await User.all().count() == 10
    finally:
        server.stop()
