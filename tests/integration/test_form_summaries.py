"""Every form a person can reach in the demo, sent back empty: where it is refused with its
fields marked, the page starts with the error summary, which takes the focus and links to
each field in error by an id the page holds. The forms are read from the pages themselves,
so a new form is checked without asking."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from tests.support import log_in_client
from tests.walks import PEOPLE, demo_world, route_paths

NOT_PAGES = ("/logout", "/lang/{code}")
# Forms each person reached and saw refused when sent empty, on the demo of this writing
# (33 for the manager): a walk that stops reaching them fails instead of passing on nothing.
AT_LEAST_REFUSED = {"customer": 6, "manager": 28, "gate staff": 3, "guesthouse staff": 3,
                    "admin": 5}  # fmt: skip


class Forms(HTMLParser):
    """The page's POST forms: action and their fields, hidden ones with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._open = {"action": a.get("action"), "hidden": {}, "visible": []}
            self.forms.append(self._open)
        elif self._open is not None and tag in ("input", "select", "textarea") and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind == "hidden":
                self._open["hidden"][a["name"]] = a.get("value") or ""
            elif kind not in ("submit", "button", "file", "checkbox", "radio"):
                self._open["visible"].append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def summary_targets(html: str) -> list[str] | None:
    summary = re.search(r'<div class="error banner error-summary"([^>]*)>(.*?)</div>', html, re.S)
    if not summary:
        return None
    assert "autofocus" in summary.group(1) and 'tabindex="-1"' in summary.group(1)
    return re.findall(r'<a href="#([^"]+)">', summary.group(2))


@pytest.mark.parametrize("who", [w for w, email in PEOPLE.items() if email])
async def test_every_refused_form_starts_with_a_summary_linking_to_each_field_in_error(
    client, app, who
):
    ids = await demo_world(datetime.now(UTC))
    await log_in_client(client, PEOPLE[who])
    client.cookies.set("lang", "en")
    checked = set()
    missing, refused = [], []
    for path in route_paths(app.routes, ids, method="GET", skip=NOT_PAGES):
        page = await client.get(path)
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            continue
        parser = Forms()
        parser.feed(page.text)
        for form in parser.forms:
            action = form["action"] or path
            shape = (re.sub(r"\d+", "N", action), tuple(form["visible"]))  # one lot of many
            if not form["visible"] or shape in checked:
                continue  # a button (cancel, void, ship) is not a form to fill in
            checked.add(shape)
            data = {**form["hidden"], **{name: "" for name in form["visible"]}}
            r = await client.post(action, data=data)
            assert r.status_code != 500, (who, path, action)
            main = r.text[r.text.find("<main") :]  # the head's inline styles name has-error
            if r.status_code < 400 or not ('aria-invalid="true"' in main or "has-error" in main):
                continue
            refused.append(action)
            targets = summary_targets(r.text)
            if targets is None:
                missing.append(f"{path} -> {action}")
                continue
            if not targets:
                missing.append(f"{path} -> {action}: a summary linking to nothing")
            for target in targets:
                if f'id="{target}"' not in r.text:
                    missing.append(f"{path} -> {action}: no #{target}")
    assert not missing, "\n".join(missing)
    assert len(refused) >= AT_LEAST_REFUSED[who], refused  # the walk did check forms
