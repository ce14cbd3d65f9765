"""A refused form starts with a summary of its problems, which takes the focus when the page
loads and links to each field in error by the id that field carries."""

from __future__ import annotations

import re
from html import unescape

from tests.support import csrf_of

EN = {"accept-language": "en"}


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="error banner error-summary"([^>]*)>(.*?)</div>', html, re.S)
    assert summary, "no error summary"
    assert "autofocus" in summary.group(1) and 'tabindex="-1"' in summary.group(1)
    return [
        (target, unescape(text))
        for target, text in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(2))
    ]


async def test_a_refused_sign_up_summarises_each_field_in_error_with_a_link_to_it(client):
    token = await csrf_of(client, "/signup")
    r = await client.post(
        "/signup",
        data={"name": "", "email": "not an address", "password": "short", "csrf_token": token},
        headers=EN,
    )
    assert r.status_code == 422
    links = summary_links(r.text)
    assert {target for target, _ in links} == {"f-name", "f-email", "f-password"}
    assert any(text.startswith("Your name: ") for _, text in links)
    for target, _ in links:  # each link leads to the field itself, marked invalid
        field = re.search(rf'<input [^>]*id="{target}"[^>]*>', r.text)
        assert field and 'aria-invalid="true"' in field.group(0), target
    assert r.text.count("autofocus") == 1  # the summary is the only element to take focus
    body = r.text[r.text.index("<body>") :]
    assert body.index('class="error banner error-summary"') < body.index('name="name"')


async def test_a_refused_log_in_links_its_summary_to_the_email_field(client):
    token = await csrf_of(client)
    r = await client.post(
        "/login", data={"email": "", "password": "", "csrf_token": token}, headers=EN
    )
    assert r.status_code == 422
    targets = [target for target, _ in summary_links(r.text)]
    assert "f-email" in targets
    assert 'id="f-email"' in r.text


async def test_a_fresh_form_has_no_summary_and_its_fields_no_ids(client):
    html = (await client.get("/signup")).text
    assert 'class="error banner error-summary"' not in html
    assert 'id="f-' not in html and "autofocus" not in html


async def test_a_refused_delivery_address_summarises_its_fields_the_province_too(client):
    from tests.integration.test_payments import ADDRESS, reserved_with_address

    sub, token = await reserved_with_address(client)
    r = await client.post(
        f"/checkout/{sub.id}/address",
        data={**ADDRESS, "phone": "123", "province": "", "csrf_token": token},
    )
    assert r.status_code == 422
    links = summary_links(r.text)
    assert [target for target, _ in links] == ["f-phone", "f-province"]  # in the form's order
    assert links[1][1].startswith("省份：")  # the customer's language, its colon
    province = re.search(r'<select name="province"[^>]*>', r.text)
    assert province and 'id="f-province"' in province.group(0)
    assert 'aria-invalid="true"' in province.group(0)
