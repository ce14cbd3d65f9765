"""A gift's pure rules: its claim code, the day it must be claimed by, its reminder day."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from farm.gifts import rules

SHIP_DAYS = [date(2027, 3, 1), date(2027, 3, 16), date(2027, 4, 1)]


def test_a_claim_code_is_four_groups_of_four_typable_characters_carrying_80_bits():
    code = rules.derive_code(secret="s" * 32, salt="ab" * 16)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert rules.CODE_BITS >= 80 and len(rules.ALPHABET) == 32


def test_codes_differ_by_salt_and_by_secret_and_are_stable():
    a = rules.derive_code(secret="s" * 32, salt="1" * 32)
    assert a == rules.derive_code(secret="s" * 32, salt="1" * 32)
    assert a != rules.derive_code(secret="s" * 32, salt="2" * 32)
    assert a != rules.derive_code(secret="t" * 32, salt="1" * 32)


@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
def test_a_code_typed_back_in_lowercase_with_spaces_or_misread_letters_is_the_same(salt):
    code = rules.derive_code(secret="s" * 32, salt=salt)
    plain = code.replace("-", "")
    assert rules.normalize_code(code) == plain
    typed = " ".join(code.lower().split("-")).replace("0", "o").replace("1", "l")
    assert rules.normalize_code(typed) == plain


def test_what_cannot_be_a_code_is_refused():
    for typed in (
        "",
        "ABCD-EFGH",
        "ABCD-EFGH-JKMN-PQRSTV",
        "ABCD-EFGH-JKMN-PQR!",
        "ABCD-EFGH-JKMN-PQRU",
    ):
        assert rules.normalize_code(typed) is None


def test_the_stored_hash_is_not_the_code():
    plain = rules.normalize_code(rules.derive_code(secret="s" * 32, salt="1" * 32))
    assert plain not in rules.code_hash(plain) and len(rules.code_hash(plain)) == 64


def test_a_gift_must_be_claimed_by_the_first_ship_day_after_it_was_paid():
    ends = date(2028, 3, 1)
    assert rules.claim_by(SHIP_DAYS, paid_on=date(2026, 12, 1), season_ends_on=ends) == date(
        2027, 3, 1
    )
    # paid on a ship day: the next one (that day's boxes are being made)
    assert rules.claim_by(SHIP_DAYS, paid_on=date(2027, 3, 1), season_ends_on=ends) == date(
        2027, 3, 16
    )
    assert rules.claim_by(SHIP_DAYS, paid_on=date(2027, 5, 1), season_ends_on=ends) == ends


def test_the_giver_is_reminded_a_week_before_but_not_in_the_first_three_days():
    assert rules.remind_on(paid_on=date(2026, 12, 1), claim_by=date(2027, 3, 1)) == date(
        2027, 2, 22
    )
    assert rules.remind_on(paid_on=date(2027, 2, 25), claim_by=date(2027, 3, 1)) == date(
        2027, 2, 28
    )
    assert rules.remind_on(paid_on=date(2027, 2, 28), claim_by=date(2027, 3, 1)) is None


def test_a_gift_state_reads_claimed_before_returned_before_waiting():
    assert rules.state(paid=False, claimed=False, returned=False) == "checkout"
    assert rules.state(paid=True, claimed=False, returned=False) == "waiting"
    assert rules.state(paid=True, claimed=True, returned=False) == "claimed"
    assert rules.state(paid=True, claimed=False, returned=True) == "returned"
