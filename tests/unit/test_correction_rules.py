"""Pure rules of corrections: a reason is required, only what changed is kept, and no
household is paid for more than 24 hours in one day."""

from decimal import Decimal

import pytest

from farm import forms
from farm.audit import rules as audit_rules
from farm.fieldwork.rules import over_a_day


@pytest.mark.parametrize("typed", ["", "   ", "\n"])
def test_a_correction_without_a_reason_is_refused(typed):
    with pytest.raises(forms.Problem) as refused:
        audit_rules.reason(typed)
    assert refused.value.code == "required"


def test_a_reason_is_kept_trimmed_and_may_span_lines_but_not_too_long():
    assert audit_rules.reason("  typed 5000\nfor 5 ") == "typed 5000\nfor 5"
    with pytest.raises(forms.Problem):
        audit_rules.reason("x" * 501)


def test_only_the_values_that_changed_are_kept_before_and_after():
    before = {"activity": "weeding", "notes": "", "hours": "张家 20"}
    after = {"activity": "weeding", "notes": "", "hours": "张家 2"}
    assert audit_rules.changes(before, after) == ({"hours": "张家 20"}, {"hours": "张家 2"})
    assert audit_rules.changes(before, dict(before)) == ({}, {})


def test_a_household_over_24_hours_in_a_day_is_named_with_its_total():
    logged = {1: Decimal(20), 2: Decimal(4)}
    assert over_a_day(logged, [(1, Decimal(4)), (2, Decimal("20.25"))]) == {2: Decimal("24.25")}
    assert over_a_day(logged, [(1, Decimal("4.25"))]) == {1: Decimal("24.25")}
    assert over_a_day({}, [(3, Decimal(24))]) == {}  # exactly a day is allowed
