"""Mail delivered through a real SMTP server: aiosmtpd on 127.0.0.1 with STARTTLS (and a login),
with implicit TLS, and plain as a relay on this host, its certificate made by the test's own CA
(trustme). Every kind of mail the service sends is queued by the service that sends it and
delivered by SmtpMailer, with the standard headers and a plain-text and an HTML part."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from starlette.datastructures import Secret
from tortoise.transactions import in_transaction

from farm.accounts.models import Role, User
from farm.accounts.services import request_password_reset, sign_up
from farm.admin import services as admin
from farm.land.models import Cooperative, Plan, Season
from farm.letters import Letter
from farm.links import Links
from farm.mail import SmtpMailer, sender_domain
from farm.notifications.models import Notification
from farm.notifications.services import Unsubscribing, deliver_pending, queue_mail
from farm.settings import Settings
from farm.shipments import dispatch
from farm.shipments import services as shipments
from farm.vouchers import services as vouchers
from tests.integration.test_shipment_console import scene
from tests.integration.test_vouchers import with_perks
from tests.support import NOW, free_port, log_in_client

BASE = "https://farm.example"
SECRET = "a-test-secret-of-the-mail-delivery-tests"  # noqa: S105
DEC16 = date(2026, 12, 16)


class Inbox:
    """aiosmtpd's handler: keeps what it was given."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def by_to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def smtp(ca: trustme.CA) -> Iterator:
    """Starts SMTP servers: smtp("starttls" | "tls" | "plain") -> (port, inbox)."""
    started: list[Controller] = []

    def start(security: str) -> tuple[int, Inbox]:
        inbox, port = Inbox(), free_port()
        options: dict = {}
        if security == "starttls":

            def authenticate(server, session, envelope, mechanism, auth_data):
                inbox.logins.append(auth_data.login)
                return AuthResult(success=(auth_data.login, auth_data.password) == (b"farm", b"pw"))

            options = dict(
                tls_context=_server_tls(ca), require_starttls=True,
                authenticator=authenticate, auth_require_tls=True,
            )  # fmt: skip
        elif security == "tls":
            options = dict(ssl_context=_server_tls(ca))
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return port, inbox

    yield start
    for controller in started:
        controller.stop()


def smtp_settings(settings: Settings, port: int, security: str, ca_file: str = "") -> Settings:
    login = {"smtp_user": "farm", "smtp_password": Secret("pw")} if security == "starttls" else {}
    return settings.with_(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security=security, smtp_ca_file=ca_file,
        mail_from="noreply@farm.example", **login,
    )  # fmt: skip


def parts(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """(plain text, HTML, {content-id: image bytes}) of a delivered message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    images = {
        str(part["Content-ID"]).strip("<>"): part.get_content()
        for part in message.walk()
        if part.get_content_maintype() == "image"
    }
    return text, html, images


def links_in(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


async def queue_every_kind(language: str) -> tuple[User, dict[str, str]]:
    """Each kind of mail, queued by the service that sends it, to one family (and one invited
    manager); returns the family and {kind: key}."""
    manager, batch, full, _empty, subs, _lot = await scene()
    sub = subs[0]
    family = await User.get(id=sub.customer_id)
    family.language = language
    await family.save()
    links = Links(BASE)
    plan = await Plan.get(id=sub.plan_id)
    await with_perks(plan)
    async with in_transaction() as conn:  # activation and vouchers
        await vouchers.on_activated(subscription_id=sub.id, now=NOW, conn=conn, links=Links(BASE))
    await shipments.hold_ship_day(
        customer=family, subscription_id=sub.id, ship_on=DEC16, today=date(2026, 12, 1),
        now=NOW, links=links,
    )  # fmt: skip
    await dispatch.mark_shipped(
        manager=manager, batch_id=batch.id, shipment_id=full.id, courier="顺丰速运",
        tracking_no="SF1234567890", links=links, now=NOW,
    )  # fmt: skip
    await request_password_reset(
        email=family.email, secret=SECRET, links=links, now=NOW, queue_mail=queue_mail
    )
    season = await Season.get(id=plan.season_id)
    root = await sign_up(email="root@farm.example", name="Root", password="correct horse",
                         language="en", role=Role.ADMIN)  # fmt: skip
    await admin.invite_manager(
        user=root, cooperative_id=season.cooperative_id,
        data=admin.InvitationInput(email="new@coop.example"), language=language,
        secret=SECRET, links=links, now=NOW, queue_mail=queue_mail,
    )  # fmt: skip
    await queue_mail(
        user=family, key="announcement:1", now=NOW,
        render=lambda: Letter("announcement", "青山村：插秧节", {
            "cooperative": "青山村合作社", "text": "五月一日插秧，欢迎全家来地里。", "link": BASE,
        }),
        unsubscribing=Unsubscribing(links, SECRET),
    )  # fmt: skip
    keys = dict(await Notification.all().values_list("kind", "key"))
    return family, keys


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_every_kind_of_mail_is_delivered_over_starttls_with_standard_headers_and_both_parts(
    conn, settings, smtp, ca_file, language
):
    family, keys = await queue_every_kind(language)
    assert set(keys) == {
        "activated", "vouchers", "hold", "shipped", "reset", "invite", "announcement"
    }  # fmt: skip
    port, inbox = smtp("starttls")
    mailer = SmtpMailer(smtp_settings(settings, port, "starttls", ca_file))
    domain = sender_domain(mailer.settings)
    assert await deliver_pending(mailer=mailer, now=NOW, domain=domain) == 7
    assert inbox.logins and set(inbox.logins) == {b"farm"}
    assert await Notification.filter(sent_at__isnull=True).count() == 0
    queued = {n.kind: n for n in await Notification.all()}
    message_ids = set()
    for kind, note in queued.items():
        [message] = [m for m in inbox.by_to(note.to) if m["Subject"] == note.subject]
        # the standard headers, Chinese encoded and decoded back
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None, kind
        assert re.fullmatch(r"<[^@<>]+@farm\.example>", message["Message-ID"]), kind
        message_ids.add(message["Message-ID"])
        sender = message["From"].addresses[0]
        assert sender.addr_spec == "noreply@farm.example"
        assert sender.display_name == ("我家的地" if language == "zh_CN" else "Our Farm Plot")
        assert message["To"].addresses[0].addr_spec == note.to
        if language == "zh_CN":
            assert re.search(r"[\u4e00-\u9fff]", message["Subject"]), kind
        # an HTML part in the site's look, and a plain-text part with the same content
        text, html, images = parts(message)
        assert (
            "#2f6b2f" in html and ("我家的地" if language == "zh_CN" else "Our Farm Plot") in html
        )
        assert links_in(html), kind
        for link in links_in(html) - {note.unsubscribe}:
            assert link in text, (kind, link)
            # each link is a button: a styled anchor with the site's green
            assert re.search(
                rf'<a href="{re.escape(link)}" style="display:inline-block[^"]*background:#2f6b2f',
                html,
            ), (kind, link)  # noqa: E501
        assert ("List-Unsubscribe" in message) == (kind == "announcement"), kind
        if kind == "vouchers":
            cids = set(re.findall(r'src="cid:([^"]+)"', html))
            assert len(cids) == 3 and cids == set(images), images.keys()
            assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
            for code in re.findall(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", text):
                assert code in html
        else:
            assert not images, kind
    assert len(message_ids) == 7


async def test_implicit_tls_on_its_own_port_delivers_a_chinese_message(
    conn, settings, smtp, ca_file
):
    port, inbox = smtp("tls")
    family = await User.create(email="王@example.com".replace("王", "wang"), name="王小明",
                               password_hash="x", language="zh_CN")  # fmt: skip
    await queue_mail(user=family, key="k", render=lambda: ("重置密码", "你好，王小明"), now=NOW)
    mailer = SmtpMailer(smtp_settings(settings, port, "tls", ca_file))
    assert await deliver_pending(mailer=mailer, now=NOW, domain="farm.example") == 1
    [(_rcpt, message)] = inbox.received
    assert message["Subject"] == "重置密码" and "你好，王小明" in parts(message)[0]


async def test_a_relay_on_this_host_takes_mail_without_tls(conn, settings, smtp):
    port, inbox = smtp("plain")
    family = await User.create(email="li@example.com", name="李", password_hash="x")
    await queue_mail(user=family, key="k", render=lambda: ("s", "b"), now=NOW)
    mailer = SmtpMailer(smtp_settings(settings, port, "plain"))
    assert await deliver_pending(mailer=mailer, now=NOW) == 1
    assert [rcpt for rcpt, _m in inbox.received] == [["li@example.com"]]


async def test_a_server_whose_certificate_is_not_trusted_gets_nothing_and_the_mail_waits(
    conn, settings, smtp
):
    port, inbox = smtp("starttls")
    family = await User.create(email="li@example.com", name="李", password_hash="x")
    await queue_mail(user=family, key="k", render=lambda: ("s", "b"), now=NOW)
    mailer = SmtpMailer(smtp_settings(settings, port, "starttls"))  # the system's CAs only
    assert await deliver_pending(mailer=mailer, now=NOW) == 0
    assert inbox.received == [] and inbox.logins == []  # the password was not sent either
    note = await Notification.get(key="k")
    assert note.sent_at is None and note.failed_at is None and "CERTIFICATE" in note.last_error


# ---- retries ----


class Refusing:
    """Takes every message but those to one address, which it refuses."""

    def __init__(self, refused: str) -> None:
        self.refused, self.sent = refused, []

    async def send(self, mail) -> None:
        if mail.to == self.refused:
            raise ConnectionRefusedError("550 mailbox unavailable")
        self.sent.append(mail.to)


async def test_a_failing_message_is_retried_after_growing_waits_then_given_up_without_holding_others(
    conn,
):
    bad = await User.create(email="bad@example.com", name="坏", password_hash="x")
    good = await User.create(email="good@example.com", name="好", password_hash="x")
    await queue_mail(user=bad, key="bad", render=lambda: ("s", "b"), now=NOW)
    mailer = Refusing("bad@example.com")
    waits, at = [], NOW
    for n in range(4):
        await queue_mail(user=good, key=f"good{n}", render=lambda: ("s", "b"), now=at)
        assert await deliver_pending(mailer=mailer, now=at) == 1  # the others go on
        note = await Notification.get(key="bad")
        waits.append(note.claimed_until - at)
        assert (
            await deliver_pending(mailer=mailer, now=note.claimed_until - timedelta(seconds=1)) == 0
        )
        at = note.claimed_until + timedelta(seconds=1)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert mailer.sent == ["good@example.com"] * 4
    assert (await Notification.get(key="bad")).failed_at is None
    day_later = NOW + timedelta(days=1, minutes=1)
    assert await deliver_pending(mailer=mailer, now=day_later) == 0
    note = await Notification.get(key="bad")
    assert note.failed_at == day_later and note.sent_at is None and "550" in note.last_error
    assert await deliver_pending(mailer=mailer, now=day_later + timedelta(days=3)) == 0
    assert (await Notification.get(key="bad")).attempts == note.attempts  # not tried again


async def test_undelivered_mail_is_listed_for_its_cooperatives_managers_and_the_admin(app, client):
    mine, other = await Cooperative.create(name="青山村"), await Cooperative.create(name="绿水村")
    for coop, address in ((mine, "li@coop.example"), (other, "zhao@coop.example")):
        await sign_up(email=address, name="经理", password="correct horse", language="zh_CN",
                      role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
    await sign_up(email="root@farm.example", name="Root", password="correct horse",
                  language="en", role=Role.ADMIN)  # fmt: skip
    family = await User.create(email="lost@example.com", name="王", password_hash="x")
    await queue_mail(user=family, key="k", render=lambda: ("你的菜已发货", "b"), now=NOW,
                     cooperative_id=mine.id)  # fmt: skip
    day_later = NOW + timedelta(days=1)
    assert await deliver_pending(mailer=Refusing("lost@example.com"), now=day_later) == 0
    await log_in_client(client, "li@coop.example")
    page = await client.get("/manage/mail")
    assert page.status_code == 200 and "lost@example.com" in page.text and "550" in page.text
    client.cookies.clear()
    await log_in_client(client, "zhao@coop.example")
    page = await client.get("/manage/mail")
    assert page.status_code == 200 and "lost@example.com" not in page.text
    client.cookies.clear()
    await log_in_client(client, "root@farm.example")
    page = await client.get("/admin/mail")
    assert page.status_code == 200 and "lost@example.com" in page.text
    client.cookies.clear()
    anonymous = await client.get("/admin/mail")
    assert anonymous.status_code != 200 and "lost@example.com" not in anonymous.text
