"""The box, as the family lives it: what the next box is expected to hold, the kilograms
received this season, and one shipped box with its tracking, where the family confirms it
arrived, rates it and reports a problem with a photo. The cooperative's side (the reports of
a batch and their resolution) is in `box_reports`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Sum

from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.fieldwork.models import Crop, HarvestLot
from farm.fieldwork.photos import PhotoStore, check_in_thread
from farm.i18n import _
from farm.land import places
from farm.shipments import box_rules, rules
from farm.shipments.batches import season_ship_days
from farm.shipments.models import (
    Allocation,
    AllocationState,
    BoxReport,
    Shipment,
    ShipmentStatus,
)
from farm.shipments.services import DeliverySummary, transit_days
from farm.sql import one_or_not_found
from farm.subscriptions.models import Status, Subscription


@dataclass(frozen=True)
class ExpectedCrop:
    crop: Crop
    grams: int
    keeps: bool


@dataclass
class NextBox:
    """What the family's next box is expected to hold (an estimate until the ship day)."""

    ship_on: date
    held: bool
    items: list[ExpectedCrop] = field(default_factory=list)  # keeps until it arrives
    spoiling: list[ExpectedCrop] = field(default_factory=list)  # would not keep that long
    credits: list[BoxReport] = field(default_factory=list)  # extras the cooperative promised
    crop_plan: str = ""
    crop_plan_en: str = ""


@dataclass(frozen=True)
class Received:
    crop: Crop
    grams: int


async def next_box(*, subscription: Subscription, deliveries: DeliverySummary) -> NextBox | None:
    """The next ship day's box of an active subscription (`deliveries.next_day`, as the
    page's delivery summary found it, with the credits promised for it): the open harvest of
    its plot, its share of the field's, what was kept from a held day, and any credit; None
    when no ship day is left. The subscription comes with its season and its cooperative,
    plan and plot (as subscription_view fetches it); the caller has checked it is the
    customer's."""
    next_day = deliveries.next_day
    if subscription.status != Status.ACTIVE or next_day is None:
        return None
    season, plot, plan = subscription.season, subscription.plot, subscription.plan
    ship_on = next_day.ship_on
    view = NextBox(ship_on, next_day.held, crop_plan=plan.crop_plan,
                   crop_plan_en=plan.crop_plan_en)  # fmt: skip
    view.credits = list(deliveries.credits)
    if next_day.held:
        return view
    lots = await (
        HarvestLot.filter(
            Q(plot_id=plot.id) | Q(plot_id=None),
            field_id=plot.field_id,
            voided_at=None,
            settled_g__lt=F("weight_g"),
            harvested_on__gte=season.starts_on,
            harvested_on__lt=ship_on,
        )
        .select_related("crop")
        .order_by("harvested_on", "id")
    )
    carried = await Allocation.filter(
        subscription_id=subscription.id, state=AllocationState.CARRIED
    ).select_related("lot__crop")
    if not lots and not carried:
        return view
    field_area = Decimal(0)
    if any(lot.plot_id is None for lot in lots):  # the field's harvest: shared by plot area
        field_area = await places.area_held(
            connections.get("default"), field_id=plot.field_id, season_id=season.id
        )
    crops = {lot.crop_id: lot.crop for lot in lots} | {a.lot.crop_id: a.lot.crop for a in carried}
    expected = box_rules.expected_items(
        [
            box_rules.OpenHarvest(
                lot.crop_id,
                lot.plot_id,
                lot.harvested_on,
                lot.weight_g - lot.settled_g,
                lot.crop.shelf_life_days,
            )
            for lot in lots
        ],  # fmt: skip
        carried=[
            box_rules.OpenHarvest(
                a.lot.crop_id, plot.id, a.lot.harvested_on, a.grams, a.lot.crop.shelf_life_days
            )
            for a in carried
        ],  # fmt: skip
        plot_id=plot.id,
        plot_area=Decimal(plot.area_m2),
        field_area=max(field_area, Decimal(plot.area_m2)),
        ship_on=ship_on,
        transit_days=await transit_days(season.cooperative, subscription.province),
    )
    for e in expected:
        item = ExpectedCrop(crops[e.crop_id], e.grams, e.keeps)
        (view.items if e.keeps else view.spoiling).append(item)
    return view


CROP_COLUMNS = ("lot__crop_id", "lot__crop__name", "lot__crop__name_en", "lot__crop__unit")


async def received_by_crop(*, subscription: Subscription) -> list[Received]:
    """Grams (or pieces) in the boxes of this subscription that were shipped, by crop: one
    query."""
    rows = (
        await Allocation.filter(
            subscription_id=subscription.id,
            state=AllocationState.SHIPPED,
            shipment__status=ShipmentStatus.SHIPPED,
        )
        .annotate(g=Sum("grams"))
        .group_by("lot__crop_id", "lot__crop__name", "lot__crop__name_en", "lot__crop__unit")
        .values_list(
            "lot__crop_id", "lot__crop__name", "lot__crop__name_en", "lot__crop__unit", "g"
        )
    )
    crops = {r[0]: Crop(id=r[0], name=r[1], name_en=r[2], unit=r[3]) for r in rows}
    totals = box_rules.grams_by_crop((r[0], r[4]) for r in rows)
    return [Received(crops[crop_id], grams) for crop_id, grams in totals.items()]


# ---- one box ----


@dataclass
class BoxView:
    subscription: Subscription
    shipment: Shipment
    items: list[Allocation]
    report: BoxReport | None
    next_ship_on: date | None  # the ship day after this box's


async def _own_box(customer: User, subscription_id: int, shipment_id: int) -> Shipment:
    return await one_or_not_found(
        Shipment.filter(
            id=shipment_id,
            subscription_id=subscription_id,
            subscription__customer_id=customer.id,
        ).select_related("subscription__season", "subscription__plot", "subscription__plan"),
        _("This box does not exist."),
    )


async def box_view(*, customer: User, subscription_id: int, shipment_id: int) -> BoxView:
    """The customer's own box: what was in it, its tracking, and what they said of it.
    Anyone else's box is 'not found'."""
    box = await _own_box(customer, subscription_id, shipment_id)
    items = (
        await Allocation.filter(shipment_id=box.id, state=AllocationState.SHIPPED)
        .select_related("lot__crop")
        .order_by("lot__harvested_on", "id")
    )
    report = await BoxReport.get_or_none(shipment_id=box.id)
    days = season_ship_days(box.subscription.season)
    next_on = rules.next_ship_day(days, box.ship_on)
    return BoxView(box.subscription, box, list(items), report, next_on)


async def _shipped_report(customer: User, subscription_id: int, shipment_id: int, now: datetime):
    """The report row of the customer's own shipped box, made on first use."""
    box = await _own_box(customer, subscription_id, shipment_id)
    if box.status != ShipmentStatus.SHIPPED:
        raise Conflict(_("This box has not been shipped yet."))
    report = await BoxReport.get_or_none(shipment_id=box.id)
    if report is None:
        try:
            report = await BoxReport.create(
                shipment_id=box.id, subscription_id=box.subscription_id, created_at=now
            )
        except IntegrityError:  # made a moment ago by another request of the family
            report = await BoxReport.get(shipment_id=box.id)
    return report


async def confirm_arrival(
    *, customer: User, subscription_id: int, shipment_id: int, now: datetime
) -> bool:
    """The family says their shipped box arrived. False when it was said before."""
    report = await _shipped_report(customer, subscription_id, shipment_id, now)
    return bool(await BoxReport.filter(id=report.id, arrived_at=None).update(arrived_at=now))


async def rate_box(
    *, customer: User, subscription_id: int, shipment_id: int, rating: int, comment: str,
    now: datetime,
) -> None:  # fmt: skip
    """Rate a shipped box 1-5 with an optional comment (again to change it); a rated box
    arrived."""
    if rating not in box_rules.RATINGS:
        raise Conflict(_("Choose from 1 to 5 stars."))
    report = await _shipped_report(customer, subscription_id, shipment_id, now)
    await BoxReport.filter(id=report.id).update(
        rating=rating, comment=comment[: box_rules.COMMENT_CHARS], rated_at=now
    )
    await BoxReport.filter(id=report.id, arrived_at=None).update(arrived_at=now)


async def report_problem(
    *, customer: User, subscription_id: int, shipment_id: int, problem: str,
    photo: bytes | None, store: PhotoStore, now: datetime,
) -> BoxReport:  # fmt: skip
    """Report a problem with a shipped box, once, with an optional photo (checked and
    re-encoded off the event loop, EXIF dropped, stored before the report is)."""
    report = await _shipped_report(customer, subscription_id, shipment_id, now)
    if report.reported_at is not None:
        raise Conflict(_("A problem with this box was already reported."))
    name = ""
    if photo:
        checked = await check_in_thread(photo)
        name = await store.save(checked)
    updated = await BoxReport.filter(id=report.id, reported_at=None).update(
        problem=problem[: box_rules.PROBLEM_CHARS], photo=name, reported_at=now
    )
    if not updated:  # reported a moment ago by another request
        if name:
            await store.delete(name)
        raise Conflict(_("A problem with this box was already reported."))
    return await BoxReport.get(id=report.id)


async def report_photo(*, customer: User, subscription_id: int, shipment_id: int) -> str:
    """The name of the photo of the customer's own box's problem report."""
    box = await _own_box(customer, subscription_id, shipment_id)
    report = await BoxReport.get_or_none(shipment_id=box.id)
    if report is None or not report.photo:
        raise NotFound(_("Page not found."))
    return report.photo
