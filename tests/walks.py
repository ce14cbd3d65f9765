"""What the walks over every route share (the accessibility audit, the fuzzing): the demo with
ids to put in paths, and the app's routes with those ids filled in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from starlette.routing import Route
from tortoise.transactions import in_transaction

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.announcements.models import Announcement
from farm.cropplans.models import CalendarCrop
from farm.demo import load_demo
from farm.fieldwork.models import HarvestLot, Household, WorkEntry
from farm.gifts import rules as gift_rules
from farm.gifts.models import Gift
from farm.land.models import Field, Plan, Plot, PlotClaim, Season
from farm.links import Links
from farm.partners.models import Partner, PartnerKind, Room
from farm.renewals.models import Renewal
from farm.renewals.services import open_renewals
from farm.shipments.models import Batch, BoxReport, Shipment, ShipmentStatus
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher
from farm.vouchers.services import issue_vouchers
from tests.support import count_places

PEOPLE = {  # who: the demo account (password "correct horse"), None for a visitor
    "visitor": None,
    "customer": "demo@example.com",
    "manager": "li@coop.example",
    "gate staff": "gate@scenic.example",
    "guesthouse staff": "desk@stay.example",
    "admin": "admin@farm.example",  # made by demo_world: the demo has no admin
}


async def demo_world(now: datetime) -> dict:
    """The demo with its accounts, plus what some pages need to show something: the demo
    customer's vouchers, a plot in checkout, and a shipment batch. Returns the ids to put in
    paths, by parameter name, and by route path where one name means different things. The
    database must be connected and empty."""
    await load_demo(today=now.date(), with_accounts=True)
    await sign_up(email=PEOPLE["admin"], name="平台管理员", password="correct horse",
                  language="zh_CN", role=Role.ADMIN)  # fmt: skip
    customer = await User.get(email="demo@example.com")
    active = await Subscription.get(customer=customer, status=Status.ACTIVE)
    async with in_transaction() as conn:
        await issue_vouchers(subscription_id=active.id, now=now, conn=conn)
    on_sale = (  # the season on sale now (the demo's next season is only in its renewal window)
        await Season.filter(sale_starts_on__lte=now.date(), sale_ends_on__gt=now.date())
        .order_by("-starts_on")
        .first()
    )
    # The renewal window the demo opened: the customer's plot held for next season.
    await open_renewals(today=now.date(), now=now, timezone="Asia/Shanghai",
                        links=Links("http://127.0.0.1"))  # fmt: skip
    plan = await Plan.filter(season=on_sale).order_by("id").first()
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    pending = await Subscription.create(
        customer=customer, season=on_sale, plan=plan, plot=plot, price_fen=plan.price_fen,
        sign_name=customer.name, reserved_at=now, status=Status.PENDING_PAYMENT,
    )  # fmt: skip
    await PlotClaim.create(season=on_sale, plot=plot, plan=plan, subscription=pending,
                           customer=customer)  # fmt: skip
    await count_places(plan)
    # A plot the demo customer gave, paid and waiting for its recipient: the gift card.
    given_plot = await Plot.filter(field_id=plan.field_id).order_by("code").offset(1).first()
    given = await Subscription.create(
        customer=customer, season=on_sale, plan=plan, plot=given_plot, price_fen=plan.price_fen,
        sign_name="小红", reserved_at=now, activated_at=now, status=Status.ACTIVE,
    )  # fmt: skip
    await PlotClaim.create(season=on_sale, plot=given_plot, plan=plan, subscription=given,
                           customer=customer)  # fmt: skip
    await count_places(plan)
    gift = await Gift.create(
        subscription=given, giver=customer, recipient_name="小红", message="生日快乐！",
        created_at=now, paid_at=now, code_salt="0" * 32, code_hash=gift_rules.code_hash("walk"),
        claim_by=on_sale.starts_on, recipient=customer.name, phone="13800138000",
        province="上海", city="上海市", address="人民路 1 号",
    )  # fmt: skip
    coop_id = on_sale.cooperative_id
    renewing = await Renewal.get(previous_id=active.id)
    batch = await Batch.create(
        cooperative_id=coop_id, ship_on=now.date() + timedelta(days=5), created_at=now
    )
    shipped = await Shipment.create(  # the family's box page and its report on the batch page
        batch=batch, subscription=active, ship_on=batch.ship_on, status=ShipmentStatus.SHIPPED,
        recipient=active.recipient, courier="顺丰速运", tracking_no="SF1234567890",
        created_at=now, shipped_at=now,
    )  # fmt: skip
    report = await BoxReport.create(
        shipment=shipped, subscription=active, arrived_at=now, rating=4, problem="青菜压坏了",
        reported_at=now, created_at=now,
    )  # fmt: skip
    scenic = await Partner.get(cooperative_id=coop_id, kind=PartnerKind.SCENIC_SPOT)
    ticket = await Voucher.filter(subscription=active, partner=scenic).first()
    farm_stay = await Voucher.filter(subscription=active).exclude(partner=scenic).first()
    guesthouse = await Partner.get(cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE)
    manager = await User.filter(cooperative_id=coop_id).exclude(cooperative_id=None).first()
    entry = await WorkEntry.create(  # the correction page of a work entry
        cooperative_id=coop_id, field_id=plan.field_id, activity="weeding",
        worked_on=now.date(), whole_field=True, logged_by=manager, created_at=now,
    )  # fmt: skip
    announcement = await Announcement.create(  # its page; sending is test_announcements'
        cooperative_id=coop_id, season_id=active.season_id, audience="season",
        subject="下周插秧节", body="欢迎全家来田里插秧。", written_by=manager, created_at=now,
    )  # fmt: skip
    return {
        "plan_id": plan.id, "sub_id": active.id, "announcement_id": announcement.id, "field_id": plan.field_id,
        "season_id": on_sale.id, "household_id": (await Household.first()).id,
        "plot_id": plot.id, "batch_id": batch.id, "partner_id": guesthouse.id,
        "crop_id": (await HarvestLot.first()).crop_id,
        "room_id": (await Room.filter(partner=guesthouse).first()).id,
        "lot_id": (await HarvestLot.first()).id, "entry_id": entry.id, "gift_id": gift.id,
        "cooperative_id": coop_id, "shipment_id": shipped.id, "report_id": report.id,
        "user_id": (await User.get(email=PEOPLE["guesthouse staff"])).id,
        "/checkout/{sub_id}": {"sub_id": pending.id},
        "/manage/seasons/{season_id}/renewals": {"season_id": renewing.season_id},
        "/account/vouchers/{code}": {"code": farm_stay.code},
        "/v/{code}": {"code": ticket.code},
        "/trace/{code}": {"code": (await HarvestLot.first()).code},
        "/manage/fields/{field_id}": {"field_id": (await Field.first()).id},
        "row_id": (await CalendarCrop.first()).id,
        "/manage/crop-calendars/{field_id}/crops/{row_id}": {
            "field_id": (await CalendarCrop.first().values_list("calendar__field_id", flat=True))
        },
    }  # fmt: skip


def filled_path(path: str, ids: dict) -> str:
    """A route's path with its parameters replaced by the world's ids ("1" where it has none):
    ids by route path first, then by parameter name."""
    special = ids.get(path, {})

    def one(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        return str(special.get(name, ids.get(name, "1")))

    return re.sub(r"\{([^}]+)\}", one, path)


def route_paths(routes, ids: dict, *, method: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Every route of the app taking `method`, its parameters filled in from `ids`."""
    return [
        filled_path(route.path, ids)
        for route in routes
        if isinstance(route, Route) and method in (route.methods or ()) and route.path not in skip
    ]
