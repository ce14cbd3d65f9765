"""A family's choice of bulk mail (its account, and the one-click unsubscribe link that works
without logging in), escaping in HTML mail, and the development outbox's view of a message."""

from __future__ import annotations

import re

import httpx
import pytest

from farm.accounts.models import User
from farm.letters import Letter
from farm.links import Links
from farm.notifications.models import Notification
from farm.notifications.services import Unsubscribing, deliver_pending, queue_mail
from tests.support import NOW, csrf_of, log_in_client, make_customer

BASE = "http://testserver"


def announcement(n: int = 1):
    return lambda: Letter(
        "announcement", f"通知 {n}", {"cooperative": "青山村合作社", "text": "插秧节", "link": ""}
    )


def unsubscribing(app) -> Unsubscribing:
    return Unsubscribing(Links(BASE), str(app.state.settings.secret_key))


async def test_bulk_mail_carries_a_one_click_unsubscribe_that_works_without_logging_in(app, client):
    family = await make_customer("wang@example.com")
    assert await queue_mail(user=family, key="a1", render=announcement(1), now=NOW,
                            unsubscribing=unsubscribing(app))  # fmt: skip
    note = await Notification.get(key="a1")
    assert note.unsubscribe.startswith(f"{BASE}/mail/unsubscribe/")
    assert note.unsubscribe in note.html and note.unsubscribe in note.body  # both footers
    await deliver_pending(mailer=app.state.mailer, now=NOW)
    [sent] = app.state.mailer.messages(to="wang@example.com")
    assert sent.unsubscribe == note.unsubscribe
    path = note.unsubscribe.removeprefix(BASE)
    # a mail scanner opening the link changes nothing
    page = await client.get(path)
    assert page.status_code == 200 and (await User.get(id=family.id)).mail_announcements
    # the mail client's one-click POST (RFC 8058): no cookie, no CSRF token
    client.cookies.clear()
    r = await client.post(
        path, content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert r.status_code == 200
    family = await User.get(id=family.id)
    assert not family.mail_announcements and family.mail_photos
    assert not await queue_mail(user=family, key="a2", render=announcement(2), now=NOW,
                                unsubscribing=unsubscribing(app))  # fmt: skip
    assert (await client.post(path)).status_code == 200  # again: still off, no error


async def test_a_forged_or_altered_unsubscribe_link_changes_nothing(app, client):
    family = await make_customer("wang@example.com")
    link = unsubscribing(app).link(family.id, "announcement")
    token = link.rsplit("/", 1)[1]
    other = Unsubscribing(Links(BASE), "another-secret-entirely").link(family.id, "announcement")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), other.rsplit("/", 1)[1],
                Unsubscribing(Links(BASE), str(app.state.settings.secret_key)).link(family.id, "reset").rsplit("/", 1)[1]):  # fmt: skip
        r = await client.post(f"/mail/unsubscribe/{bad}")
        assert r.status_code == 404
    assert (await User.get(id=family.id)).mail_announcements


async def test_mail_the_family_turned_off_after_it_was_queued_is_not_sent(app):
    family = await make_customer("wang@example.com")
    await queue_mail(user=family, key="a1", render=announcement(), now=NOW,
                     unsubscribing=unsubscribing(app))  # fmt: skip
    await User.filter(id=family.id).update(mail_announcements=False)
    assert await deliver_pending(mailer=app.state.mailer, now=NOW) == 0
    assert app.state.mailer.messages() == []


async def test_bulk_mail_cannot_be_queued_without_its_unsubscribe_link(conn):
    family = await make_customer("wang@example.com")
    with pytest.raises(ValueError, match="unsubscribe"):
        await queue_mail(user=family, key="a1", render=announcement(), now=NOW)


async def test_a_family_chooses_its_bulk_mail_in_its_account_and_transactional_mail_still_comes(
    app, client
):
    family = await make_customer("wang@example.com")
    await log_in_client(client, "wang@example.com")
    page = await client.get("/account")
    assert page.status_code == 200 and 'name="mail_photos"' in page.text
    token = await csrf_of(client, "/account")
    r = await client.post("/account/mail", data={"csrf_token": token, "mail_photos": "1"})
    assert r.status_code == 303
    family = await User.get(id=family.id)
    assert family.mail_photos and not family.mail_announcements
    assert (
        "checked" in re.search(r'name="mail_photos"[^>]*>', (await client.get("/account")).text)[0]
    )
    # without the CSRF token nothing changes
    r = await client.post("/account/mail", data={"mail_photos": "1", "mail_announcements": "1"})
    assert r.status_code == 403 and not (await User.get(id=family.id)).mail_announcements
    assert not await queue_mail(user=family, key="a1", render=announcement(), now=NOW,
                                unsubscribing=unsubscribing(app))  # fmt: skip
    assert await queue_mail(user=family, key="reset", render=lambda: ("重置密码", "b"), now=NOW)


async def test_html_mail_escapes_a_hostile_name_and_address(conn):
    from farm.accounts.services import request_password_reset

    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    family = await make_customer("evil@example.com", hostile)
    await request_password_reset(
        email="evil@example.com", secret="s" * 40, links=Links("https://farm.example"), now=NOW,
        queue_mail=queue_mail,
    )  # fmt: skip
    shipped = Letter("shipped", "你的菜", {
        "day": "2026-12-16", "courier": hostile, "tracking": hostile,
        "items": [(hostile, "5 kg")], "link": "https://farm.example/x",
    })  # fmt: skip
    await queue_mail(user=family, key="shipped", render=lambda: shipped, now=NOW)
    for note in await Notification.all():
        assert "<script" not in note.html and "<img src=x" not in note.html, note.kind
        assert "&lt;script&gt;" in note.html
        assert hostile in note.body  # the plain text is not HTML: shown as written


async def test_the_outbox_shows_the_html_in_a_sandboxed_frame_beside_the_plain_text(app, client):
    family = await make_customer("wang@example.com")
    voucher = Letter("vouchers", "你的券", {
        "name": family.name, "link": f"{BASE}/account",
        "vouchers": [{"label": "景区门票", "partner": "青山景区", "code": "ABCD-EFGH-JKLM",
                      "scan_url": f"{BASE}/v/ABCDEFGHJKLM", "valid_until": "2027-02-28"}],
    })  # fmt: skip
    await queue_mail(user=family, key="v", render=lambda: voucher, now=NOW)
    await deliver_pending(mailer=app.state.mailer, now=NOW)
    listing = await client.get("/dev/outbox")
    name = re.search(r'href="/dev/outbox/([^"]+)"', listing.text)[1]
    page = await client.get(f"/dev/outbox/{name}")
    assert page.status_code == 200
    frame = re.search(r"<iframe[^>]*>", page.text)[0]
    sandbox = re.search(r'sandbox="([^"]*)"', frame)[1]
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame)[1]
    assert "data:image/png;base64," in srcdoc and "cid:" not in srcdoc  # the QR code shows
    assert "ABCD-EFGH-JKLM" in page.text.split("<iframe", 1)[1].split("</iframe>", 1)[1]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # unchanged
    assert (await client.get("/dev/outbox/..%2Fsecrets")).status_code == 404
    lan = httpx.ASGITransport(app=app, client=("192.168.1.20", 50000))
    async with httpx.AsyncClient(transport=lan, base_url="http://testserver") as other:
        assert (await other.get(f"/dev/outbox/{name}")).status_code == 404
