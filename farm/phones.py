"""Phone numbers, read once: a family's mainland mobile (for the courier and its text
messages) and a partner's contact phone (a landline or a mobile, kept as written)."""

from __future__ import annotations

import re

MAX_CONTACT_PHONE = 32  # Partner.phone
MIN_CONTACT_DIGITS = 5  # a short local number; fewer is a typing slip
_MOBILE_RE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_CONTACT_RE = re.compile(r"\+?[0-9][0-9 \-]*", re.ASCII)
_SPACES = re.compile(r"\s+")


def mobile_number(text: str) -> str | None:
    """A mainland mobile number as its 11 digits (spaces, dashes and +86 dropped), or None."""
    cleaned = re.sub(r"[\s-]", "", text)
    if not _MOBILE_RE.match(cleaned):
        return None
    return cleaned[-11:]


def contact_phone(text: str) -> str | None:
    """A partner's phone as it will be shown: trimmed, runs of spaces made one; "" when none
    was given. None when it is not a phone number: only digits, spaces, '-' and a leading '+',
    at least MIN_CONTACT_DIGITS digits, at most MAX_CONTACT_PHONE characters."""
    cleaned = _SPACES.sub(" ", text.strip())
    if not cleaned:
        return ""
    if len(cleaned) > MAX_CONTACT_PHONE or not _CONTACT_RE.fullmatch(cleaned):
        return None
    if sum(ch.isdigit() for ch in cleaned) < MIN_CONTACT_DIGITS:
        return None
    return cleaned
