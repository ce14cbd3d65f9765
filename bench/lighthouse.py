"""Lighthouse on the home page, a plan page, /account and /manage, on a phone and a desk, in
Chinese and English: each category's score, and the audits that cost points.

    npm install --prefix /tmp/lh lighthouse        # once; not in CI (it cannot download)
    .venv/bin/python bench/lighthouse.py [--lighthouse /tmp/lh/node_modules/.bin/lighthouse]
        [--port 8600] [--languages zh_CN en] [--minimum 98] [--out data/lighthouse]

A fresh SQLite database in a temporary folder is migrated and given the demo with its
accounts, then served by `farm web` (the production command) on 127.0.0.1:--port. The demo
customer and manager log in; Lighthouse gets their session cookie as an extra header. Chrome
is Debian's /usr/bin/chromium (CHROME_PATH), headless. Each report is kept in --out as JSON.
Exits 1 when a score is under --minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PEOPLE = {"customer": "demo@example.com", "manager": "li@coop.example"}
PASSWORD = "correct horse"  # the demo accounts' (farm/demo)


def farm(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "farm.cli", *args], env=env, check=True, cwd=ROOT)


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "farm.cli", "web", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("farm web did not start")


def session_cookie(url: str, email: str) -> str:
    with httpx.Client(base_url=url) as client:
        token = CSRF_RE.search(client.get("/login").text)
        assert token, "no CSRF token on /login"
        data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
        r = client.post("/login", data=data)
        assert r.status_code == 303, f"{email} could not log in: {r.status_code}"
        return client.cookies["farm_session"]


def run_lighthouse(binary: str, url: str, *, desktop: bool, cookie: str, report: Path) -> dict:
    command = [
        binary,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
        *(["--preset=desktop"] if desktop else ["--form-factor=mobile"]),
    ]
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(command, env=env, check=True, capture_output=True)
    return json.loads(report.read_text())


def costly_audits(result: dict) -> list[str]:
    """The audits that cost a category points: scored, weighted and not passed."""
    found = []
    for name in CATEGORIES:
        for ref in result["categories"][name]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
                found.append(
                    f"{name}: {ref['id']} ({audit['score']}) {audit.get('displayValue', '')}"
                )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", default="/tmp/lh/node_modules/.bin/lighthouse")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--languages", nargs="+", default=["zh_CN", "en"])
    parser.add_argument("--minimum", type=int, default=98)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "lighthouse")
    args = parser.parse_args()
    if not Path(args.lighthouse).exists():
        raise SystemExit(f"{args.lighthouse} not found: npm install --prefix /tmp/lh lighthouse")
    args.out.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="farm-lighthouse-") as data_dir:
        env = {
            **os.environ,
            "FARM_ENV": "development",  # the demo's accounts can log in
            "FARM_DATA_DIR": data_dir,
            "FARM_DATABASE_URL": f"sqlite://{data_dir}/farm.sqlite3",
            "PYTHONWARNINGS": "ignore",
        }
        farm(env, "migrate")
        farm(env, "demo")
        server = start_server(env, args.port)
        try:
            cookies = {who: session_cookie(url, email) for who, email in PEOPLE.items()}
            plan = re.search(r'href="(/plans/\d+)"', httpx.get(url + "/").text)
            assert plan, "no plan on the home page"
            pages = [
                ("/", None),
                (plan.group(1), None),
                ("/account", "customer"),
                ("/manage", "manager"),
            ]
            rows, below = [], []
            for language in args.languages:
                for path, who in pages:
                    cookie = f"lang={language}"
                    if who:
                        cookie += f"; farm_session={cookies[who]}"
                    for desktop in (False, True):
                        device = "desktop" if desktop else "mobile"
                        name = re.sub(r"\W+", "_", f"{path}_{language}_{device}").strip("_")
                        result = run_lighthouse(
                            args.lighthouse,
                            url + path,
                            desktop=desktop,
                            cookie=cookie,
                            report=args.out / f"{name or 'home'}.json",
                        )
                        if result.get("runtimeError"):
                            raise SystemExit(f"{path}: {result['runtimeError']}")
                        final = result.get("finalDisplayedUrl") or result.get("finalUrl", "")
                        assert final.startswith(url + path), f"{path} ended at {final}"
                        scores = [round(result["categories"][c]["score"] * 100) for c in CATEGORIES]
                        rows.append((path, language, device, scores))
                        print(f"{path:14} {language:6} {device:8}", *(f"{s:4}" for s in scores))
                        if min(scores) < args.minimum:
                            below.append(f"{path} {language} {device}")
                        for line in costly_audits(result):
                            print("    " + line)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("\npage           lang   device   " + " ".join(c[:4] for c in CATEGORIES))
    for path, language, device, scores in rows:
        print(f"{path:14} {language:6} {device:8}", *(f"{s:4}" for s in scores))
    if below:
        print(f"\nunder {args.minimum}: " + ", ".join(below))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
