"""Pure rules of corrections: the reason a manager must give, and what changed. No I/O."""

from __future__ import annotations

from collections.abc import Mapping

from farm import forms
from farm.i18n import _

MAX_REASON = 500


def reason(value: str) -> str:
    """Why a record is corrected: required, one paragraph of at most 500 characters.
    Raises forms.Problem."""
    if not value.strip():
        raise forms.Problem("required", _("Say why this is corrected."))
    return forms.text(value, limit=MAX_REASON, one_line=False)


def changes(
    before: Mapping[str, object], after: Mapping[str, object]
) -> tuple[dict[str, str], dict[str, str]]:
    """The values that differ, each side as text: what it was, and what it became."""
    changed = [k for k in after if str(before.get(k, "")) != str(after[k])]
    return (
        {k: str(before.get(k, "")) for k in changed},
        {k: str(after[k]) for k in changed},
    )
