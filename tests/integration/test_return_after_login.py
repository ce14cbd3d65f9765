"""Logging in or signing up from a chosen plot comes back to its Reserve panel (#pick), the
element the person was about to use, also when the address must be confirmed first."""

from __future__ import annotations

from urllib.parse import quote

from tests.support import csrf_of, make_customer

BACK = "/plans/1?plot=2#pick"


async def test_logging_in_returns_to_the_reserve_panel_it_left(client):
    await make_customer("back@example.com")
    token = await csrf_of(client, f"/login?next={quote(BACK)}")
    r = await client.post(
        "/login",
        data={"email": "back@example.com", "password": "correct horse", "next": BACK,
              "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == BACK


async def test_a_sign_up_sent_to_its_inbox_logs_in_back_to_the_reserve_panel(client):
    # An address already taken answers as one to confirm does (nothing to probe): the inbox.
    await make_customer("new@example.com")
    token = await csrf_of(client, f"/signup?next={quote(BACK)}")
    r = await client.post(
        "/signup",
        data={"name": "回来", "email": "new@example.com", "password": "correct horse",
              "next": BACK, "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/signup/sent?next=")
    sent = await client.get(r.headers["location"])
    assert f'href="/login?next={quote(BACK, safe="/")}"' in sent.text


async def test_the_inbox_page_never_links_to_another_site(client):
    sent = await client.get("/signup/sent?next=//evil.example/")
    assert "evil" not in sent.text and 'href="/login"' in sent.text
