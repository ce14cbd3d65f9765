"""Farm stays: booking nights with farm-stay vouchers, cancelling before the cutoff, the
guesthouse's coming nights and check-in (which redeems the vouchers). A room is never booked
twice for a night, however many customers try at once (the PostgreSQL tests at the end)."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import pytest
from tortoise.transactions import in_transaction

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors, NotFound
from farm.land.models import Cooperative, PerkKind, Plan, PlanPerk, Plot, Season
from farm.lifecycle import completion
from farm.partners import bookings, checkin, rules
from farm.partners.models import Booking, BookingNight, BookingStatus, Partner, PartnerKind, Room
from farm.subscriptions.models import Status, Subscription
from farm.vouchers import services as voucher_services
from farm.vouchers.models import Voucher, VoucherStatus
from tests.support import (
    NOW,
    SHIP_SEASON,
    TODAY,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

TZ = "Asia/Shanghai"
TOMORROW = TODAY + timedelta(days=1)
NIGHT = TODAY + timedelta(days=7)  # 2026-11-30, a week ahead: cancellable until 11-28


@pytest.fixture(autouse=True)
def in_english(request):
    """These tests read the messages in English: services see it directly, pages by cookie."""
    from farm import i18n

    i18n.set_language("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.set("lang", "en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


async def guesthouse(plan: Plan, rooms=(("竹间", 2), ("大通铺", 4)), *, nights=2,
                     named=True, name="青山农家民宿") -> Partner:  # fmt: skip
    """A guesthouse of the plan's cooperative, its rooms, and a farm-stay perk of `nights`
    nights (naming the guesthouse, or any guesthouse of the cooperative)."""
    season = await Season.get(id=plan.season_id)
    house = await Partner.create(cooperative_id=season.cooperative_id, name=name,
                                 kind=PartnerKind.GUESTHOUSE, address="青山村东头")  # fmt: skip
    for room, capacity in rooms:
        await Room.create(partner=house, name=room, capacity=capacity)
    if nights:
        await PlanPerk.create(plan=plan, kind=PerkKind.FARM_STAY_NIGHT, count=nights,
                              partner=house if named else None)  # fmt: skip
    return house


async def subscriber(plan: Plan, plot: Plot, customer=None) -> Subscription:
    """An active subscription with its vouchers issued."""
    sub = await make_active_subscription(plan, plot, customer=customer)
    async with in_transaction() as conn:
        await voucher_services.issue_vouchers(subscription_id=sub.id, now=NOW, conn=conn)
    return sub


async def plots(plan: Plan) -> list[Plot]:
    return list(await Plot.filter(field_id=plan.field_id).order_by("code"))


async def owner(sub: Subscription) -> User:
    return await User.get(id=sub.customer_id)


async def staff_of(house: Partner, email: str = "desk@stay.example") -> User:
    return await sign_up(email=email, name="前台", password="correct horse", language="en",
                         role=Role.PARTNER_STAFF, partner_id=house.id)  # fmt: skip


async def book(sub: Subscription, house: Partner, *, first=NIGHT, nights=1, guests=2, today=TODAY):
    return await bookings.book_stay(
        customer=await owner(sub), subscription_id=sub.id, partner_id=house.id,
        first_night=first, nights=nights, guests=guests, today=today, now=NOW,
    )  # fmt: skip


async def world(**kw):
    """A season under way, a guesthouse with rooms, and wang@example.com subscribed with two
    farm-stay vouchers (unless told otherwise)."""
    plan = await make_season(**SHIP_SEASON)
    house = await guesthouse(plan, **kw)
    customer = await make_customer("wang@example.com")
    sub = await subscriber(plan, (await plots(plan))[0], customer=customer)
    return plan, house, sub


async def free_voucher_ids(sub: Subscription) -> set[int]:
    options = await bookings.stay_options(
        customer=await owner(sub), subscription_id=sub.id, today=TODAY
    )
    return {v.id for v in options.free_vouchers}


async def nothing_booked() -> bool:
    return await Booking.all().count() == 0 and await BookingNight.all().count() == 0


# ---- booking ----


async def test_a_stay_takes_one_voucher_a_night_and_the_smallest_room_that_fits(conn):
    _plan, house, sub = await world()
    vouchers = await Voucher.filter(subscription_id=sub.id, kind=PerkKind.FARM_STAY_NIGHT)
    assert len(vouchers) == 2 and await free_voucher_ids(sub) == {v.id for v in vouchers}

    booking = await book(sub, house, nights=2, guests=2)
    assert (booking.first_night, booking.nights, booking.guests) == (NIGHT, 2, 2)
    assert booking.status == BookingStatus.BOOKED and booking.created_at == NOW
    room = await Room.get(id=booking.room_id)
    assert room.name == "竹间"  # two guests: the room of two, not the room of four
    nights = await BookingNight.filter(booking_id=booking.id).order_by("night")
    assert [n.night for n in nights] == [NIGHT, NIGHT + timedelta(days=1)]
    assert {n.voucher_id for n in nights} == {v.id for v in vouchers}
    assert {n.room_id for n in nights} == {room.id}
    assert await free_voucher_ids(sub) == set()  # held, still issued
    assert await Voucher.filter(status=VoucherStatus.ISSUED).count() == 2
    with pytest.raises(Conflict, match="no free farm-stay voucher left"):
        await book(sub, house, first=NIGHT + timedelta(days=5))
    assert await Booking.all().count() == 1


async def test_three_guests_get_the_big_room_and_a_second_family_the_small_one(conn):
    plan, house, sub = await world()
    first = await book(sub, house, guests=3)
    assert (await Room.get(id=first.room_id)).name == "大通铺"
    other = await subscriber(plan, (await plots(plan))[1])
    second = await book(other, house, guests=1)
    assert (await Room.get(id=second.room_id)).name == "竹间"
    third = await subscriber(plan, (await plots(plan))[2])
    with pytest.raises(Conflict, match="No room for 1 guests is free"):
        await book(third, house, guests=1)
    assert await Booking.all().count() == 2


async def test_the_stays_page_shows_free_rooms_per_night_and_suggested_nights(conn):
    plan, house, sub = await world()
    await Room.create(partner=house, name="旧屋", capacity=6, active=False)  # takes no one
    other = await subscriber(plan, (await plots(plan))[1])
    await book(other, house, guests=4)
    crop = await make_crop(house.cooperative_id)
    plot = (await plots(plan))[0]
    # Harvested last year on the plot in ISO week 50 (Monday 2025-12-08 .. Sunday 12-14);
    # another field's harvest in week 51 suggests nothing here.
    await make_lot(crop, field_id=plan.field_id, plot_id=plot.id, grams=1000,
                   harvested_on=date(2025, 12, 10))  # fmt: skip
    elsewhere = await make_season(**SHIP_SEASON)
    await make_lot(crop, field_id=elsewhere.field_id, plot_id=None, grams=1000,
                   harvested_on=date(2025, 12, 17))  # fmt: skip
    options = await bookings.stay_options(
        customer=await owner(sub), subscription_id=sub.id, today=TODAY
    )
    assert options.nights[0] == TOMORROW and len(options.nights) == rules.HORIZON_NIGHTS
    (g,) = options.guesthouses
    assert g.partner.id == house.id and g.free_vouchers == 2 and g.max_capacity == 4
    assert [r.name for r in g.rooms] == ["竹间", "大通铺"]
    assert g.free_rooms[NIGHT] == 1 and g.free_rooms[TOMORROW] == 2
    # ship days are the 1st and 16th: Nov 28th .. Dec 4th are within three days of Dec 1st,
    # Dec 13th .. 19th of Dec 16th; the week of last year's harvest is Dec 7th .. 13th.
    suggested = {d for d in options.suggested if d < date(2026, 12, 25)}
    assert suggested == {date(2026, 11, 28) + timedelta(days=i) for i in range(22)} - {
        date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 20)}  # fmt: skip
    assert options.can_book


async def test_a_voucher_naming_no_guesthouse_is_good_at_every_guesthouse_of_the_cooperative(
    conn,
):
    plan = await make_season(**SHIP_SEASON)
    house = await guesthouse(plan, named=False)
    second = await guesthouse(plan, nights=0, name="山顶民宿")
    other_coop = await Cooperative.create(name="别的合作社")
    foreign = await Partner.create(cooperative=other_coop, kind=PartnerKind.GUESTHOUSE,
                                   name="外村民宿")  # fmt: skip
    await Room.create(partner=foreign, name="A", capacity=2)
    await Partner.create(cooperative_id=house.cooperative_id, kind=PartnerKind.SCENIC_SPOT,
                         name="景区")  # fmt: skip
    sub = await subscriber(plan, (await plots(plan))[0])
    options = await bookings.stay_options(customer=await owner(sub), subscription_id=sub.id,
                                          today=TODAY)  # fmt: skip
    assert {g.partner.id for g in options.guesthouses} == {house.id, second.id}
    booking = await book(sub, second)
    assert booking.partner_id == second.id
    with pytest.raises(FieldErrors) as refused:
        await book(sub, foreign, first=NIGHT + timedelta(days=3))
    assert "partner_id" in refused.value.errors


async def test_the_same_stay_sent_twice_is_booked_once(conn):
    _plan, house, sub = await world()
    first = await book(sub, house)
    again = await book(sub, house)
    assert again.id == first.id
    assert await Booking.all().count() == 1 and await BookingNight.all().count() == 1


async def test_a_second_stay_on_a_night_already_booked_is_refused(conn):
    _plan, house, sub = await world()
    await book(sub, house, nights=1)
    with pytest.raises(Conflict, match="already have a stay booked for the night of 2026-11-30"):
        await book(sub, house, first=NIGHT - timedelta(days=1), nights=2)
    assert await Booking.all().count() == 1


async def test_a_room_taken_this_instant_falls_back_to_the_next_room(conn, monkeypatch):
    """The check said the room was free, but someone's insert got there first: the unique
    (room, night) refuses ours, its savepoint rolls back, and the next room is tried."""
    plan, house, sub = await world(rooms=(("竹间", 2), ("松间", 2)))
    other = await subscriber(plan, (await plots(plan))[1])
    taken = await book(other, house)
    assert (await Room.get(id=taken.room_id)).name == "松间"  # by name, among equals

    def blind(rooms, *, guests, taken):  # the check that did not see the other booking
        return sorted(rooms, key=lambda r: (r.name != "松间", r.id))

    monkeypatch.setattr(rules, "rooms_to_try", blind)
    booking = await book(sub, house)
    assert (await Room.get(id=booking.room_id)).name == "竹间"
    assert await BookingNight.filter(night=NIGHT).count() == 2


async def test_when_the_only_room_was_just_taken_the_customer_is_asked_to_choose_again(
    conn, monkeypatch
):
    plan, house, sub = await world(rooms=(("竹间", 2),))
    other = await subscriber(plan, (await plots(plan))[1])
    await book(other, house)
    monkeypatch.setattr(rules, "rooms_to_try", lambda rooms, *, guests, taken: list(rooms))
    with pytest.raises(Conflict) as lost:
        await book(sub, house)
    assert lost.value.message == "That room was just taken for 2026-11-30 — please choose again."
    assert await Booking.all().count() == 1 and await BookingNight.all().count() == 1
    assert len(await free_voucher_ids(sub)) == 2


# ---- bad input, through the page ----


async def customer_client(client, email: str = "wang@example.com") -> str:
    token = await log_in_client(client, email)
    await client.get("/lang/en")
    return token


def form(house: Partner, token: str, **kw) -> dict[str, str]:
    return {"csrf_token": token, "partner_id": str(house.id), "first_night": NIGHT.isoformat(),
            "nights": "1", "guests": "2", **kw}  # fmt: skip


@pytest.fixture
def today_is(monkeypatch):
    """The pages' today: the factories' TODAY."""
    from farm.partners import booking_routes

    def set_today(day: date) -> None:
        monkeypatch.setattr(booking_routes, "today", lambda request: day)

    set_today(TODAY)
    return set_today


async def test_a_customer_books_on_the_page_and_sees_the_stay(client, today_is):
    plan = await make_season(**SHIP_SEASON)
    house = await guesthouse(plan)
    customer = await make_customer("wang@example.com")
    sub = await subscriber(plan, (await plots(plan))[0], customer=customer)
    token = await log_in_client(client, "wang@example.com")
    await client.get("/lang/en")
    vouchers = await client.get(f"/account/subscriptions/{sub.id}/vouchers")
    assert vouchers.text.count(f'href="/account/subscriptions/{sub.id}/stays"') == 2
    page = await client.get(f"/account/subscriptions/{sub.id}/stays")
    assert page.status_code == 200
    assert "2 free farm-stay vouchers" in page.text and "青山农家民宿" in page.text
    assert f'href="?partner={house.id}&amp;night={NIGHT.isoformat()}#book"' in page.text
    assert 'class="free suggested"' in page.text  # near the ship day of Dec 1st

    r = await client.post(f"/account/subscriptions/{sub.id}/stays",
                          data=form(house, token, nights="2"))  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("?booked=1#my-stays")
    page = await client.get(r.headers["location"])
    assert "Your stay is booked" in page.text
    assert "from the night of 2026-11-30, leaving on 2026-12-02" in page.text
    assert "0 free farm-stay vouchers" in page.text
    assert "Free cancellation until 2026-11-28" in page.text
    # the subscription page and the vouchers list lead here
    assert (
        f"/account/subscriptions/{sub.id}/stays"
        in (await client.get(f"/account/subscriptions/{sub.id}")).text
    )


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"first_night": TODAY.isoformat()}, 422, "Nights can be booked from tomorrow on."),
        ({"first_night": "2026-11-01"}, 422, "Nights can be booked from tomorrow on."),
        ({"first_night": "2027-09-01"}, 422,
         "Your vouchers are good for nights from 2026-09-01 to 2027-08-31."),
        ({"first_night": "2027-08-31", "nights": "2"}, 422,
         "Your vouchers are good for nights from 2026-09-01 to 2027-08-31."),
        ({"first_night": "30/11/2026"}, 422, "Choose the first night."),
        ({"first_night": "9999-12-31", "nights": "31"}, 422, "Choose the first night."),
        ({"first_night": "0001-01-01"}, 422, "Choose the first night."),
        ({"nights": "3"}, 422, "One voucher pays for one night: you have 2 free for this"),
        ({"nights": "0"}, 422, "Enter a number of nights from 1 to 31."),
        ({"nights": "two"}, 422, "Enter a number of nights from 1 to 31."),
        ({"guests": "5"}, 422, "The largest room here takes 4 guests."),
        ({"guests": "-1"}, 422, "Enter the number of guests."),
        ({"partner_id": "999999"}, 422, "Choose one of the guesthouses where your vouchers"),
        ({"partner_id": "x"}, 422, "Choose one of the guesthouses where your vouchers"),
    ],
)  # fmt: skip
async def test_a_bad_booking_is_refused_with_a_clear_message_and_nothing_written(
    client, today_is, changes, status, message
):
    _plan, house, sub = await world()
    token = await customer_client(client)
    r = await client.post(f"/account/subscriptions/{sub.id}/stays",
                          data=form(house, token, **changes))  # fmt: skip
    assert r.status_code == status
    assert message in r.text
    assert await nothing_booked()


async def test_another_cooperatives_guesthouse_cannot_be_booked(client, today_is):
    _plan, house, sub = await world()
    other_plan = await make_season(**SHIP_SEASON)
    foreign = await guesthouse(other_plan, name="外村民宿")
    token = await customer_client(client)
    r = await client.post(f"/account/subscriptions/{sub.id}/stays",
                          data=form(foreign, token))  # fmt: skip
    assert r.status_code == 422 and "Choose one of the guesthouses" in r.text
    assert await nothing_booked()


async def test_an_inactive_subscription_cannot_book(client, today_is):
    _plan, house, sub = await world()
    await Subscription.filter(id=sub.id).update(status=Status.CANCELLED)
    token = await customer_client(client)
    r = await client.post(f"/account/subscriptions/{sub.id}/stays", data=form(house, token))
    assert r.status_code == 409
    assert "Only an active subscription&#39;s vouchers can book a farm stay." in r.text
    assert await nothing_booked()


async def test_no_one_else_can_see_book_or_cancel_a_customers_stays(client, today_is):
    plan, house, sub = await world()
    booking = await book(sub, house)
    li = await make_customer("li@example.com", "李")
    other = await subscriber(plan, (await plots(plan))[1], customer=li)
    token = await customer_client(client, "li@example.com")
    assert (await client.get(f"/account/subscriptions/{sub.id}/stays")).status_code == 404
    r = await client.post(f"/account/subscriptions/{sub.id}/stays",
                          data=form(house, token, first_night=(NIGHT + timedelta(3)).isoformat()))  # fmt: skip
    assert r.status_code == 404
    r = await client.post(f"/account/bookings/{booking.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 404
    assert (await Booking.get(id=booking.id)).status == BookingStatus.BOOKED
    assert await Booking.all().count() == 1 and await BookingNight.all().count() == 1
    with pytest.raises(NotFound):
        await bookings.cancel_booking(customer=await owner(other), booking_id=booking.id,
                                      today=TODAY, now=NOW)  # fmt: skip


async def test_partner_staff_and_managers_do_not_get_the_customers_pages(client, today_is):
    _plan, house, sub = await world()
    await staff_of(house)
    await log_in_client(client, "desk@stay.example")
    assert (await client.get(f"/account/subscriptions/{sub.id}/stays")).status_code == 404


# ---- cancelling ----


async def test_cancelling_frees_the_room_and_gives_the_vouchers_back(client, today_is):
    plan, house, sub = await world(rooms=(("竹间", 2),))
    booking = await book(sub, house, nights=2)
    token = await customer_client(client)
    r = await client.post(f"/account/bookings/{booking.id}/cancel", data={"csrf_token": token})
    assert (
        r.status_code == 303 and f"/account/subscriptions/{sub.id}/stays" in r.headers["location"]
    )
    cancelled = await Booking.get(id=booking.id)
    assert cancelled.status == BookingStatus.CANCELLED and cancelled.cancelled_at is not None
    assert await BookingNight.all().count() == 0
    assert len(await free_voucher_ids(sub)) == 2
    # the room is free again: another family books it
    other = await subscriber(plan, (await plots(plan))[1])
    assert (await book(other, house, nights=2)).room_id == booking.room_id
    # a second cancel is refused, clearly
    r = await client.post(f"/account/bookings/{booking.id}/cancel", data={"csrf_token": token})
    assert r.status_code == 409 and "already cancelled" in r.text


async def test_a_stay_can_be_cancelled_on_the_cutoff_day_but_not_the_day_after(conn):
    _plan, house, sub = await world()
    booking = await book(sub, house)  # first night 11-30: cutoff 11-28
    customer = await owner(sub)
    with pytest.raises(Conflict, match="could be cancelled until 2026-11-28"):
        await bookings.cancel_booking(customer=customer, booking_id=booking.id,
                                      today=date(2026, 11, 29), now=NOW)  # fmt: skip
    assert (await Booking.get(id=booking.id)).status == BookingStatus.BOOKED
    assert await BookingNight.all().count() == 1
    done = await bookings.cancel_booking(customer=customer, booking_id=booking.id,
                                         today=date(2026, 11, 28), now=NOW)  # fmt: skip
    assert done.status == BookingStatus.CANCELLED and await BookingNight.all().count() == 0


async def test_the_cancel_button_shows_only_until_the_cutoff(client, today_is):
    _plan, house, sub = await world()
    await book(sub, house)
    await customer_client(client)
    page = await client.get(f"/account/subscriptions/{sub.id}/stays")
    assert "Cancel this stay" in page.text
    today_is(date(2026, 11, 29))
    page = await client.get(f"/account/subscriptions/{sub.id}/stays")
    assert "Cancel this stay" not in page.text and "the cutoff was 2026-11-28" in page.text


# ---- the guesthouse's side ----


async def test_staff_see_their_coming_nights_grouped_by_night_without_contact_details(
    client, today_is
):
    plan, house, sub = await world()
    await Subscription.filter(id=sub.id).update(sign_name="王家")
    await book(sub, house, nights=2, guests=2)
    later = await subscriber(plan, (await plots(plan))[1])
    await book(later, house, first=TODAY + timedelta(days=20))  # beyond the 14 nights
    await staff_of(house)
    groups = await checkin.coming_bookings(staff=await User.get(email="desk@stay.example"),
                                           today=TODAY)  # fmt: skip
    assert [g.night for g in groups] == [NIGHT, NIGHT + timedelta(days=1)]
    first, second = (g.stays[0] for g in groups)
    assert (first.name, first.room_name, first.arrives) == ("王家", "竹间", True)
    assert second.arrives is False

    await log_in_client(client, "desk@stay.example")
    await client.get("/lang/en")
    page = await client.get("/partner/bookings")
    assert page.status_code == 200
    assert "Night of 2026-11-30" in page.text and "王家" in page.text and "2 guests" in page.text
    assert "13800138000" not in page.text and "人民路" not in page.text  # no phone, no address
    assert "Check in" not in page.text.replace("Checked in", "")  # not the arrival day yet


async def test_staff_of_another_guesthouse_see_nothing_and_cannot_check_in(client, today_is):
    plan, house, sub = await world()
    booking = await book(sub, house)
    other_house = await guesthouse(plan, nights=0, name="山顶民宿")
    await staff_of(other_house, "other@stay.example")
    token = await log_in_client(client, "other@stay.example")
    today_is(NIGHT)
    page = await client.get("/partner/bookings")
    assert page.status_code == 200 and "王小明" not in page.text
    r = await client.post(f"/partner/bookings/{booking.id}/check-in", data={"csrf_token": token})
    assert r.status_code == 404
    assert (await Booking.get(id=booking.id)).status == BookingStatus.BOOKED
    assert await Voucher.filter(status=VoucherStatus.REDEEMED).count() == 0


@pytest.mark.parametrize("role", ["customer", "manager", "visitor"])
async def test_only_partner_staff_reach_the_bookings_page(client, role):
    plan, house, sub = await world()
    booking = await book(sub, house)
    if role == "visitor":
        r = await client.get("/partner/bookings")
        assert r.status_code in (302, 303) and "/login" in r.headers["location"]
        return
    extra = {"manager": {"role": Role.MANAGER, "cooperative_id": house.cooperative_id}}
    await sign_up(email="x@example.com", name="X", password="correct horse", language="en",
                  **extra.get(role, {}))  # fmt: skip
    token = await log_in_client(client, "x@example.com")
    assert (await client.get("/partner/bookings")).status_code == 404
    r = await client.post(f"/partner/bookings/{booking.id}/check-in", data={"csrf_token": token})
    assert r.status_code == 404
    assert (await Booking.get(id=booking.id)).status == BookingStatus.BOOKED


async def test_checking_in_redeems_every_nights_voucher_and_a_second_check_in_is_refused(
    client, today_is
):
    _plan, house, sub = await world()
    booking = await book(sub, house, nights=2)
    staff = await staff_of(house)
    token = await log_in_client(client, "desk@stay.example")
    await client.get("/lang/en")
    today_is(NIGHT)
    page = await client.get("/partner/bookings")
    assert re.search(rf'action="/partner/bookings/{booking.id}/check-in"', page.text)
    r = await client.post(f"/partner/bookings/{booking.id}/check-in", data={"csrf_token": token})
    assert r.status_code == 303
    arrived = await Booking.get(id=booking.id)
    assert arrived.status == BookingStatus.ARRIVED and arrived.arrived_at is not None
    vouchers = await Voucher.filter(subscription_id=sub.id, kind=PerkKind.FARM_STAY_NIGHT)
    assert all(v.status == VoucherStatus.REDEEMED for v in vouchers)
    assert {(v.redeemed_by_id, v.redeemed_partner_id) for v in vouchers} == {(staff.id, house.id)}
    assert "Checked in: the guests" in (await client.get(r.headers["location"])).text

    r = await client.post(f"/partner/bookings/{booking.id}/check-in", data={"csrf_token": token})
    assert r.status_code == 409 and "These guests were already checked in on" in r.text
    # and the customer can no longer cancel it
    with pytest.raises(Conflict, match="checked in"):
        await bookings.cancel_booking(customer=await owner(sub), booking_id=booking.id,
                                      today=TODAY, now=NOW)  # fmt: skip


async def test_late_guests_check_in_on_their_second_night_but_not_before_or_after(conn):
    _plan, house, sub = await world()
    booking = await book(sub, house, nights=2)
    staff = await staff_of(house)

    async def check_in(day):
        return await checkin.check_in(staff=staff, booking_id=booking.id, today=day, now=NOW,
                                      timezone=TZ)  # fmt: skip

    for day in (NIGHT - timedelta(days=1), NIGHT + timedelta(days=2)):
        with pytest.raises(Conflict, match="from 2026-11-30 to 2026-12-01 only"):
            await check_in(day)
    assert await Voucher.filter(status=VoucherStatus.REDEEMED).count() == 0
    assert (await check_in(NIGHT + timedelta(days=1))).status == BookingStatus.ARRIVED
    assert await Voucher.filter(status=VoucherStatus.REDEEMED).count() == 2


async def test_a_check_in_that_cannot_redeem_a_voucher_changes_nothing(conn):
    """A voucher voided meanwhile (say, by an operator): the whole check-in rolls back."""
    _plan, house, sub = await world()
    booking = await book(sub, house, nights=2)
    staff = await staff_of(house)
    second = (await BookingNight.filter(booking_id=booking.id).order_by("night"))[1]
    await Voucher.filter(id=second.voucher_id).update(status=VoucherStatus.VOID)
    with pytest.raises(Conflict, match="void"):
        await checkin.check_in(staff=staff, booking_id=booking.id, today=NIGHT, now=NOW,
                               timezone=TZ)  # fmt: skip
    assert (await Booking.get(id=booking.id)).status == BookingStatus.BOOKED
    assert await Voucher.filter(status=VoucherStatus.REDEEMED).count() == 0


# ---- at the same moment (PostgreSQL) ----


@pytest.mark.postgres
async def test_twenty_families_racing_for_the_only_room_get_it_exactly_once(conn):
    plan = await make_season(**{**SHIP_SEASON}, plots=20)
    house = await guesthouse(plan, rooms=(("竹间", 2),), nights=1)
    subs = [await subscriber(plan, plot) for plot in await plots(plan)]
    owners = [await owner(s) for s in subs]

    async def attempt(sub, customer):
        try:
            return await bookings.book_stay(
                customer=customer, subscription_id=sub.id, partner_id=house.id,
                first_night=NIGHT, nights=1, guests=2, today=TODAY, now=NOW,
            )  # fmt: skip
        except Conflict as exc:
            return exc

    results = await asyncio.gather(*(attempt(s, c) for s, c in zip(subs, owners, strict=True)))
    won = [r for r in results if isinstance(r, Booking)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 19
    told = {
        "That room was just taken for 2026-11-30 — please choose again.",  # lost the insert
        "No room for 2 guests is free on all of those nights.",  # came after it was committed
    }
    assert {r.message for r in lost} <= told
    assert await Booking.all().count() == 1
    assert await BookingNight.filter(night=NIGHT).count() == 1
    winner = won[0]
    held = await BookingNight.get(booking_id=winner.id)
    assert (await Voucher.get(id=held.voucher_id)).subscription_id == winner.subscription_id


@pytest.mark.postgres
async def test_one_family_submitting_twice_at_once_books_once(conn):
    _plan, house, sub = await world()
    customer = await owner(sub)

    async def attempt():
        return await bookings.book_stay(
            customer=customer, subscription_id=sub.id, partner_id=house.id,
            first_night=NIGHT, nights=2, guests=2, today=TODAY, now=NOW,
        )  # fmt: skip

    first, second = await asyncio.gather(attempt(), attempt())
    assert first.id == second.id
    assert await Booking.all().count() == 1 and await BookingNight.all().count() == 2


# ---- what the review found ----


async def test_cancelling_the_subscription_cancels_its_stays_and_frees_the_rooms(conn):
    from farm.lifecycle import cancellation
    from farm.payments.gateway import RefundResult
    from farm.payments.models import Payment, PaymentStatus

    class Refunds:  # the gateway's one call used here
        async def refund(self, **kw) -> RefundResult:
            return RefundResult(id="re_test", status="succeeded", amount_fen=kw["amount_fen"])

    _plan, house, sub = await world()
    booking = await book(sub, house)
    await Payment.create(subscription_id=sub.id, intent_id="pi_test", client_secret="s",
                         amount_fen=sub.price_fen, status=PaymentStatus.SUCCEEDED,
                         created_at=NOW, paid_at=NOW)  # fmt: skip
    await cancellation.cancel_subscription(
        customer=await owner(sub), subscription_id=sub.id, today=TODAY, now=NOW,
        gateway=Refunds(),
    )  # fmt: skip
    assert (await Subscription.get(id=sub.id)).status == Status.REFUNDED
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED
    assert not await BookingNight.exists()  # the room is free again for that night
    assert not await Voucher.filter(subscription_id=sub.id, status=VoucherStatus.ISSUED).exists()


async def test_a_late_check_in_redeems_each_voucher_for_its_own_night(conn):
    _plan, house, sub = await world()
    staff = await staff_of(house)
    booking = await book(sub, house, nights=2)
    # The first night's voucher runs out the morning after that night.
    first = await BookingNight.get(booking_id=booking.id, night=NIGHT)
    await Voucher.filter(id=first.voucher_id).update(valid_until=NIGHT + timedelta(days=1))
    # The scheduler's expiry does not take a voucher a booked night holds...
    assert await completion.expire_vouchers(today=NIGHT + timedelta(days=1), now=NOW) == 0
    # ...and the family, arriving a day late, is checked in: each night judged on its own.
    await checkin.check_in(staff=staff, booking_id=booking.id, today=NIGHT + timedelta(days=1),
                           now=NOW, timezone=TZ)  # fmt: skip
    assert await Voucher.filter(subscription_id=sub.id, status=VoucherStatus.REDEEMED).count() == 2
