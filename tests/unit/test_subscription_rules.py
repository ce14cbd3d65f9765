from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm.errors import FieldErrors
from farm.land.rules import ship_days
from farm.phones import mobile_number
from farm.subscriptions import rules

START, END = date(2027, 3, 1), date(2028, 3, 1)
DAYS = ship_days(START, END, (1, 16))


def quote(today, price=58000, cutoff=2):
    return rules.refund_quote(
        price_fen=price,
        starts_on=START,
        ends_on=END,
        ship_days=DAYS,
        cutoff_days=cutoff,
        today=today,
    )


def test_cancelling_before_the_season_starts_refunds_everything():
    q = quote(date(2027, 2, 28))
    assert q is not None and q.refund_fen == 58000 and q.before_start


def test_after_the_start_the_refund_is_the_share_of_ship_days_not_yet_packed():
    # On 2027-03-15 the 16 March box is past its cutoff (14 March): 22 of 24 remain.
    q = quote(date(2027, 3, 15))
    assert q is not None and (q.undelivered, q.total) == (22, 24)
    assert q.refund_fen == 58000 * 22 // 24


def test_on_the_cutoff_day_that_ship_day_still_counts_as_undelivered():
    q = quote(date(2027, 3, 14))
    assert q is not None and q.undelivered == 23


def test_nothing_can_be_cancelled_once_the_season_ended_or_every_box_is_packed():
    assert quote(END) is None
    assert quote(date(2028, 2, 20)) is None


@given(
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 6, 1)),
    price=st.integers(1, 10**8),
)
def test_a_refund_is_never_more_than_the_price_and_never_grows_with_time(today, price):
    q = quote(today, price)
    if q is None:
        return
    assert 0 <= q.refund_fen <= price
    later = quote(today + timedelta(days=1), price)
    assert later is None or later.refund_fen <= q.refund_fen


def test_a_reservation_lapses_at_its_expiry_and_a_paid_claim_never_does():
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    expires = rules.reservation_expires_at(now=now, minutes=15)
    assert not rules.is_lapsed(expires_at=expires, now=now + timedelta(minutes=14))
    assert rules.is_lapsed(expires_at=expires, now=now + timedelta(minutes=15))
    assert not rules.is_lapsed(expires_at=None, now=now + timedelta(days=999))


def test_phone_numbers_are_normalised_to_11_digit_mainland_mobiles():
    assert mobile_number("138 0013 8000") == "13800138000"
    assert mobile_number("+8613800138000") == "13800138000"
    assert mobile_number("12345") is None
    assert mobile_number("23800138000") is None


def test_the_longest_address_the_form_takes_fits_the_one_declaration_every_table_shares():
    from farm.gifts.models import Gift
    from farm.shipments.models import Shipment
    from farm.subscriptions.models import ADDRESS_FIELDS, DeliveryAddress, Subscription

    assert all(issubclass(m, DeliveryAddress) for m in (Subscription, Gift, Shipment))
    declared = DeliveryAddress._meta.fields_map
    assert set(ADDRESS_FIELDS) <= set(declared)
    typed = {"recipient": "王" * 60, "phone": "13800138000", "province": max(rules.PROVINCES, key=len),
             "city": "城" * 40, "address": "路" * 200}  # fmt: skip
    clean = rules.read_address(**typed)
    for name in ADDRESS_FIELDS:
        assert len(clean[name]) <= declared[name].max_length, name
    for name in ("recipient", "city", "address"):  # one more character: refused, not cut
        with pytest.raises(FieldErrors) as refused:
            rules.read_address(**{**typed, name: typed[name] + "x"})
        assert set(refused.value.errors) == {name}


def test_an_address_needs_every_field_and_a_known_province():
    with pytest.raises(FieldErrors) as refused:
        rules.read_address(
            recipient="", phone="1", province="Atlantis", city="x", address="y" * 201
        )
    assert set(refused.value.errors) == {"recipient", "phone", "province", "address"}
    ok = rules.read_address(
        recipient=" 王 ", phone="138 0013 8000", province="上海", city="上海", address="路 1 号"
    )
    assert ok == {"recipient": "王", "phone": "13800138000", "province": "上海",
                  "city": "上海", "address": "路 1 号"}  # fmt: skip
