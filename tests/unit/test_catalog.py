"""Every user-facing string in the code and templates has a Chinese translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_extracted_message_has_a_current_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "N_", "-o", str(pot), "farm", "scheduler", "templates"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        template = read_po(f)
    with (ROOT / "farm/locale/zh_CN/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if (
            found is None
            or not found.string
            or found.fuzzy
            or (isinstance(found.string, tuple) and not all(found.string))
        ):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert missing == [], f"{len(missing)} untranslated: {missing[:10]}"
