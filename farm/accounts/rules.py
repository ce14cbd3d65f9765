"""Pure account rules: what a valid email and password are, how long a guesser waits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from farm import forms
from farm.i18n import _

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
FAILURE_WINDOW = timedelta(minutes=15)
MAX_DELAY = timedelta(minutes=15)


def normalize_email(email: str) -> str | None:
    """The address lower-cased and trimmed, or None if it is not an email address."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL_RE.match(cleaned):
        return None
    return cleaned


def email(text: str) -> str:
    """An email address typed in a form, normalized; raises forms.Problem."""
    found = normalize_email(text)
    if found is None:
        raise forms.Problem("invalid", _("Enter a valid email address."))
    return found


def password(text: str) -> str:
    """A new password, as typed (spaces count); raises forms.Problem."""
    if len(text) < MIN_PASSWORD:
        raise forms.Problem("too_short", _("Use at least 8 characters."))
    if len(text) > MAX_PASSWORD:
        raise forms.Problem("too_long", _("Use at most 200 characters."))
    return text


def typed_password(text: str) -> str:
    """A password typed to log in, as typed; raises forms.Problem when nothing was."""
    if not text:
        raise forms.Problem("required", _("This field is required."))
    return text


def login_wait(*, failures: list[datetime], now: datetime, free_attempts: int) -> timedelta:
    """How long the next attempt must wait. The first `free_attempts` failures in the window
    cost nothing; each one after doubles the wait from 30 s, up to 15 minutes."""
    recent = sorted(f for f in failures if now - f < FAILURE_WINDOW)
    extra = len(recent) - free_attempts
    if extra < 0:
        return timedelta(0)
    # 30 s × 2^5 already passes the cap: a larger power only overflows timedelta.
    delay = min(timedelta(seconds=30 * 2 ** min(extra, 6)), MAX_DELAY)
    remaining = recent[-1] + delay - now
    return max(remaining, timedelta(0))


_BROWSERS = (  # the first that the user agent names, in this order (Edge says Chrome too)
    ("Edg/", "Edge"), ("MicroMessenger", "WeChat"), ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"),
)  # fmt: skip
_SYSTEMS = (
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
    ("Mac OS X", "macOS"), ("Linux", "Linux"),
)  # fmt: skip


def device_label(user_agent: str) -> str:
    """A short name for a session's browser ('Chrome · Android'), from its user agent; ''
    when it names none we know."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return " · ".join(part for part in (browser, system) if part)
