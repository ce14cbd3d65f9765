"""Mail without I/O: transport settings, retry waits, bulk kinds, the QR code PNG, the MIME shape."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest

from farm.i18n import use_language
from farm.letters import Letter, compose
from farm.mail import Mail, mime_message
from farm.notifications import rules
from farm.qr import qr_matrix, qr_png
from farm.settings import SettingsError, load_settings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("security", "port"), [("starttls", 587), ("tls", 465), ("plain", 25), ("TLS", 465)]
)
def test_each_smtp_security_has_its_usual_port_unless_one_is_given(security, port):
    env = {"FARM_ENV": "development", "FARM_SMTP_SECURITY": security, "FARM_SMTP_HOST": "127.0.0.1"}
    assert load_settings(env).smtp_port == port
    assert load_settings(env | {"FARM_SMTP_PORT": "2525"}).smtp_port == 2525


def test_starttls_is_the_default_and_an_unknown_security_is_refused():
    assert load_settings({"FARM_ENV": "development"}).smtp_security == "starttls"
    with pytest.raises(SettingsError, match="FARM_SMTP_SECURITY"):
        load_settings({"FARM_ENV": "development", "FARM_SMTP_SECURITY": "ssl3"})


@pytest.mark.parametrize("host", ["smtp.qq.com", "10.0.0.5", "smtpdm.aliyun.com"])
def test_plain_smtp_is_refused_to_a_server_on_another_host(host):
    with pytest.raises(SettingsError, match="plain"):
        load_settings({"FARM_ENV": "development", "FARM_SMTP_SECURITY": "plain",
                       "FARM_SMTP_HOST": host})  # fmt: skip
    env = {"FARM_ENV": "development", "FARM_SMTP_SECURITY": "plain", "FARM_SMTP_HOST": "localhost"}
    assert load_settings(env).smtp_security == "plain"


def test_retry_waits_double_up_to_two_hours_and_a_day_old_message_is_given_up():
    waits = [rules.retry_at(attempts=n, now=NOW) - NOW for n in range(1, 12)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits == sorted(waits) and max(waits) == timedelta(hours=2)
    assert rules.retry_at(attempts=10_000, now=NOW) - NOW == timedelta(hours=2)
    assert not rules.gives_up(created_at=NOW, now=NOW + timedelta(hours=23, minutes=59))
    assert rules.gives_up(created_at=NOW, now=NOW + timedelta(days=1))


def test_only_bulk_kinds_follow_the_familys_choice():
    off = {"mail_photos": False, "mail_announcements": False}
    assert not rules.wants("announcement", preferences=off)
    assert not rules.wants("photos", preferences=off)
    for kind in ("activated", "vouchers", "hold", "shipped", "reset", "invite", "plain"):
        assert rules.wants(kind, preferences=off) and not rules.is_bulk(kind)


def _png_pixels(png: bytes) -> tuple[int, list[list[int]]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    size = int.from_bytes(png[16:20], "big")
    start = png.index(b"IDAT") + 4
    length = int.from_bytes(png[start - 8 : start - 4], "big")
    raw = zlib.decompress(png[start : start + length])
    stride = (size + 7) // 8 + 1
    rows = []
    for r in range(size):
        line = raw[r * stride : (r + 1) * stride]
        assert line[0] == 0  # no filter
        bits = int.from_bytes(line[1:], "big")
        width = (stride - 1) * 8
        rows.append([(bits >> (width - 1 - c)) & 1 for c in range(size)])
    return size, rows


def test_the_qr_png_draws_the_same_modules_as_the_pages_qr_code():
    text = "https://farm.example/v/ABCDEFGHJKLM"
    matrix = qr_matrix(text)
    size, pixels = _png_pixels(qr_png(text, scale=3))
    n = len(matrix)
    assert size == (n + 8) * 3
    for r in range(n):
        for c in range(n):
            dark = pixels[(r + 4) * 3 + 1][(c + 4) * 3 + 1] == 0
            assert dark == matrix[r][c]
    assert all(p == 1 for p in pixels[0])  # the quiet zone is white


def test_a_message_is_text_and_html_alternatives_with_its_images_related_to_the_html():
    with use_language("zh_CN"):
        letter = compose(Letter("plain", "你好", {"body": "见 https://farm.example/a"}))
    mail = Mail(to="王 <wang@example.com>", subject="你好", body=letter.text, html=letter.html,
                images={"qr-1": "https://farm.example/v/X"}, from_name="我家的地",
                message_id="<n-1@farm.example>", unsubscribe="https://farm.example/u/t")  # fmt: skip
    message = mime_message(mail, mail_from="noreply@farm.example", now=NOW)
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<qr-1>"
    assert message["Message-ID"] == "<n-1@farm.example>"
    assert message["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert message["List-Unsubscribe"] == "<https://farm.example/u/t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert '<a href="https://farm.example/a"' in letter.html
