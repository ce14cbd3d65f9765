"""The partner console's pure rules: phone numbers, text fields, when a partner's kind is
fixed, and the redemption report's periods."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm import forms
from farm.partners import console_rules as rules
from farm.partners.models import PartnerKind
from farm.phones import MAX_CONTACT_PHONE, contact_phone

# ---- phone numbers: landlines and mobiles as people write them ----


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("", ""),
        ("   ", ""),
        ("0551-65432100", "0551-65432100"),
        ("  0551 6543  2100 ", "0551 6543 2100"),
        ("+86 138 0013 8000", "+86 138 0013 8000"),
        ("13800138000", "13800138000"),
        ("12345", "12345"),
        ("0551\u300065432100", "0551 65432100"),  # a full-width space typed with a Chinese IME
    ],
)
def test_a_landline_or_mobile_is_kept_as_written_with_its_spaces_tidied(text, shown):
    assert contact_phone(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "call me",
        "1234",  # too few digits to be a number
        "0551-6543+2100",  # '+' only leads
        "++86 138",
        "-0551 1234",
        "１３８００１３８０００",  # full-width digits
        "1" * 33,
        "(0551) 65432100",
    ],
)
def test_anything_but_digits_spaces_dashes_and_a_leading_plus_is_not_a_phone(text):
    assert contact_phone(text) is None


@given(st.text(max_size=60))
def test_a_phone_that_is_accepted_fits_its_column_and_reads_back_the_same(text):
    shown = contact_phone(text)
    if shown:
        assert len(shown) <= MAX_CONTACT_PHONE
        assert contact_phone(shown) == shown
        assert set(shown) <= set("0123456789 -+")


# ---- text fields and the kind (read by farm.forms) ----


def test_a_required_text_must_be_there_and_fit_its_limit_on_one_line():
    def code(text, **options):
        try:
            forms.text(text, **options)
        except forms.Problem as problem:
            return problem.code
        return None

    assert code("", limit=100, required=True) == "required"
    assert code("", limit=100) is None
    assert code("x" * 100, limit=100, required=True) is None
    assert code("x" * 101, limit=100) == "too_long"
    assert code("8:00–17:30，周一闭馆", limit=200) is None
    assert code("8:00\n17:30", limit=200) == "invalid"
    assert code("a\x07b", limit=200) == "invalid"


def test_the_kind_is_read_only_from_its_own_words():
    kinds = set(PartnerKind)
    assert forms.choice(" guesthouse ", kinds, message="") == "guesthouse"
    assert forms.choice("scenic_spot", kinds, message="") == "scenic_spot"
    for text in ("hotel", ""):
        with pytest.raises(forms.Problem):
            forms.choice(text, kinds, message="")


# ---- when the kind of a partner is fixed ----

NOTHING = {"perks": 0, "vouchers": 0, "bookings": 0, "rooms": 0}


def test_a_partner_nothing_depends_on_may_change_its_kind():
    assert rules.kind_change_problem(current="scenic_spot", new="guesthouse", **NOTHING) is None


@pytest.mark.parametrize("reason", ["perks", "vouchers", "bookings", "rooms"])
def test_plans_vouchers_bookings_or_rooms_fix_the_kind_and_say_which(reason):
    depends = {**NOTHING, reason: 1}
    found = rules.kind_change_problem(current="guesthouse", new="scenic_spot", **depends)
    assert found is not None and found.code == reason
    # Saving the same kind again is not a change, whatever depends on it.
    assert rules.kind_change_problem(current="guesthouse", new="guesthouse", **depends) is None


# ---- periods of the redemption report ----


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2026, 11, 23), (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2027, 1, 1), (date(2027, 1, 1), date(2027, 2, 1))),
    ],
)
def test_this_month_is_half_open_from_its_first_day_to_the_next_months(day, period):
    assert rules.month_of(day) == period


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_day_lies_in_its_month_and_months_follow_each_other(day):
    first, following = rules.month_of(day)
    assert first <= day < following
    assert rules.month_of(following)[0] == following


def test_local_days_become_utc_bounds_in_the_service_time_zone():
    start, end = rules.utc_bounds(date(2026, 11, 1), date(2026, 12, 1), "Asia/Shanghai")
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    # 1 December, 01:00 in Shanghai is still 30 November in UTC, and belongs to December.
    assert not start <= datetime(2026, 11, 30, 17, 0, tzinfo=UTC) < end
