"""The mails a family gets for what they did: a welcome at sign-up, a password change, a
farm stay booked and cancelled. Each is queued once, as its own letter kind, in the
recipient's language, with links to the address the service is served on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from farm.accounts.models import User
from farm.notifications.models import Notification
from farm.notifications.services import deliver_pending
from farm.partners import bookings
from tests.integration.test_bookings import NIGHT, book, guesthouse, plots, subscriber
from tests.support import NOW, SHIP_SEASON, TODAY, csrf_of, make_customer, make_season


async def sign_up(client, email: str, language: str = "zh_CN"):
    client.cookies.set("lang", language)
    token = await csrf_of(client, "/signup")
    data = {"email": email, "name": "新人", "password": "correct horse", "csrf_token": token}
    return await client.post("/signup", data=data)


async def test_signing_up_queues_one_welcome_mail_in_the_new_customers_language(client, app):
    r = await sign_up(client, "new@example.com")
    assert r.status_code == 303
    [mail] = await Notification.filter(to="new@example.com")
    assert mail.kind == "welcome" and mail.key == f"welcome:{(await User.get()).id}"
    assert mail.subject == "欢迎来到我家的地" and "新人" in mail.body
    assert "http://127.0.0.1:8000/" in mail.body  # the plans, on FARM_BASE_URL
    assert "/email/confirm/" not in mail.body  # development: no confirmation needed
    await sign_up(client, "new@example.com")  # the address is taken now: its owner is told
    assert await Notification.filter(to="new@example.com", kind="welcome").count() == 1
    assert await Notification.filter(to="new@example.com", kind="signup_taken").count() == 1


async def test_an_english_sign_up_gets_the_welcome_in_english(client):
    await sign_up(client, "en@example.com", language="en")
    mail = await Notification.get(to="en@example.com")
    assert mail.subject == "Welcome to Our Farm Plot"


async def test_a_password_reset_mails_the_owner_once_that_the_password_changed(client, app):
    await make_customer("wang@example.com")
    token = await csrf_of(client, "/password/forgot")
    await client.post("/password/forgot", data={"email": "wang@example.com", "csrf_token": token})
    reset = await Notification.get(to="wang@example.com", kind="reset")
    path = re.search(r"http://\S+(/password/reset/\S+)", reset.body).group(1)
    r = await client.post(path, data={"password": "a brand new one", "csrf_token": token})
    assert r.status_code == 303
    token = await csrf_of(client, "/")  # signed in now: a new session, a new token
    again = await client.post(path, data={"password": "another new one", "csrf_token": token})
    assert again.status_code == 404  # the link is spent: no second change, no second mail
    [mail] = await Notification.filter(kind="password_changed")
    assert mail.to == "wang@example.com" and mail.subject == "您的密码已更改"
    assert "所有已登录的设备都已退出" in mail.body and "/password/forgot" in mail.body
    mailer = app.state.mailer
    await deliver_pending(mailer=mailer, now=datetime.now(UTC))
    assert [m.subject for m in mailer.messages(to="wang@example.com")].count("您的密码已更改") == 1


async def stay_world():
    plan = await make_season(**SHIP_SEASON)
    house = await guesthouse(plan)
    customer = await make_customer("wang@example.com")
    sub = await subscriber(plan, (await plots(plan))[0], customer=customer)
    return house, customer, sub


async def test_booking_a_stay_mails_it_once_in_chinese_and_cancelling_it_mails_that_once(conn):
    house, customer, sub = await stay_world()
    booking = await book(sub, house)
    again = await book(sub, house)  # the same form sent twice: one booking, one mail
    assert again.id == booking.id
    [booked] = await Notification.filter(kind="stay_booked")
    assert booked.key == f"stay_booked:{booking.id}" and booked.to == "wang@example.com"
    assert booked.subject == "您在青山农家民宿的农家民宿已预订"
    assert NIGHT.isoformat() in booked.body and "青山村东头" in booked.body
    assert "退房" in booked.body
    await bookings.cancel_booking(customer=customer, booking_id=booking.id, today=TODAY, now=NOW)
    [cancelled] = await Notification.filter(kind="stay_cancelled")
    assert cancelled.key == f"stay_cancelled:{booking.id}"
    assert "已取消" in cancelled.subject and NIGHT.isoformat() in cancelled.body


async def test_booking_through_the_page_links_to_the_stays_on_the_served_address(client):
    from tests.support import log_in_client

    house, _customer, sub = await stay_world()
    token = await log_in_client(client, "wang@example.com")
    r = await client.post(
        f"/account/subscriptions/{sub.id}/stays",
        data={"partner_id": house.id, "first_night": "2027-05-01", "nights": "1",
              "guests": "2", "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303, r.text
    mail = await Notification.get(kind="stay_booked")
    assert f"http://127.0.0.1:8000/account/subscriptions/{sub.id}/stays" in mail.body


async def test_in_development_without_a_base_url_mail_links_use_the_address_served(settings):
    """`farm web --port 8123` without FARM_BASE_URL: the links in mail point at port 8123."""
    import httpx

    from farm.app import create_app
    from tests import support

    app = create_app(settings.with_(base_url_from_request=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.5:8123") as c:
            try:
                await sign_up(c, "lan@example.com")
                mail = await Notification.get(to="lan@example.com")
                assert "http://192.168.1.5:8123/" in mail.body
                assert "127.0.0.1:8000" not in mail.body + mail.html
            finally:
                await support.wipe(settings)
