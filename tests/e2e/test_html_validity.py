"""The Nu HTML Checker finds no error on any page a visitor, the demo customer, manager and
partner staff reach, in Chinese and English, nor on the forms shown again after a refused
submit. The pages are read from the app as the accessibility audit reads them.

vnu.jar is too large to vendor and CI cannot download it: the test runs only where it is
found (FARM_VNU_JAR, or `npm install --prefix /tmp/vnu vnu-jar`) and Java is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_accessibility import NOT_FOUND, demo_site, page_paths  # noqa: F401
from tests.support import CSRF_RE
from tests.walks import PEOPLE

VNU = Path(os.environ.get("FARM_VNU_JAR", "/tmp/vnu/node_modules/vnu-jar/build/dist/vnu.jar"))
LANGUAGES = ("zh_CN", "en")
# Forms shown again after a refused submit (422): their error summary and marked fields.
REFUSED = {
    None: [("/login", {"email": "", "password": ""}), ("/signup", {"name": "", "email": "x"})],
}


def _log_in(client: httpx.Client, email: str) -> None:
    token = CSRF_RE.search(client.get("/login").text)
    assert token
    data = {"email": email, "password": "correct horse", "csrf_token": token.group(1)}
    assert client.post("/login", data=data).status_code == 303


def _whole_page(r: httpx.Response) -> bool:
    return r.headers.get("content-type", "").startswith("text/html") and r.text.lstrip()[
        :15
    ].lower().startswith("<!doctype html")


def collect_pages(url: str, paths: list[str], out: Path) -> list[Path]:
    """Every page each person reaches, in both languages, saved into `out`."""
    saved: list[Path] = []
    public: set[str] = set()
    for who, email in PEOPLE.items():
        with httpx.Client(base_url=url, timeout=30) as client:
            if email:
                _log_in(client, email)
            for language in LANGUAGES:
                client.cookies.set("lang", language)
                for path in [*paths, NOT_FOUND] if not email else paths:
                    if email and path in public:
                        continue
                    r = client.get(path)
                    if not _whole_page(r) or (r.status_code != 200 and path != NOT_FOUND):
                        continue
                    if not email:
                        public.add(path)
                    saved.append(_save(out, who, language, path, r.text))
                for path, data in REFUSED.get(email, []):
                    token = CSRF_RE.search(client.get(path).text)
                    assert token
                    r = client.post(path, data={**data, "csrf_token": token.group(1)})
                    assert r.status_code == 422, path
                    saved.append(_save(out, who, language, f"{path} refused", r.text))
    return saved


def _save(out: Path, who: str, language: str, path: str, html: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{who} {language} {path}").strip("_") + ".html"
    target = out / name
    target.write_text(html)
    return target


def test_the_nu_html_checker_finds_no_error_on_any_page(settings, demo_site, tmp_path):  # noqa: F811
    java = shutil.which("java")
    if not VNU.exists() or not java:
        pytest.skip("vnu.jar or java not found (FARM_VNU_JAR)")
    url, ids = demo_site
    files = collect_pages(url, page_paths(settings, ids), tmp_path)
    assert len(files) >= 50
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    found = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')} "
        f"[{m.get('extract', '').strip()[:120]}]"
        for m in messages
        if m.get("type") == "error"
    ]
    assert not found, f"{len(found)} errors in {len(files)} pages:\n" + "\n".join(found)
