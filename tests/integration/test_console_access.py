"""Every console route, walked by every kind of visitor: only the cooperative's own managers
get in. The routes are read from the app, so a new console page is walked without asking."""

import re

import pytest
from starlette.routing import Route

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.announcements.models import Announcement
from farm.cropplans.models import CalendarCrop, CropCalendar
from farm.fieldwork.models import HarvestLot, Household, Photo, WorkEntry
from farm.fieldwork.photos import PhotoStore, check_photo
from farm.land.models import Field, Plan, Plot, Season
from farm.partners.models import Partner, PartnerKind, PartnerPrice, Room
from farm.shipments.models import (
    Allocation,
    Batch,
    BoxReport,
    Courier,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from tests.integration.test_box import png as png_bytes
from tests.support import (
    NOW,
    csrf_of,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

OURS = ("本社农户", "本社经理", "本社认购户", "ours@example.com", "本社通知")


def console_routes(app) -> list[Route]:
    return [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/manage")]


async def owned_objects():
    """A cooperative with one of everything, and the ids to put in its console's paths."""
    plan = await make_season()
    await plan.fetch_related("field")
    coop_id = plan.field.cooperative_id
    manager = await sign_up(email="owner@coop.cn", name="本社经理", password="correct horse",
                            language="zh_CN", role=Role.MANAGER, cooperative_id=coop_id)  # fmt: skip
    household = await Household.create(cooperative_id=coop_id, name="本社农户")
    subscriber = await User.create(email="ours@example.com", name="本社认购户", password_hash="x")
    sub = await make_active_subscription(
        plan, await Plot.filter(field_id=plan.field_id).first(), customer=subscriber
    )
    ids = {
        "sub_id": sub.id, "announcement_id": (await an_announcement(plan, manager)).id,
        "field_id": plan.field_id, "plan_id": plan.id, "season_id": plan.season_id,
        "household_id": household.id, "plot_id": (await Plot.filter(field_id=plan.field_id).first()).id,
        **await shipping_ids(coop_id, plan.field_id), **await partner_ids(coop_id),
    }  # fmt: skip
    return coop_id, manager, ids


async def an_announcement(plan, manager) -> Announcement:
    """An announcement of the cooperative's, written straight to the table (its sending is
    tested in test_announcements)."""
    return await Announcement.create(
        cooperative_id=manager.cooperative_id, season_id=plan.season_id, audience="season",
        subject="本社通知", body="插秧节", written_by=manager, created_at=NOW,
    )  # fmt: skip


async def shipping_ids(coop_id: int, field_id: int) -> dict[str, int]:
    """A batch, a harvest lot and a work entry of the cooperative, for the shipment, diversion
    and correction pages."""
    batch = await Batch.create(cooperative_id=coop_id, ship_on=NOW.date(), created_at=NOW)
    crop = await make_crop(coop_id)
    lot = await make_lot(crop, field_id=field_id, plot_id=None, grams=1000, harvested_on=NOW.date())
    entry = await WorkEntry.create(cooperative_id=coop_id, field_id=field_id, activity="weeding",
                                   worked_on=NOW.date(), whole_field=True,
                                   logged_by_id=lot.logged_by_id, created_at=NOW)  # fmt: skip
    courier = await Courier.create(cooperative_id=coop_id, name="本社快递")
    calendar = await CropCalendar.create(field_id=field_id)  # a crop calendar's row page
    row = await CalendarCrop.create(calendar=calendar, crop=crop, sow_months=4, min_area_m2=5,
                                    days_to_harvest=40, seed_per_m2=1)  # fmt: skip
    return {"batch_id": batch.id, "lot_id": lot.id, "entry_id": entry.id, "crop_id": crop.id,
            "courier_id": courier.id, "report_id": await box_report(batch, field_id),
            "row_id": row.id}  # fmt: skip


async def box_report(batch: Batch, field_id: int) -> int:
    """A family's report, with a photo, on a box of the batch (a subscriber of the field)."""
    plan = await Plan.filter(field_id=field_id).first()
    plot = await Plot.filter(field_id=field_id).order_by("-code").first()
    family = await User.create(email=f"f{batch.id}@example.com", name="本社认购户",
                               password_hash="x")  # fmt: skip
    sub = await make_active_subscription(plan, plot, customer=family)
    box = await Shipment.create(batch=batch, subscription=sub, ship_on=batch.ship_on,
                                status=ShipmentStatus.SHIPPED, created_at=NOW)  # fmt: skip
    report = await BoxReport.create(shipment=box, subscription=sub, problem="本社认购户的问题",
                                    photo=WALK_PHOTO, reported_at=NOW, created_at=NOW)  # fmt: skip
    return report.id


WALK_PHOTO = "walk"


async def store_walk_photo(app) -> None:
    store = PhotoStore(app.state.runtime.storage)
    checked = check_photo(png_bytes())
    for thumb, data in ((False, checked.full), (True, checked.thumb)):
        await app.state.runtime.storage.put_bytes(
            store.key(WALK_PHOTO, thumb=thumb), data, content_type="image/jpeg"
        )


async def partner_ids(coop_id: int) -> dict[str, int]:
    """A guesthouse of the cooperative with one room, for the partner console's pages."""
    partner = await Partner.create(
        cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE, name="本社民宿"
    )
    room = await Room.create(partner=partner, name="一号房", capacity=2)
    return {"partner_id": partner.id, "room_id": room.id}


def fill(path: str, ids: dict) -> str:
    def one(match):
        name = match.group(1).split(":")[0]
        return str(ids.get(name, 1))

    return re.sub(r"\{([^}]+)\}", one, path)


async def log_in_as(client, role, other_coop_id):
    if role == "visitor":
        return await csrf_of(client, "/login")
    if role == "customer":
        await make_customer("c@example.com")
        email = "c@example.com"
    elif role == "other_manager":
        await sign_up(email="m2@coop.cn", name="别社经理", password="correct horse", language="zh_CN",
                      role=Role.MANAGER, cooperative_id=other_coop_id)  # fmt: skip
        email = "m2@coop.cn"
    elif role == "partner_staff":
        partner = await Partner.create(
            cooperative_id=other_coop_id, kind=PartnerKind.SCENIC_SPOT, name="景区"
        )
        await sign_up(email="p@x.cn", name="检票", password="correct horse", language="zh_CN",
                      role=Role.PARTNER_STAFF, partner_id=partner.id)  # fmt: skip
        email = "p@x.cn"
    else:
        await sign_up(
            email="a@x.cn",
            name="管理员",
            password="correct horse",
            language="zh_CN",
            role=Role.ADMIN,
        )
        email = "a@x.cn"
    return await log_in_client(client, email)


async def counts():
    return [
        await m.all().count()
        for m in (
            Field,
            Plot,
            Season,
            Plan,
            Household,
            WorkEntry,
            HarvestLot,
            Photo,
            Batch,
            Shipment,
            Allocation,
            TransitTime,
            BoxReport,
            Partner,
            PartnerPrice,
            Room,
            User,
        )  # fmt: skip
    ]


@pytest.mark.parametrize("role", ["visitor", "customer", "other_manager", "partner_staff", "admin"])
async def test_every_console_route_is_closed_to_everyone_but_the_cooperatives_managers(
    client, app, role
):
    coop_id, _, ids = await owned_objects()
    other = await make_season()
    await other.fetch_related("field")
    token = await log_in_as(client, role, other.field.cooperative_id)
    before = await counts()
    routes = console_routes(app)
    assert len(routes) >= 6
    for route in routes:
        path = fill(route.path, ids)
        for method in sorted(route.methods - {"HEAD"}):
            own_console = role == "other_manager" and "{" not in route.path
            if own_console and method == "POST":
                continue  # that writes in their own cooperative, which is theirs to do
            if method == "GET":
                r = await client.get(path)
            else:
                r = await client.post(path, data={"csrf_token": token, "name": "入侵", "kg": "1"})
            if role == "visitor":
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (
                    method,
                    path,
                )
            elif not own_console:
                assert r.status_code == 404, (role, method, path, r.status_code)
            assert not any(ours in r.text for ours in OURS), (role, path)
    assert await counts() == before


async def test_the_cooperatives_own_manager_opens_every_console_page(client, app):
    _, _, ids = await owned_objects()
    await store_walk_photo(app)
    await log_in_client(client, "owner@coop.cn")
    for route in console_routes(app):
        if "GET" in route.methods:
            r = await client.get(fill(route.path, ids))
            if route.path.endswith(("/packing.pdf", "/labels.pdf")):  # none made yet: the
                assert r.status_code == 303, route.path  # batch page, where they are made
            elif route.path.endswith("/documents/{part_id}.pdf"):
                assert r.status_code == 404, route.path  # no such part made yet
            else:
                assert r.status_code == 200, (route.path, r.status_code)


async def test_a_managers_ids_of_another_cooperative_are_404(client, app):
    await owned_objects()
    other = await make_season()
    await other.fetch_related("field")
    foreign = {"field_id": other.field_id, "plan_id": other.id, "season_id": other.season_id,
               "household_id": (await Household.create(cooperative_id=other.field.cooperative_id, name="别社农户")).id,
               "plot_id": (await Plot.filter(field_id=other.field_id).first()).id,
               **await shipping_ids(other.field.cooperative_id, other.field_id),
               **await partner_ids(other.field.cooperative_id),
               "user_id": (await sign_up(email="m2@coop.cn", name="别社经理", password="correct horse",
                                         language="zh_CN", role=Role.MANAGER,
                                         cooperative_id=other.field.cooperative_id)).id}  # fmt: skip
    theirs = await User.create(email="theirs@example.com", name="别社农户", password_hash="x")
    foreign["sub_id"] = (
        await make_active_subscription(
            other, await Plot.filter(field_id=other.field_id).first(), customer=theirs
        )
    ).id
    foreign["announcement_id"] = (await an_announcement(
        other, await User.get(email="m2@coop.cn"))).id  # fmt: skip
    await log_in_client(client, "owner@coop.cn")
    token = await csrf_of(client, "/manage")
    for route in console_routes(app):
        if "{" not in route.path:
            continue
        if "GET" in route.methods:
            r = await client.get(fill(route.path, foreign))
        else:
            r = await client.post(fill(route.path, foreign), data={"csrf_token": token})
        assert r.status_code == 404, (route.path, r.status_code)
        assert "别社农户" not in r.text


async def test_another_cooperatives_season_or_field_in_a_query_shows_nothing_of_it(client, app):
    """Lists take their season or field from the query string: another cooperative's is 404,
    or matches nothing, never its rows."""
    await owned_objects()
    other = await make_season()
    await other.fetch_related("field")
    theirs = await User.create(email="theirs@example.com", name="别社认购户", password_hash="x")
    await make_active_subscription(
        other, await Plot.filter(field_id=other.field_id).first(), customer=theirs
    )
    await log_in_client(client, "owner@coop.cn")
    for path in ("/manage/subscribers", "/manage/subscribers.csv", "/manage/reports",
                 "/manage/reports/yields.csv"):  # fmt: skip
        r = await client.get(path, params={"season": other.season_id})
        assert r.status_code == 404, path
        assert "别社认购户" not in r.text
    for path, params in (
        ("/manage/plots/search", {"q": "T", "field": other.field_id}),
        ("/manage/harvests", {"in_field": other.field_id}),
        ("/manage/log", {"in_field": other.field_id, "field": other.field_id}),
        ("/manage/subscribers", {"q": "theirs"}),
        ("/manage/subscribers.csv", {"q": "theirs"}),
    ):
        r = await client.get(path, params=params)
        assert r.status_code == 200, path
        assert "别社认购户" not in r.text and "theirs@" not in r.text, path
    found = (await client.get("/manage/plots/search", params={"q": "T"})).json()["plots"]
    assert found and {p["field"] for p in found} == {"试验田"}
    mine = await Plot.filter(
        field__cooperative_id=(await User.get(email="owner@coop.cn")).cooperative_id
    ).values_list("id", flat=True)
    assert {p["id"] for p in found} <= set(mine)
