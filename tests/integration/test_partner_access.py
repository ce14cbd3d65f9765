"""Every partner route (/partner..., /v/...), walked by every kind of visitor: only this
partner's own staff see its vouchers and bookings; nobody else sees or changes a thing of it.
The routes are read from the app, so a partner page added later is walked without asking."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.routing import Route

from farm.accounts.models import Role, User
from farm.accounts.services import hasher, sign_up
from farm.land.models import PerkKind, PlanPerk, Plot, Season
from farm.partners.models import Booking, BookingNight, Partner, PartnerKind, Room
from farm.subscriptions.models import Subscription
from farm.vouchers import rules
from farm.vouchers.models import Voucher, VoucherStatus
from tests.support import NOW, csrf_of, log_in_client, make_active_subscription, make_season

PASSWORD = "correct horse"


def local_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


def partner_routes(app) -> list[Route]:
    return [
        r
        for r in app.routes
        if isinstance(r, Route) and (r.path.startswith("/partner") or r.path.startswith("/v/"))
    ]


async def running_plan():
    today = local_today()
    return await make_season(
        plots=6, starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=300),
        sale_starts_on=today - timedelta(days=60), sale_ends_on=today + timedelta(days=30),
    )  # fmt: skip


async def guesthouse(plan, *, letter: str, coop_id: int, plots: list[Plot]) -> dict:
    """A guesthouse whose names all carry `letter` (甲, 乙): its staff, a room, a subscriber
    with a booked farm-stay night (a booking in the coming nights), an unbooked night and a
    night redeemed here today. Returns what its pages may show and the ids for its paths."""
    partner = await Partner.create(cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE,
                                   name=f"{letter}家民宿", address=f"{letter}村")  # fmt: skip
    room = await Room.create(partner=partner, name=f"{letter}字一号房", capacity=2)
    customer = await User.create(email=f"{uuid.uuid4().hex[:8]}@example.com",
                                 name=f"{letter}客户", password_hash="x")  # fmt: skip
    perk = await PlanPerk.create(plan=plan, kind=PerkKind.FARM_STAY_NIGHT, partner=partner, count=3)
    season = await Season.get(id=plan.season_id)
    phone = "139" + ("11110001" if letter == "甲" else "22220002")
    vouchers = []
    for seq, plot in enumerate(plots, start=1):
        sub = await make_active_subscription(plan, plot, customer=customer)
        await Subscription.filter(id=sub.id).update(phone=phone, address=f"{letter}路 8 号")
        vouchers.append(
            await Voucher.create(
                subscription=sub,
                perk=perk,
                seq=seq,
                kind=perk.kind,
                partner=partner,
                code=rules.new_code(),
                valid_from=season.starts_on,
                valid_until=season.ends_on,
                issued_at=NOW,
            )  # fmt: skip
        )
    booked, free, used = vouchers
    night = local_today() + timedelta(days=2)
    booking = await Booking.create(partner=partner, room=room, subscription_id=booked.subscription_id,
                                   first_night=night, nights=1, guests=2, created_at=NOW)  # fmt: skip
    await BookingNight.create(booking=booking, room=room, night=night, voucher=booked)
    staff = await sign_up(email=f"staff-{partner.id}@stay.cn", name="前台", password=PASSWORD,
                          language="en", role=Role.PARTNER_STAFF, partner_id=partner.id)  # fmt: skip
    await Voucher.filter(id=used.id).update(
        status=VoucherStatus.REDEEMED, redeemed_at=datetime.now(UTC), redeemed_by_id=staff.id,
        redeemed_partner_id=partner.id,
    )  # fmt: skip
    codes = [v.code for v in vouchers]
    return {
        "partner": partner,
        "staff": staff,
        "customer": customer,
        "secrets": [
            *codes,
            *(rules.format_code(c) for c in codes),
            f"{letter}客户",
            room.name,
            phone,
            f"{letter}路 8 号",
        ],  # fmt: skip
        "ids": {
            "code": booked.code,
            "voucher_code": booked.code,
            "voucher_id": booked.id,
            "booking_id": booking.id,
            "room_id": room.id,
            "partner_id": partner.id,
            "sub_id": booked.subscription_id,
            "subscription_id": booked.subscription_id,
            "night": night.isoformat(),
            "day": night.isoformat(),
            "date": night.isoformat(),
        },  # fmt: skip
    }


async def world():
    """This partner (甲) and, in the same cooperative, another guesthouse (乙); a third in
    another cooperative (丙)."""
    plan = await running_plan()
    coop_id = (await Season.get(id=plan.season_id)).cooperative_id
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    ours = await guesthouse(plan, letter="甲", coop_id=coop_id, plots=plots[:3])
    theirs = await guesthouse(plan, letter="乙", coop_id=coop_id, plots=plots[3:])
    far_plan = await running_plan()
    far_coop = (await Season.get(id=far_plan.season_id)).cooperative_id
    far_plots = list(await Plot.filter(field_id=far_plan.field_id).order_by("code"))
    far = await guesthouse(far_plan, letter="丙", coop_id=far_coop, plots=far_plots[:3])
    return coop_id, ours, theirs, far


def fill(path: str, ids: dict) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        if name not in ids:
            pytest.fail(f"{path}: no value of this partner for {{{name}}}; add one in guesthouse()")
        return str(ids[name])

    return re.sub(r"\{([^}]+)\}", one, path)


def shown(response) -> str:
    """A page without its language links, which repeat the path the visitor asked for."""
    return re.sub(r'next=[^"]*"', "", response.text)


async def state(partner_id: int | None = None) -> list:
    """Everything a partner route could change about vouchers, stays and rooms: of one
    partner, or of all."""
    mine = {"partner_id": partner_id} if partner_id else {}
    nights = {"room__partner_id": partner_id} if partner_id else {}
    return [
        [(v.id, v.status, v.redeemed_at, v.redeemed_by_id, v.redeemed_partner_id)
         for v in await Voucher.filter(**mine).order_by("id")],
        [(b.id, b.status, b.cancelled_at, b.arrived_at, b.room_id, b.first_night, b.nights, b.guests)
         for b in await Booking.filter(**mine).order_by("id")],
        list(await BookingNight.filter(**nights).order_by("id").values_list("id", "room_id", "night", "voucher_id")),
        list(await Room.filter(**mine).order_by("id").values_list("id", "name", "capacity", "active")),
        *([] if partner_id else [await Partner.all().count(), await User.all().count()]),
    ]  # fmt: skip


async def log_in_as(client, role: str, coop_id: int, ours: dict, theirs: dict, far: dict) -> str:
    if role == "visitor":
        return await csrf_of(client, "/login")
    if role == "own_staff":
        user = ours["staff"]
    elif role == "other_staff":
        user = theirs["staff"]
    elif role == "far_staff":
        user = far["staff"]
    elif role == "owner":  # the subscriber whose vouchers and booking these are
        user = ours["customer"]
        await User.filter(id=user.id).update(password_hash=hasher.hash(PASSWORD))
    else:
        user = await sign_up(email=f"{role}@x.cn", name="某人", password=PASSWORD, language="en",
                             role=Role(role), cooperative_id=coop_id)  # fmt: skip
    return await log_in_client(client, user.email)


ROLES = ["visitor", "customer", "owner", "manager", "admin", "other_staff", "far_staff",
         "own_staff"]  # fmt: skip
STAFF = {"other_staff", "far_staff", "own_staff"}


@pytest.mark.parametrize("role", ROLES)
async def test_every_partner_route_shows_a_partners_things_to_its_own_staff_only(client, app, role):
    coop_id, ours, theirs, far = await world()
    token = await log_in_as(client, role, coop_id, ours, theirs, far)
    routes = partner_routes(app)
    paths = {r.path for r in routes}
    assert {"/partner", "/partner/code", "/v/{code}", "/v/{code}/redeem"} <= paths
    ids = ours["ids"]
    before, ours_before = await state(), await state(ours["partner"].id)
    wrote_own = False
    for route in routes:
        path = fill(route.path, ids)
        names_ours = "{" in route.path
        for method in sorted(route.methods - {"HEAD"}):
            if method == "GET":
                # ?code= too: a typed code is how a paramless route could name a voucher.
                r = await client.get(
                    path, params={"code": ids["code"]}, follow_redirects=role in STAFF
                )
            elif role == "own_staff":
                continue  # that changes their own partner's things, which is theirs to do
            else:
                # A form naming this partner's things, on any route, by anyone else.
                form = {"csrf_token": token, **{k: str(v) for k, v in ids.items()}}
                r = await client.post(path, data=form)
                wrote_own = wrote_own or (role in STAFF and not names_ours)
            where = (role, method, route.path, r.status_code)
            if role == "visitor":
                assert r.status_code == 303, where
                assert r.headers["location"].startswith("/login?next="), where
            elif role == "own_staff":
                assert r.status_code == 200, where
                assert r.url.path.startswith(("/partner", "/v/")), where
            elif role == "owner" and method == "GET" and route.path == "/v/{code}":
                assert r.status_code == 303, where
                assert r.headers["location"] == f"/account/vouchers/{ids['code']}", where
            elif role in STAFF and not names_ours:
                # Their own pages (/partner, their bookings); a typed code of ours is a 404.
                assert r.status_code in (200, 404, 422), where
            else:
                assert r.status_code == 404, where
            body = shown(r)
            if role == "own_staff":
                leaked = [s for s in theirs["secrets"] + far["secrets"] if s in body]
            else:
                leaked = [s for s in ours["secrets"] if s in body]
            assert not leaked, (*where, leaked)
    assert await state(ours["partner"].id) == ours_before
    if not wrote_own:  # (another partner's staff may write their own things on their own pages)
        assert await state() == before
    if role == "own_staff":
        # Their own things are there to see: the home lists today's redemption, the voucher page
        # the booking.
        home = (await client.get("/partner")).text
        assert rules.format_code(ours["secrets"][2]) in home
        page = (await client.get(f"/v/{ids['code']}")).text
        assert "甲字一号房" in page and ids["night"] in page
