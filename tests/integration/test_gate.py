"""Redeeming at the gate: partner staff open a voucher by its QR code or by typing its code,
redeem a valid ticket once, and are told plainly why anything else is refused; nothing is
redeemed twice, even by gates scanning at the same moment."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from tortoise.transactions import in_transaction

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict
from farm.land.models import PerkKind, PlanPerk, Plot, Season
from farm.partners.models import Booking, BookingNight, Partner, PartnerKind, Room
from farm.partners.redemption import AlreadyRedeemed, redeem
from farm.subscriptions.models import Subscription
from farm.vouchers import rules
from farm.vouchers.models import Voucher, VoucherStatus
from tests.support import (
    NOW,
    csrf_of,
    log_in_client,
    make_active_subscription,
    make_customer,
    make_season,
)

ZONE = "Asia/Shanghai"


def local_today() -> date:
    """Today as the app sees it (routes use the real clock in the service's time zone)."""
    return datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


async def running_season(**kw):
    today = local_today()
    return await make_season(
        starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=300),
        sale_starts_on=today - timedelta(days=60), sale_ends_on=today + timedelta(days=30), **kw,
    )  # fmt: skip


async def coop_of(plan) -> int:
    return (await Season.get(id=plan.season_id)).cooperative_id


async def make_partner(coop_id: int, name: str, kind=PartnerKind.SCENIC_SPOT) -> Partner:
    return await Partner.create(cooperative_id=coop_id, kind=kind, name=name)


async def make_staff(partner: Partner, email: str) -> User:
    return await sign_up(email=email, name="检票员", password="correct horse", language="en",
                         role=Role.PARTNER_STAFF, partner_id=partner.id)  # fmt: skip


async def make_voucher(plan, plot_index: int = 0, *, partner: Partner | None, customer=None,
                       kind=PerkKind.SCENIC_TICKET, **values) -> Voucher:  # fmt: skip
    """An issued voucher, valid for the running season, of a fresh subscriber's plot."""
    plot = (await Plot.filter(field_id=plan.field_id).order_by("code"))[plot_index]
    sub = await make_active_subscription(plan, plot, customer=customer)
    perk = await PlanPerk.create(plan=plan, kind=kind, partner=partner, count=1)
    season = await Season.get(id=plan.season_id)
    fields = {"valid_from": season.starts_on, "valid_until": season.ends_on, **values}
    return await Voucher.create(subscription=sub, perk=perk, seq=1, kind=kind, partner=partner,
                                code=rules.new_code(), issued_at=NOW, **fields)  # fmt: skip


async def spot_with_staff(client=None):
    """A running season, a scenic spot with a logged-in gatekeeper, and a valid ticket."""
    plan = await running_season()
    spot = await make_partner(await coop_of(plan), "青山景区")
    staff = await make_staff(spot, "gate@spot.cn")
    ticket = await make_voucher(plan, partner=spot)
    token = await log_in_client(client, "gate@spot.cn") if client is not None else ""
    return plan, spot, staff, ticket, token


def shown(response) -> str:
    """A page without its language links, which repeat the path the visitor asked for, and
    without its CSRF token, which every page masks afresh."""
    text = re.sub(r'next=[^"]*"', "", response.text)
    return re.sub(r'name="csrf_token" value="[^"]*"', "", text)


async def snapshot():
    return [
        (v.code, v.status, v.redeemed_at, v.redeemed_by_id, v.redeemed_partner_id)
        for v in await Voucher.all().order_by("id")
    ]


# ---- the voucher page and redeeming ----


async def test_staff_see_who_and_what_and_redeem_a_valid_ticket(client):
    plan, spot, staff, ticket, token = await spot_with_staff(client)
    page = await client.get(f"/v/{ticket.code}")
    assert page.status_code == 200
    assert rules.format_code(ticket.code) in page.text
    assert "王小明" in page.text and "T01" in page.text  # the name sign and the plot
    assert "13800138000" not in page.text and "人民路" not in page.text  # never phone, address
    assert f'action="/v/{ticket.code}/redeem"' in page.text

    r = await client.post(f"/v/{ticket.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/v/{ticket.code}?redeemed=1"
    done = await client.get(r.headers["location"])
    assert "Redeemed" in done.text and 'action="/v/' not in done.text
    await ticket.refresh_from_db()
    assert ticket.status == VoucherStatus.REDEEMED
    assert (ticket.redeemed_by_id, ticket.redeemed_partner_id) == (staff.id, spot.id)
    local_time = ticket.redeemed_at.astimezone(ZoneInfo(ZONE)).strftime("%H:%M")
    assert local_time in done.text


async def test_a_second_redeem_says_when_and_where_it_was_redeemed_and_changes_nothing(client):
    plan, spot, staff, ticket, token = await spot_with_staff(client)
    first = await client.post(f"/v/{ticket.code}/redeem", data={"csrf_token": token})
    assert first.status_code == 303
    before = await snapshot()
    again = await client.post(f"/v/{ticket.code}/redeem", data={"csrf_token": token})
    assert again.status_code == 409
    await ticket.refresh_from_db()
    when = ticket.redeemed_at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    assert f"Already redeemed on {when} at 青山景区." in again.text
    assert 'action="/v/' not in again.text  # no button to try again
    assert await snapshot() == before


async def test_a_ticket_for_any_spot_redeemed_at_one_tells_another_spot_where(client):
    plan, spot, staff, _ticket, _token = await spot_with_staff()
    anywhere = await make_voucher(plan, 1, partner=None)
    other_spot = await make_partner(spot.cooperative_id, "白云洞")
    await make_staff(other_spot, "gate@cloud.cn")
    async with in_transaction() as conn:
        await redeem(voucher=anywhere, partner=spot, staff=staff, today=local_today(),
                     now=at_local(local_today(), 9, 5), timezone=ZONE, conn=conn)  # fmt: skip
    before = await snapshot()
    token = await log_in_client(client, "gate@cloud.cn")
    r = await client.post(f"/v/{anywhere.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 409
    assert f"Already redeemed on {local_today().isoformat()} 09:05 at 青山景区." in r.text
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "This voucher has expired."),
        ("marked_expired", "This voucher has expired."),
        ("void", "This voucher is void: its subscription was cancelled."),
        ("not_yet_valid", "This voucher is valid from"),
    ],
)
async def test_an_expired_void_or_not_yet_valid_ticket_is_refused_and_nothing_changes(
    client, case, message
):
    plan, spot, staff, _ticket, token = await spot_with_staff(client)
    today = local_today()
    values = {
        "expired": {"valid_from": today - timedelta(days=30), "valid_until": today},
        "marked_expired": {"status": VoucherStatus.EXPIRED},
        "void": {"status": VoucherStatus.VOID},
        "not_yet_valid": {"valid_from": today + timedelta(days=1)},
    }[case]
    voucher = await make_voucher(plan, 1, partner=spot, **values)
    page = await client.get(f"/v/{voucher.code}")
    assert page.status_code == 200 and 'action="/v/' not in page.text
    before = await snapshot()
    r = await client.post(f"/v/{voucher.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 409 and message in r.text
    assert await snapshot() == before


async def test_another_partners_voucher_is_the_same_404_as_an_unknown_code(client):
    plan, spot, staff, ticket, token = await spot_with_staff(client)
    other = await make_partner(spot.cooperative_id, "别家景区")
    theirs = await make_voucher(plan, 1, partner=other)
    unknown = rules.new_code()
    tampered = theirs.code[:-1] + ("2" if theirs.code[-1] != "2" else "3")
    before = await snapshot()
    bodies = set()
    for code in (theirs.code, unknown, tampered, "NOT-A-CODE", "x" * 200, "ÄBCD-EFGH-JKMN"):
        page = await client.get(f"/v/{code}")
        post = await client.post(f"/v/{code}/redeem", data={"csrf_token": token})
        assert page.status_code == 404 and post.status_code == 404, code
        assert 'action="/partner/code"' in page.text  # a box to type the code again
        assert theirs.code not in shown(page) and "王小明" not in page.text
        bodies.add(shown(page))
    assert len(bodies) == 1  # no difference to probe codes with
    assert await snapshot() == before


async def test_a_voucher_naming_no_partner_is_good_at_any_spot_of_its_cooperative_only(client):
    plan, spot, staff, _ticket, _token = await spot_with_staff()
    anywhere = await make_voucher(plan, 1, partner=None)
    coop = spot.cooperative_id
    second_spot = await make_partner(coop, "白云洞")
    guesthouse = await make_partner(coop, "农家民宿", PartnerKind.GUESTHOUSE)
    other_plan = await running_season()
    foreign_spot = await make_partner(await coop_of(other_plan), "外社景区")
    await make_staff(second_spot, "gate@cloud.cn")
    await make_staff(guesthouse, "desk@stay.cn")
    await make_staff(foreign_spot, "gate@far.cn")
    before = await snapshot()
    for email in ("desk@stay.cn", "gate@far.cn"):
        client.cookies.clear()
        token = await log_in_client(client, email)
        assert (await client.get(f"/v/{anywhere.code}")).status_code == 404, email
        r = await client.post(f"/v/{anywhere.code}/redeem", data={"csrf_token": token})
        assert r.status_code == 404, email
    assert await snapshot() == before
    client.cookies.clear()
    token = await log_in_client(client, "gate@cloud.cn")
    assert (await client.get(f"/v/{anywhere.code}")).status_code == 200
    r = await client.post(f"/v/{anywhere.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 303
    await anywhere.refresh_from_db()
    assert (
        anywhere.status == VoucherStatus.REDEEMED and anywhere.redeemed_partner_id == second_spot.id
    )


@pytest.mark.parametrize("role", ["visitor", "customer", "owner", "manager", "admin"])
async def test_only_partner_staff_can_redeem(client, role):
    plan, spot, _staff, ticket, _ = await spot_with_staff()
    owner = await User.get(id=(await Subscription.get(id=ticket.subscription_id)).customer_id)
    if role == "visitor":
        token = await csrf_of(client, "/login")
    else:
        email = f"{role}@x.cn"
        if role == "owner":
            await User.filter(id=owner.id).update(email=email)
            await sign_up_password(owner.id)
        else:
            await sign_up(email=email, name="某人", password="correct horse", language="en",
                          role=Role(role), cooperative_id=spot.cooperative_id)  # fmt: skip
        token = await log_in_client(client, email)
    before = await snapshot()
    r = await client.post(f"/v/{ticket.code}/redeem", data={"csrf_token": token})
    if role == "visitor":
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    else:
        assert r.status_code == 404
    assert await snapshot() == before


async def sign_up_password(user_id: int) -> None:
    """Give a factory-made customer (no password) the test password, to log in with."""
    from farm.accounts.services import hasher

    await User.filter(id=user_id).update(password_hash=hasher.hash("correct horse"))


async def test_a_form_without_its_csrf_token_redeems_nothing(client):
    plan, spot, staff, ticket, _token = await spot_with_staff(client)
    r = await client.post(f"/v/{ticket.code}/redeem", data={})
    assert r.status_code == 403
    await ticket.refresh_from_db()
    assert ticket.status == VoucherStatus.ISSUED


async def test_the_customer_who_owns_a_voucher_is_sent_to_their_own_voucher_page(client):
    plan = await running_season()
    spot = await make_partner(await coop_of(plan), "青山景区")
    owner = await make_customer("owner@example.com", "王小明")
    mine = await make_voucher(plan, partner=spot, customer=owner)
    theirs = await make_voucher(plan, 1, partner=spot)
    await log_in_client(client, "owner@example.com")
    for written in (mine.code, rules.format_code(mine.code).lower()):
        r = await client.get(f"/v/{written}")
        assert r.status_code == 303 and r.headers["location"] == f"/account/vouchers/{mine.code}"
    assert (await client.get(f"/account/vouchers/{mine.code}")).status_code == 200
    r = await client.get(f"/v/{theirs.code}")
    assert r.status_code == 404 and theirs.code not in shown(r)


async def test_a_visitor_logs_in_and_comes_back_to_the_voucher(client):
    plan, spot, staff, ticket, _ = await spot_with_staff()
    r = await client.get(f"/v/{ticket.code}")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/v/{ticket.code}"
    token = await csrf_of(client, r.headers["location"])
    login = await client.post("/login", data={"email": "gate@spot.cn", "password": "correct horse",
                                              "next": f"/v/{ticket.code}", "csrf_token": token})  # fmt: skip
    assert login.status_code == 303 and login.headers["location"] == f"/v/{ticket.code}"
    assert (await client.get(login.headers["location"])).status_code == 200


# ---- farm-stay vouchers are checked in with their booking, not at the gate ----


async def guesthouse_with_staff(client):
    plan = await running_season()
    stay = await make_partner(await coop_of(plan), "青山农家民宿", PartnerKind.GUESTHOUSE)
    await make_staff(stay, "desk@stay.cn")
    token = await log_in_client(client, "desk@stay.cn")
    return plan, stay, token


async def book(voucher: Voucher, partner: Partner, night: date, room_name: str = "竹林房"):
    room = await Room.create(partner=partner, name=room_name, capacity=2)
    booking = await Booking.create(partner=partner, room=room, subscription_id=voucher.subscription_id,
                                   first_night=night, nights=1, created_at=NOW)  # fmt: skip
    await BookingNight.create(booking=booking, room=room, night=night, voucher=voucher)
    return booking


async def test_a_booked_farm_stay_voucher_shows_its_night_and_room_and_is_not_redeemed_here(
    client,
):
    plan, stay, token = await guesthouse_with_staff(client)
    night = await make_voucher(plan, partner=stay, kind=PerkKind.FARM_STAY_NIGHT)
    arrival = local_today() + timedelta(days=3)
    await book(night, stay, arrival)
    page = await client.get(f"/v/{night.code}")
    assert page.status_code == 200
    assert arrival.isoformat() in page.text and "竹林房" in page.text
    assert (
        "checked in from the bookings page" in page.text and 'href="/partner/bookings"' in page.text
    )
    assert 'action="/v/' not in page.text
    before = await snapshot()
    r = await client.post(f"/v/{night.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 409 and "checked in from the bookings page" in r.text
    assert await snapshot() == before


async def test_an_unbooked_farm_stay_voucher_must_be_booked_first(client):
    plan, stay, token = await guesthouse_with_staff(client)
    night = await make_voucher(plan, partner=stay, kind=PerkKind.FARM_STAY_NIGHT)
    page = await client.get(f"/v/{night.code}")
    assert "must be booked first" in page.text and 'action="/v/' not in page.text
    before = await snapshot()
    r = await client.post(f"/v/{night.code}/redeem", data={"csrf_token": token})
    assert r.status_code == 409 and "must be booked first" in r.text
    assert await snapshot() == before


async def test_a_night_booked_at_another_guesthouse_shows_none_of_that_booking(client):
    plan, stay, token = await guesthouse_with_staff(client)
    other = await make_partner(stay.cooperative_id, "白云民宿", PartnerKind.GUESTHOUSE)
    night = await make_voucher(plan, partner=None, kind=PerkKind.FARM_STAY_NIGHT)
    await book(night, other, local_today() + timedelta(days=5), room_name="云顶房")
    page = await client.get(f"/v/{night.code}")
    assert page.status_code == 200
    assert "another guesthouse" in page.text
    assert "云顶房" not in page.text and "白云民宿" not in page.text
    assert 'action="/v/' not in page.text


# ---- typing a code, and today's redemptions ----


async def test_a_typed_code_opens_its_voucher_however_it_was_written(client):
    plan, spot, staff, ticket, _ = await spot_with_staff(client)
    c = ticket.code
    for typed in (c, c.lower(), f" {c[:4]} {c[4:8]} {c[8:]} ", rules.format_code(c).lower()):
        r = await client.get("/partner/code", params={"code": typed})
        assert r.status_code == 303 and r.headers["location"] == f"/v/{c}", typed
    for typed in ("", "ABCD", "0000-1111-OOOO", "ß" * 12, "x" * 500):
        r = await client.get("/partner/code", params={"code": typed})
        assert r.status_code == 422, typed
        assert 'class="error"' in r.text and 'name="code"' in r.text


async def test_today_shows_only_this_partners_redemptions_of_the_local_day(client):
    plan, spot, staff, ticket, _ = await spot_with_staff(client)
    today = local_today()
    other = await make_partner(spot.cooperative_id, "别家景区")
    cases = [  # (plot, partner, redeemed at, sign)
        (1, spot, at_local(today, 0, 10), "早来的"),  # just after local midnight: yesterday in UTC
        (2, spot, at_local(today - timedelta(days=1), 23, 50), "昨天的"),
        (3, other, at_local(today, 11), "别家的"),
    ]
    shown = []
    for plot_index, partner, when, sign in cases:
        v = await make_voucher(plan, plot_index, partner=partner)
        await Subscription.filter(id=v.subscription_id).update(sign_name=sign)
        await Voucher.filter(id=v.id).update(status=VoucherStatus.REDEEMED, redeemed_at=when,
                                             redeemed_by_id=staff.id, redeemed_partner_id=partner.id)  # fmt: skip
        shown.append(v)
    page = await client.get("/partner")
    assert page.status_code == 200
    assert "早来的" in page.text and "00:10" in page.text
    assert rules.format_code(shown[0].code) in page.text
    assert "昨天的" not in page.text and rules.format_code(shown[1].code) not in page.text
    assert "别家的" not in page.text and rules.format_code(shown[2].code) not in page.text
    body = page.text.split("<body", 1)[1]  # the stylesheet is inline in <head>
    assert len(re.findall(r"<li>", body.split("gate-today")[1])) == 1


async def test_the_staff_home_links_guesthouses_to_their_bookings(client):
    _plan, _stay, _token = await guesthouse_with_staff(client)
    assert 'href="/partner/bookings"' in (await client.get("/partner")).text
    client.cookies.clear()
    await spot_with_staff(client)
    assert 'href="/partner/bookings"' not in (await client.get("/partner")).text


# ---- two gates at the same moment ----


@pytest.mark.postgres
@pytest.mark.parametrize("gates", [2, 20])
async def test_concurrent_redeems_of_one_voucher_let_exactly_one_through(conn, gates):
    plan, spot, staff, ticket, _ = await spot_with_staff()
    today = local_today()

    async def scan(i: int):
        # Each gate read the voucher as issued, like two phones that opened the page together.
        voucher = await Voucher.get(id=ticket.id)
        async with in_transaction() as tx:
            await redeem(voucher=voucher, partner=spot, staff=staff, today=today,
                         now=NOW + timedelta(seconds=i), timezone=ZONE, conn=tx)  # fmt: skip

    results = await asyncio.gather(*(scan(i) for i in range(gates)), return_exceptions=True)
    assert [r for r in results if r is None] == [None]
    refused = [r for r in results if r is not None]
    assert len(refused) == gates - 1
    assert all(isinstance(r, AlreadyRedeemed) for r in refused), refused
    assert all("青山景区" in r.message for r in refused)
    assert await Voucher.filter(id=ticket.id, status=VoucherStatus.REDEEMED).count() == 1
    fresh = await Voucher.get(id=ticket.id)
    assert fresh.redeemed_at in {NOW + timedelta(seconds=i) for i in range(gates)}
    assert isinstance(refused[0], Conflict)
