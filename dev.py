#!/usr/bin/env python3
"""The two Quick start commands, on a machine that has only Python 3.11+:

python3 dev.py run    install what is needed into .venv, then start everything on
                      http://127.0.0.1:8000 (SQLite in ./data, demo data, Stripe emulator)
python3 dev.py test   install the test dependencies too, then run the whole suite on
                      SQLite and again on PostgreSQL (skipped if unreachable, except in CI)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def sh(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def must(*args: str | Path) -> None:
    if sh(*args) != 0:
        sys.exit(f"dev.py: failed: {' '.join(map(str, args))}")


def install(lock: str) -> None:
    """Create .venv and install the locked packages; skipped when nothing changed."""
    if sys.version_info < (3, 11):
        sys.exit("dev.py: Python 3.11 or newer is needed")
    if not PY.exists():
        must(sys.executable, "-m", "venv", VENV)
        must(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    stamp = VENV / f".installed-{lock}"
    digest = hashlib.sha256((ROOT / lock).read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    must(PY, "-m", "pip", "install", "--quiet", "-r", ROOT / lock)
    must(PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT)
    stamp.write_text(digest.hexdigest())


def ensure_chromium() -> None:
    """The end-to-end tests drive Debian's chromium; install it (and CJK fonts, so that
    screenshots show Chinese, and zbar-tools, to decode the QR codes we print) if we may."""
    fonts = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    have_all = CHROMIUM.exists() and fonts.exists() and shutil.which("zbarimg")
    if have_all or not shutil.which("apt-get"):
        return
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    prefix = [] if root else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    packages = ["chromium", "fonts-noto-cjk", "zbar-tools"]
    if sh(*prefix, "apt-get", "install", "-y", "-q", *packages, env=env) != 0:
        sh(*prefix, "apt-get", "update", "-q", env=env)
        sh(*prefix, "apt-get", "install", "-y", "-q", *packages, env=env)


def run() -> None:
    install("requirements.lock")
    os.execv(BIN / "farm", [str(BIN / "farm"), "dev", *sys.argv[2:]])


def test() -> None:
    install("requirements-test.lock")
    ensure_chromium()
    args = sys.argv[2:]
    status = sh(BIN / "pytest", *args, env={**os.environ, "FARM_TEST_DB": "sqlite"})
    if status != 0:
        sys.exit(status)
    print("\n=== the same suite on PostgreSQL (unit and browser tests already ran) ===", flush=True)
    pg_args = args or ["tests/integration"]
    status = sh(BIN / "pytest", *pg_args, env={**os.environ, "FARM_TEST_DB": "postgres"})
    sys.exit(status)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        run()
    elif command == "test":
        test()
    else:
        sys.exit(__doc__)
