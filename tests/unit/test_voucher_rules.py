"""Voucher codes and validity."""

from __future__ import annotations

import math
from datetime import date

import pytest

from farm.vouchers import rules
from farm.vouchers.rules import VoucherState

SEASON = {"valid_from": date(2027, 3, 1), "valid_until": date(2028, 3, 1)}


def test_the_alphabet_leaves_out_look_alikes_and_gives_about_59_bits():
    assert not set("0O1IL") & set(rules.ALPHABET)
    assert len(set(rules.ALPHABET)) == len(rules.ALPHABET) == 31
    assert math.log2(len(rules.ALPHABET)) * rules.CODE_LENGTH > 59


def test_new_codes_are_12_characters_of_the_alphabet_and_differ():
    codes = {rules.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 12 and set(c) <= set(rules.ALPHABET) for c in codes)
    # every character of the alphabet turns up somewhere: the draw is not narrowed
    assert set("".join(codes)) == set(rules.ALPHABET)


def test_a_code_is_shown_in_groups_of_four():
    assert rules.format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


@pytest.mark.parametrize(
    "typed",
    ["ABCDEFGHJKMN", "abcd-efgh-jkmn", " abcd efgh jkmn ", "ABCD - EFGH - JKMN", "aBcDeFgHjKmN"],
)
def test_a_code_is_read_back_whatever_its_case_spaces_and_dashes(typed):
    assert rules.normalize_code(typed) == "ABCDEFGHJKMN"


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "ABCDEFGHJKM",  # 11
        "ABCDEFGHJKMNP",  # 13
        "ABCDEFGHJKM0",  # zero is not in the alphabet
        "ABCDEFGHJKMO",  # nor O
        "ABCDEFGHJKM1",
        "ABCDEFGHJKMI",
        "ABCDEFGHJKML",
        "ABCDEFGHJKMＮ",  # a full-width letter
        "ABCDEFGHJKMı",  # dotless i upper-cases to I
        "ABCDEFGHJKß",  # ß upper-cases to SS, making 12
        "ABCD_EFGH_JKMN",
        "ABCD/EFGH/JKMN",
        "A" * 12 + " " * 40,  # too long to bother with
    ],
)
def test_anything_that_is_not_a_code_normalizes_to_none(typed):
    assert rules.normalize_code(typed) is None


def test_formatting_then_normalizing_gives_the_code_back():
    code = rules.new_code()
    assert rules.normalize_code(rules.format_code(code)) == code
    assert rules.normalize_code(rules.format_code(code).lower()) == code


def test_a_voucher_is_valid_for_its_season_half_open():
    assert rules.validity(season_starts_on=date(2027, 3, 1), season_ends_on=date(2028, 3, 1)) == (
        date(2027, 3, 1),
        date(2028, 3, 1),
    )
    assert not rules.is_valid_on(**SEASON, today=date(2027, 2, 28))
    assert rules.is_valid_on(**SEASON, today=date(2027, 3, 1))
    assert rules.is_valid_on(**SEASON, today=date(2028, 2, 29))
    assert not rules.is_valid_on(**SEASON, today=date(2028, 3, 1))


@pytest.mark.parametrize(
    ("status", "today", "state"),
    [
        ("issued", date(2027, 2, 28), VoucherState.NOT_YET_VALID),
        ("issued", date(2027, 3, 1), VoucherState.VALID),
        ("issued", date(2028, 2, 29), VoucherState.VALID),
        ("issued", date(2028, 3, 1), VoucherState.EXPIRED),  # before the job marks it
        ("expired", date(2028, 3, 2), VoucherState.EXPIRED),
        ("redeemed", date(2027, 5, 1), VoucherState.REDEEMED),
        ("redeemed", date(2028, 5, 1), VoucherState.REDEEMED),  # used stays used
        ("void", date(2027, 5, 1), VoucherState.VOID),
        ("void", date(2028, 5, 1), VoucherState.VOID),
    ],
)
def test_a_vouchers_state_on_a_day(status, today, state):
    assert rules.voucher_state(status=status, **SEASON, today=today) == state


def test_only_a_voucher_still_usable_shows_its_qr_code():
    shown = {s for s in VoucherState if rules.shows_qr(s)}
    assert shown == {VoucherState.VALID, VoucherState.NOT_YET_VALID}


def test_missing_vouchers_are_each_perks_count_less_those_issued():
    perks = [(7, 2), (9, 1), (11, 0)]
    assert rules.missing_vouchers(perks, []) == [(7, 1), (7, 2), (9, 1)]
    assert rules.missing_vouchers(perks, [(7, 1), (9, 1)]) == [(7, 2)]
    assert rules.missing_vouchers(perks, [(7, 1), (7, 2), (9, 1)]) == []
    assert rules.missing_vouchers(perks, [(7, 3), (8, 1)]) == [(7, 1), (7, 2), (9, 1)]
