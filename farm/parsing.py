"""Reading values typed by people, shared by routes and services."""

from __future__ import annotations


def parse_id(raw: object) -> int | None:
    """A database id from user input: a positive 32-bit integer in ASCII digits, else None."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= 2**31 - 1 else None
