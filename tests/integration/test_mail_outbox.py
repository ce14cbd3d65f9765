"""Queued mail: once per key, sent once even by two senders at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from farm.notifications.models import Notification
from farm.notifications.services import LEASE, deliver_pending, queue_mail
from tests.support import NOW, make_customer


class SlowMailer:
    def __init__(self):
        self.sent: list[str] = []

    async def send(self, mail):
        await asyncio.sleep(0.3)
        self.sent.append(mail.subject)


async def test_a_key_is_queued_once(conn):
    user = await make_customer("m@example.com")
    assert await queue_mail(user=user, key="k", render=lambda: ("s", "b"), now=NOW)
    assert not await queue_mail(user=user, key="k", render=lambda: ("s2", "b2"), now=NOW)
    assert await Notification.all().count() == 1


async def test_two_senders_at_once_send_a_slow_message_once(conn):
    user = await make_customer("m@example.com")
    await queue_mail(user=user, key="k", render=lambda: ("s", "b"), now=NOW)
    mailer = SlowMailer()

    async def second():
        await asyncio.sleep(0.1)  # while the first is still talking to the mail server
        return await deliver_pending(mailer=mailer, now=NOW)

    counts = await asyncio.gather(deliver_pending(mailer=mailer, now=NOW), second())
    assert sorted(counts) == [0, 1] and mailer.sent == ["s"]
    assert await deliver_pending(mailer=mailer, now=NOW + timedelta(hours=1)) == 0


async def test_a_message_whose_sender_died_is_sent_after_its_lease(conn):
    user = await make_customer("m@example.com")
    await queue_mail(user=user, key="k", render=lambda: ("s", "b"), now=NOW)
    # A sender took it and died before sending.
    await Notification.filter(key="k").update(attempts=1, claimed_until=NOW + LEASE)
    mailer = SlowMailer()
    assert await deliver_pending(mailer=mailer, now=NOW + timedelta(minutes=1)) == 0
    assert await deliver_pending(mailer=mailer, now=NOW + LEASE + timedelta(seconds=1)) == 1


async def test_the_development_outbox_shows_mail_to_this_machine_only(app, client):
    import httpx

    from farm.mail import Mail

    await app.state.mailer.send(
        Mail(to="m@example.com", subject="重置密码", body="http://x/reset/SECRET-LINK")
    )
    mine = await client.get("/dev/outbox")
    assert mine.status_code == 200 and "重置密码" in mine.text
    [(name, _mail)] = app.state.mailer.entries()
    message = await client.get(f"/dev/outbox/{name}")
    assert message.status_code == 200 and "SECRET-LINK" in message.text
    lan = httpx.ASGITransport(app=app, client=("192.168.1.20", 50000))
    async with httpx.AsyncClient(transport=lan, base_url="http://testserver") as other:
        for path in ("/dev/outbox", f"/dev/outbox/{name}"):
            r = await other.get(path)
            assert r.status_code == 404 and "SECRET-LINK" not in r.text and "重置密码" not in r.text
