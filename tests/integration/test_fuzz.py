"""Hostile form posts, as each person the app serves: no answer is a 500 or shows a traceback,
and a refused post writes nothing.

The forms are read from the app, as the walks do: every GET route, its path filled with ids
from the demo world, is asked for as each person, and every POST form on the pages that answer
is sent again with one field at a time replaced by a hostile value (huge, empty, wrong type,
invalid UTF-8, far-past and far-future dates, negative and huge numbers, markup, a NUL), with
its CSRF token; then every POST route no page offers a form for is sent garbage. After each
refused post (4xx) the row count of every table must be as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import httpx
import pytest
from tortoise import Tortoise, connections

from tests.support import csrf_of, log_in_client
from tests.walks import PEOPLE, demo_world, route_paths

HOSTILE: dict[str, str | list[str]] = {
    "empty": "",
    "huge": "界" * 40_000,  # 120 KB in UTF-8
    "negative": "-1",
    "huge number": "9" * 40,
    "not a number": "NaN",
    "overflowing float": "1e309",
    "far past": "0001-01-01",
    "far future": "9999-12-31",
    "no such day": "2026-02-30",
    "NUL": "a\x00b",
    "markup": "<script>alert(1)</script>",
    "twice": ["1", "2"],  # the same name sent twice: a list where one value is expected
}
# Sent to one field at a time too, the others as the page gave them.
ONE_AT_A_TIME = ("huge number", "far future", "not a number")
# Writes a refused post makes on purpose: a failed login is counted, and so is a sign-up
# refused for an email that has an account (or sign-ups could probe for accounts unlimited).
# A wrong gift claim code of the right shape is a guess: counted against the address.
# A wrong current password typed to change it is a guess too: counted against the account.
WRITES_WHEN_REFUSED = {
    "/login": {"attempts"}, "/signup": {"attempts"}, "/gift": {"attempts"},
    "/account/password": {"attempts"},
}  # fmt: skip
VISITOR_FORMS = ("/login", "/signup", "/password/forgot")
# Routes whose success would end the walk (the session) or that are not forms.
NOT_FUZZED = ("/logout",)
# Pages that only switch or redirect.
NOT_PAGES = ("/lang/{code}",)


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    offered: bool = True  # False: a POST route no page offers this person

    @property
    def key(self) -> tuple:
        return (self.action, tuple(sorted(self.fields)), tuple(self.files))


def sample(kind: str, attrs: dict[str, str]) -> str:
    """A value a person could type into an empty field of this kind, so that the others'
    hostile values reach the checks that come after it."""
    if kind == "date":
        return attrs.get("min") or (date.today() + timedelta(days=1)).isoformat()
    if kind == "number":
        return attrs.get("min") or "1"
    if kind == "email":
        return "fuzz@example.com"
    if kind == "tel":
        return "13800138000"
    if kind == "password":
        return "correct horse"
    return "测试" if kind in ("text", "search", "") else ""


class FormReader(HTMLParser):
    """The POST forms of a page: action, each named field with its value as the page gives
    it (the first option of a select, a checkbox only when checked), and file inputs."""

    def __init__(self, page: str):
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urlsplit(a.get("action") or self.page)
                self.current = Form(action.path + (f"?{action.query}" if action.query else ""))
            return
        form, name = self.current, a.get("name")
        if form is None or not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a or name not in form.fields:
                    form.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                form.fields[name] = a.get("value") or sample(kind, a)
        elif tag == "textarea":
            form.fields[name] = "测试"
        elif tag == "select":
            self.select = name
            form.fields.setdefault(name, "")
        elif tag == "option" and self.select and form.fields.get(self.select) == "":
            form.fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.current is not None:
            self.forms.append(self.current)
            self.current = None
        elif tag == "select":
            self.select = None


async def table_counts() -> dict[str, int]:
    """Every table's row count, in one statement."""
    tables = sorted(m._meta.db_table for m in Tortoise.apps["farm"].values())
    sql = "SELECT " + ", ".join(f'(SELECT COUNT(*) FROM "{t}") AS "{t}"' for t in tables)
    rows = await connections.get("default").execute_query_dict(sql)
    return {t: int(rows[0][t]) for t in tables}


def variants(form: Form) -> Iterator[tuple[str, dict | bytes]]:
    """(what was changed, the body without its CSRF token): one field at a time with each
    hostile value, then the form's own values sent as invalid UTF-8. A button (a form with no
    field) is sent only with a missing or huge token, which must change nothing."""
    fields = {n: v for n, v in form.fields.items() if n != "csrf_token"}
    if not form.offered:  # refused whatever is sent: garbage, twice
        yield "huge", {"x": HOSTILE["huge"]}
        yield "invalid UTF-8", b"x=%FF%FE"
        return
    if not fields:
        yield "no token", {"csrf_token": ""}
        yield "huge token", {"csrf_token": "x" * 100_000}
        return
    for label, value in HOSTILE.items():
        yield f"every field={label}", dict.fromkeys(fields, value)
    if len(fields) > 1:  # a field checked only once the others are right
        for name in fields:
            for label in ONE_AT_A_TIME:
                yield f"{name}={label}", {**fields, name: HOSTILE[label]}
    yield (
        "invalid UTF-8",
        "&".join(f"{quote(n)}=%FF%FE{quote(v)}" for n, v in fields.items()).encode(),
    )


async def post(
    client: httpx.AsyncClient, action: str, body: dict | bytes, token: str
) -> httpx.Response:
    """The body with the session's CSRF token, unless the body brings its own."""
    if isinstance(body, bytes):
        headers = {"content-type": "application/x-www-form-urlencoded"}
        content = f"csrf_token={quote(token)}&".encode() + body
        return await client.post(action, content=content, headers=headers)
    return await client.post(action, data={"csrf_token": token, **body})


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_hostile_form_posts_never_give_a_500_and_a_refused_post_writes_nothing(app, who):
    ids = await demo_world(datetime.now(UTC))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    problems: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        email = PEOPLE[who]
        token = await (log_in_client(client, email) if email else csrf_of(client))
        forms: dict[tuple, Form] = {}
        pages = route_paths(app.routes, ids, method="GET", skip=NOT_PAGES)
        for path in pages:
            r = await client.get(path)
            if r.status_code == 200 and r.headers.get("content-type", "").startswith("text/html"):
                reader = FormReader(path)
                reader.feed(r.text)
                for form in reader.forms:
                    action = urlsplit(form.action).path
                    # The visitor's forms (log in, sign up, reset) are fuzzed as the visitor.
                    if action not in NOT_FUZZED and not (email and action in VISITOR_FORMS):
                        forms.setdefault(form.key, form)
        offered = {urlsplit(f.action).path for f in forms.values()}
        for path in route_paths(app.routes, ids, method="POST", skip=NOT_FUZZED):
            if path not in offered and not (
                email and path in VISITOR_FORMS
            ):  # no page offers it to this person: garbage only
                forms[(path,)] = Form(path, offered=False)
        assert len(forms) >= (3 if email else 2), f"{who} found only {list(forms)}"
        session = client.cookies.get("farm_session")
        for form in forms.values():
            for change, body in variants(form):
                before = await table_counts()
                r = await post(client, form.action, body, token)
                where = f"{who}: POST {form.action} {change}"
                if r.status_code >= 500 or "Traceback" in r.text:
                    problems.append(f"{where}: {r.status_code}")
                elif r.status_code >= 400:
                    after = await table_counts()
                    allowed = WRITES_WHEN_REFUSED.get(urlsplit(form.action).path, set())
                    changed = sorted(t for t in after if after[t] != before[t] and t not in allowed)
                    if changed:
                        problems.append(f"{where}: {r.status_code} but wrote {changed}")
                if client.cookies.get("farm_session") != session:
                    # Signed up, in, or out (a hostile value accepted, or a reset): back to
                    # being this person, in a new session.
                    client.cookies.clear()
                    token = await (log_in_client(client, email) if email else csrf_of(client))
                    session = client.cookies.get("farm_session")
    sent = sum(1 for form in forms.values() for _ in variants(form))
    assert not problems, f"{len(problems)} of {sent} posts:\n" + "\n".join(problems)
