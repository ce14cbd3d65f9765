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


def test_a_name_kept_in_both_languages_is_shown_in_the_readers_falling_back_to_chinese():
    from farm.i18n import localized, use_language

    with use_language("en"):
        assert localized("番茄", "Tomatoes") == "Tomatoes"
        assert localized("番茄", "") == "番茄"  # no English name given: the Chinese one
        assert localized("番茄", None) == "番茄"
    with use_language("zh_CN"):
        assert localized("番茄", "Tomatoes") == "番茄"
