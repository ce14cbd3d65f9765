"""Static files under fingerprinted names: pages refer to them, they are cached for a year as
immutable, the plain name still answers (revalidated), and a fingerprint that is not the
file's current one is a 404 rather than an old or wrong file kept for a year. The stylesheet,
small, is put inline: no request blocks a page's first paint."""

from __future__ import annotations

import hashlib
import re

from farm.assets import Fingerprints
from farm.web import STATIC_DIR
from tests.support import make_season


def fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


async def test_pages_link_the_icon_by_its_content_fingerprint(client):
    html = (await client.get("/")).text
    linked = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert linked and linked.group(1) == f"/static/favicon.{fingerprint('favicon.svg')}.svg"


async def test_pages_carry_the_stylesheet_inline_so_nothing_blocks_their_first_paint(client):
    html = (await client.get("/")).text
    head = html[: html.index("</head>")]
    assert 'rel="stylesheet"' not in head
    style = re.search(r"<style>(.*?)</style>", head, re.S)
    assert style and style.group(1) == (STATIC_DIR / "site.css").read_text()


async def test_a_fingerprinted_file_is_served_immutable_for_a_year(client):
    r = await client.get(f"/static/site.{fingerprint('site.css')}.css")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"].startswith("text/css")
    assert r.content == (STATIC_DIR / "site.css").read_bytes()


async def test_the_plain_name_still_answers_but_is_revalidated(client):
    r = await client.get("/static/site.css")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert r.content == (STATIC_DIR / "site.css").read_bytes()


async def test_an_unknown_or_stale_fingerprint_is_not_found(client):
    stale = "0" * 12 if fingerprint("site.css") != "0" * 12 else "1" * 12
    for path in (
        f"/static/site.{stale}.css",
        f"/static/nothing.{stale}.css",
        "/static/nothing.css",
    ):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert "immutable" not in r.headers.get("cache-control", "")


async def test_the_plan_page_loads_its_script_by_fingerprint(client):
    plan = await make_season()
    html = (await client.get(f"/plans/{plan.id}")).text
    assert f'src="/static/fieldmap.{fingerprint("fieldmap.js")}.js"' in html
    r = await client.get(f"/static/fieldmap.{fingerprint('fieldmap.js')}.js")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]


def test_an_edited_file_gets_a_new_fingerprint_and_the_old_one_stops_answering(tmp_path):
    (tmp_path / "app.js").write_text("one")
    prints = Fingerprints(tmp_path)
    first = prints.url("app.js")
    (tmp_path / "app.js").write_text("two, longer")
    second = prints.url("app.js")
    assert first != second and re.fullmatch(r"/static/app\.[0-9a-f]{12}\.js", second)
    assert prints.plain_name(second.removeprefix("/static/")) == "app.js"
    assert prints.plain_name(first.removeprefix("/static/")) == ""


def test_an_inline_stylesheet_is_read_again_when_it_changes(tmp_path):
    (tmp_path / "a.css").write_text("p{}")
    prints = Fingerprints(tmp_path)
    assert prints.text("a.css") == "p{}"
    (tmp_path / "a.css").write_text("p{color:red}")
    assert prints.text("a.css") == "p{color:red}"


def test_a_fingerprint_never_reaches_outside_the_folder(tmp_path):
    (tmp_path / "inside").mkdir()
    (tmp_path / "secret.txt").write_text("no")
    prints = Fingerprints(tmp_path / "inside")
    assert prints.of("../secret.txt") is None
