from datetime import UTC, datetime, timedelta

import pytest

from farm import forms
from farm.accounts import rules

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_emails_are_trimmed_lower_cased_and_checked():
    assert rules.normalize_email("  Wang@Example.COM ") == "wang@example.com"
    assert rules.normalize_email("not an email") is None
    assert rules.normalize_email("a@b") is None


def test_passwords_need_8_to_200_characters():
    for text, code in (("short", "too_short"), ("x" * 201, "too_long")):
        with pytest.raises(forms.Problem) as refused:
            rules.password(text)
        assert refused.value.code == code
    assert rules.password("long enough") == "long enough"


def test_the_first_failed_logins_cost_no_wait():
    failures = [NOW - timedelta(seconds=s) for s in range(4)]
    assert rules.login_wait(failures=failures, now=NOW, free_attempts=5) == timedelta(0)


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_15_minutes():
    five = [NOW] * 5
    assert rules.login_wait(failures=five, now=NOW, free_attempts=5) == timedelta(seconds=30)
    assert rules.login_wait(failures=[NOW] * 6, now=NOW, free_attempts=5) == timedelta(seconds=60)
    assert rules.login_wait(failures=[NOW] * 40, now=NOW, free_attempts=5) == timedelta(minutes=15)
    # a crowd of guesses: capped, not an overflow
    assert rules.login_wait(failures=[NOW] * 500, now=NOW, free_attempts=5) == timedelta(minutes=15)


def test_failures_older_than_the_window_are_forgotten():
    old = [NOW - timedelta(minutes=16)] * 20
    assert rules.login_wait(failures=old, now=NOW, free_attempts=5) == timedelta(0)
