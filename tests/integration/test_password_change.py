"""A signed-in user changes their password at /account/password (farm.accounts.password_change):
the current one first, the new one by the sign-up rules and typed twice; a wrong current
password changes nothing and counts against a limit; other devices are signed out, this one
stays, and the owner is mailed once."""

from __future__ import annotations

import httpx
import pytest

from farm.accounts.models import Attempt, Role, User
from farm.accounts.services import sign_up, verify_password
from farm.land.models import Cooperative
from farm.notifications.models import Notification
from tests.support import csrf_of, log_in_client, make_customer

NEW = "a brand new one"


def _browser(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def change(client, csrf, *, current="correct horse", new=NEW, confirm=None):
    data = {"current": current, "password": new, "confirm": new if confirm is None else confirm}
    return await client.post("/account/password", data={**data, "csrf_token": csrf})


async def log_in_status(app, email: str, password: str) -> int:
    async with _browser(app) as browser:
        token = await csrf_of(browser)
        data = {"email": email, "password": password, "csrf_token": token}
        return (await browser.post("/login", data=data)).status_code


async def test_changing_the_password_makes_the_new_one_work_and_the_old_one_fail(client, app):
    await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    page = await client.get("/account/password")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    r = await change(client, csrf)
    assert r.status_code == 303 and r.headers["location"] == "/account/password?changed=1"
    assert "密码已修改" in (await client.get(r.headers["location"])).text
    assert await log_in_status(app, "wang@example.com", "correct horse") == 400
    assert await log_in_status(app, "wang@example.com", NEW) == 303


async def test_a_wrong_current_password_is_refused_and_nothing_changes(client, app):
    user = await make_customer()
    async with _browser(app) as phone:
        await log_in_client(phone, "wang@example.com")
        csrf = await log_in_client(client, "wang@example.com")
        r = await change(client, csrf, current="not my password")
        assert r.status_code == 400 and "当前密码不正确" in r.text
        assert NEW not in r.text and "not my password" not in r.text  # nothing typed comes back
        assert (await phone.get("/account")).status_code == 200  # no one signed out
    await user.refresh_from_db()
    assert await verify_password(user.password_hash, "correct horse")
    assert not await Notification.filter(kind="password_changed").exists()
    assert await Attempt.filter(kind="password-change", key=str(user.id)).count() == 1


@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("short", "short", "password", "至少"),
        ("x" * 201, "x" * 201, "password", "最多"),
        (NEW, "a brand new on", "confirm", "两次输入的新密码不一致"),
    ],
)
async def test_a_weak_or_mistyped_new_password_is_refused_and_counts_no_attempt(
    client, new, confirm, field, message
):
    user = await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    r = await change(client, csrf, new=new, confirm=confirm)
    assert r.status_code == 422 and message in r.text and f'id="f-{field}"' in r.text
    await user.refresh_from_db()
    assert await verify_password(user.password_hash, "correct horse")
    assert not await Attempt.filter(kind="password-change").exists()
    assert not await Notification.filter(kind="password_changed").exists()


async def test_the_owner_is_mailed_once_in_their_language_that_the_password_changed(client):
    await make_customer()
    await User.filter(email="wang@example.com").update(language="en")
    csrf = await log_in_client(client, "wang@example.com")
    assert (await change(client, csrf)).status_code == 303
    [mail] = await Notification.filter(kind="password_changed")
    assert mail.to == "wang@example.com" and mail.subject == "Your password was changed"
    assert "every other device signed in to it was signed out" in mail.body
    assert "/password/forgot" in mail.body
    again = await change(client, csrf, current="correct horse", new="third one!")
    assert again.status_code == 400  # the old password no longer changes it: no second mail
    assert await Notification.filter(kind="password_changed").count() == 1


async def test_other_sessions_are_signed_out_and_this_one_stays(client, app):
    await make_customer()
    async with _browser(app) as phone, _browser(app) as laptop:
        await log_in_client(phone, "wang@example.com")
        await log_in_client(laptop, "wang@example.com")
        csrf = await log_in_client(client, "wang@example.com")
        assert (await change(client, csrf)).status_code == 303
        for other in (phone, laptop):
            r = await other.get("/account")
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (await client.get("/account")).status_code == 200


async def test_wrong_current_passwords_are_limited_and_then_even_the_right_one_waits(client):
    user = await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    for _ in range(5):
        assert (await change(client, csrf, current="guess")).status_code == 400
    r = await change(client, csrf, current="guess")
    assert r.status_code == 429 and "密码错误次数过多" in r.text
    r = await change(client, csrf)  # the right one waits too: a guesser cannot tell
    assert r.status_code == 429
    await user.refresh_from_db()
    assert await verify_password(user.password_hash, "correct horse")


async def test_a_right_current_password_is_not_counted(client):
    await make_customer()
    csrf = await log_in_client(client, "wang@example.com")
    assert (await change(client, csrf)).status_code == 303
    assert not await Attempt.filter(kind="password-change").exists()


async def test_staff_change_their_password_too(client, app):
    coop = await Cooperative.create(name="社", name_en="Coop")
    await sign_up(email="li@coop.example", name="李", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
    csrf = await log_in_client(client, "li@coop.example")
    assert (await change(client, csrf)).status_code == 303
    assert await log_in_status(app, "li@coop.example", NEW) == 303


async def test_a_visitor_is_sent_to_log_in(client):
    r = await client.get("/account/password")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
