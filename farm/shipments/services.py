"""The customer's deliveries: coming ship days and holds, past boxes with what went into them,
what was not sent and why, and tracking."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.i18n import _
from farm.land.models import Cooperative, Plot, Season
from farm.land.rules import cutoff_for
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.shipments import delivery_rules, rules
from farm.shipments.batches import season_ship_days
from farm.shipments.models import (
    Allocation,
    AllocationState,
    BoxReport,
    BoxResolution,
    FieldRun,
    ShipDayHold,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from farm.subscriptions.models import Status, Subscription
from farm.subscriptions.rules import locked_ship_day


@dataclass(frozen=True)
class ComingDay:
    ship_on: date
    cutoff: date
    held: bool
    can_change: bool


@dataclass
class PastDay:
    ship_on: date
    held: bool
    shipment: Shipment | None
    items: list[Allocation] = field(default_factory=list)  # in the box
    diversions: list[Allocation] = field(default_factory=list)  # not sent, with the reason
    carried: list[Allocation] = field(default_factory=list)  # kept for the next box
    transit_days: int = rules.DEFAULT_TRANSIT_DAYS  # to judge shelf life (the box's, if any)
    province: str = ""
    report: BoxReport | None = None  # what the family said of the box: arrived, rated

    @property
    def preparing(self) -> bool:
        """The ship day has come but its box is not made yet."""
        return self.shipment is None and not self.held and not self.diversions


@dataclass
class DeliveriesView:
    subscription: Subscription
    cutoff_days: int
    coming: list[ComingDay]
    past: list[PastDay]

    @property
    def active(self) -> bool:
        return self.subscription.status == Status.ACTIVE


@dataclass(frozen=True)
class DeliverySummary:
    """What the subscription page says about deliveries."""

    next_day: ComingDay | None
    last_shipment: Shipment | None
    address_locked_for: date | None  # the ship day being packed, while the address is locked
    address_locked_cutoff: date | None
    not_sent: set[date] = field(default_factory=set)  # past ship days that sent it nothing
    last_report: BoxReport | None = None  # what the family said of the last box
    # the extras the cooperative promised for the next box (its credits), oldest first
    credits: list[BoxReport] = field(default_factory=list)


async def _own(customer: User, subscription_id: int) -> Subscription:
    sub = (
        await Subscription.filter(id=subscription_id, customer_id=customer.id)
        .select_related("season__cooperative", "plot", "plan")
        .first()
    )
    if sub is None:
        raise NotFound(_("This subscription does not exist."))
    return sub


def _coming(season: Season, held: set[date], *, today: date) -> list[ComingDay]:
    days = delivery_rules.coming_ship_days(season_ship_days(season), today=today)
    return [
        ComingDay(
            ship_on=d,
            cutoff=cutoff_for(d, season.cutoff_days),
            held=d in held,
            can_change=rules.can_change(ship_on=d, cutoff_days=season.cutoff_days, today=today),
        )
        for d in days
    ]


async def deliveries_view(*, customer: User, subscription_id: int, today: date) -> DeliveriesView:
    """The customer's own subscription's ship days: the coming ones (held or not, open to
    change or not) and the past ones with their box, items, diversions and carry-overs."""
    sub = await _own(customer, subscription_id)
    season = sub.season
    if sub.status == Status.PENDING_PAYMENT or sub.activated_at is None:
        return DeliveriesView(sub, season.cutoff_days, coming=[], past=[])
    held = set(await ShipDayHold.filter(subscription_id=sub.id).values_list("ship_on", flat=True))
    coming = _coming(season, held, today=today) if sub.status == Status.ACTIVE else []

    # each box with what the family said of it (arrived, rated), in the same statement
    found = await Shipment.filter(subscription_id=sub.id).select_related("report")
    shipments = {s.ship_on: s for s in found}
    allocations = (
        await Allocation.filter(subscription_id=sub.id)
        .select_related("lot__crop")
        .order_by("lot__harvested_on", "id")
    )
    in_box: dict[int, list[Allocation]] = defaultdict(list)
    diverted: dict[date, list[Allocation]] = defaultdict(list)
    carried: dict[date, list[Allocation]] = defaultdict(list)
    for a in allocations:
        if a.state == AllocationState.SHIPPED and a.shipment_id is not None:
            in_box[a.shipment_id].append(a)
        elif a.state == AllocationState.CARRIED and a.ship_on is not None:
            carried[a.ship_on].append(a)
        elif a.ship_on is not None:
            diverted[a.ship_on].append(a)

    days = season_ship_days(season)
    made = set(
        await FieldRun.filter(field_id=sub.plot.field_id, ship_on__in=days).values_list(
            "ship_on", flat=True
        )
    )
    activated_on = sub.activated_at.date()
    transit: int | None = None
    past = []
    for d in delivery_rules.past_ship_days(days, today=today, since=None):
        box = shipments.get(d)
        day = PastDay(
            ship_on=d,
            held=d in held and box is None,
            shipment=box,
            items=in_box.get(box.id, []) if box else [],
            diversions=diverted.get(d, []),
            carried=carried.get(d, []),
            province=box.province if box else sub.province,
            report=_report_of(box) if box else None,
        )
        if box is not None:
            day.transit_days = box.transit_days
        elif day.diversions:
            if transit is None:
                transit = await transit_days(season.cooperative, sub.province)
            day.transit_days = transit
        nothing = box is None and not day.held and not day.diversions and not day.carried
        if nothing and (d in made or d < activated_on or sub.status != Status.ACTIVE):
            continue  # no box was due: before the subscription began, or after it ended
        past.append(day)
    return DeliveriesView(sub, season.cutoff_days, coming=coming, past=past)


def _report_of(box: Shipment) -> BoxReport | None:
    """The box's report, read with it (select_related: None, or an empty row, without one)."""
    report = getattr(box, "_report", None)
    return report if isinstance(report, BoxReport) and report.id is not None else None


async def transit_days(cooperative: Cooperative, province: str) -> int:
    """Days a box takes to this province: the cooperative's own row, else the default table
    (as `batches.transit_table`, for one province: one query)."""
    row = await TransitTime.filter(cooperative_id=cooperative.id, province=province).first()
    if row is not None:
        days = row.days
    else:
        days = rules.default_transit_days(cooperative.province).get(
            province, rules.DEFAULT_TRANSIT_DAYS
        )
    return days


async def delivery_summary(*, subscription: Subscription, today: date) -> DeliverySummary:
    """For the subscription page: the next ship day, the last box, whether the address is
    locked now. The caller has checked the subscription is the customer's."""
    if not isinstance(getattr(subscription, "_season", None), Season):  # not fetched with it
        await subscription.fetch_related("season")
    season = subscription.season
    days = season_ship_days(season)
    held = set(
        await ShipDayHold.filter(subscription_id=subscription.id).values_list("ship_on", flat=True)
    )
    coming = _coming(season, held, today=today)[:1]
    next_day = coming[0] if coming and subscription.status == Status.ACTIVE else None
    # Its boxes (a season's ship days at most), newest first, with their reports, in one
    # read: the last one, the days that sent nothing (which the refund rule leaves out), and
    # the credits promised for the next box (a report is always on a box of its own
    # subscription, so these are every credit of the subscription).
    boxes = list(
        await Shipment.filter(subscription_id=subscription.id)
        .select_related("report")
        .order_by("-ship_on")
    )
    past = [b for b in boxes if b.ship_on <= today]
    last = past[0] if past else None
    credits = []
    if next_day is not None:
        reports = (_report_of(b) for b in boxes)
        credits = sorted(
            (
                r
                for r in reports
                if r is not None
                and r.resolution == BoxResolution.CREDIT
                and r.credit_ship_on == next_day.ship_on
            ),
            key=lambda r: r.id,
        )
    locked = None
    if subscription.status == Status.ACTIVE:
        locked = locked_ship_day(days, cutoff_days=season.cutoff_days, today=today)
    return DeliverySummary(
        next_day=next_day,
        last_shipment=last,
        last_report=_report_of(last) if last else None,
        address_locked_for=locked,
        address_locked_cutoff=cutoff_for(locked, season.cutoff_days) if locked else None,
        not_sent={
            b.ship_on for b in past if b.status in (ShipmentStatus.EMPTY, ShipmentStatus.CLOSED)
        },
        credits=credits,
    )


async def _check_change(conn, *, customer: User, subscription_id: int, ship_on: date, today: date):
    """Lock the customer's own active subscription and check the ship day may change."""
    sub = (
        await Subscription.select_for_update()
        .using_db(conn)
        .get_or_none(id=subscription_id, customer_id=customer.id)
    )
    if sub is None:
        raise NotFound(_("This subscription does not exist."))
    if sub.status != Status.ACTIVE:
        raise Conflict(_("Only an active subscription's deliveries can be changed."))
    season = await Season.get(id=sub.season_id).using_db(conn)
    days = season_ship_days(season)
    form = forms.Form()
    form.read("ship_on", delivery_rules.ship_day_of_season, ship_on, days)
    form.check()
    cutoff = cutoff_for(ship_on, season.cutoff_days)
    field_id = await Plot.get(id=sub.plot_id).using_db(conn).values_list("field_id", flat=True)
    made = await FieldRun.filter(field_id=field_id, ship_on=ship_on).using_db(conn).exists()
    if made or not rules.can_change(ship_on=ship_on, cutoff_days=season.cutoff_days, today=today):
        raise Conflict(
            _("Changes to the delivery of %(day)s closed on %(cutoff)s.")
            % {"day": ship_on, "cutoff": cutoff}
        )
    return sub, days, cutoff


async def hold_ship_day(
    *,
    customer: User,
    subscription_id: int,
    ship_on: date,
    today: date,
    now: datetime,
    links: Links,
) -> bool:
    """Put a ship day of the customer's own active subscription on hold, up to its cutoff:
    no box that day; what keeps comes in the next box. Mails the customer once, in the same
    transaction. False when it was already held."""
    try:
        async with in_transaction() as conn:
            sub, days, cutoff = await _check_change(
                conn, customer=customer, subscription_id=subscription_id, ship_on=ship_on,
                today=today,
            )  # fmt: skip
            if (
                await ShipDayHold.filter(subscription_id=sub.id, ship_on=ship_on)
                .using_db(conn)
                .exists()
            ):
                return False
            await ShipDayHold.create(
                subscription_id=sub.id, ship_on=ship_on, created_at=now, using_db=conn
            )
            next_on = rules.next_ship_day(days, ship_on)
            link = links.subscription(sub.id, "deliveries")
            await queue_mail(
                user=customer,
                key=f"hold:{sub.id}:{ship_on.isoformat()}",
                render=lambda: _hold_mail(
                    ship_on=ship_on, cutoff=cutoff, next_on=next_on, link=link
                ),
                now=now,
                conn=conn,
                cooperative_id=await Season.filter(id=sub.season_id)
                .using_db(conn)
                .first()
                .values_list("cooperative_id", flat=True),
            )
    except IntegrityError:  # the same hold, made a moment ago by another request
        return False
    return True


def _hold_mail(*, ship_on: date, cutoff: date, next_on: date | None, link: str) -> Letter:
    subject = _("Your delivery of %(day)s is on hold") % {"day": ship_on}
    context = {"ship_on": ship_on, "cutoff": cutoff, "next_on": next_on, "link": link}
    return Letter("hold", subject, context)


async def release_hold(*, customer: User, subscription_id: int, ship_on: date, today: date) -> bool:
    """Deliver a held ship day as usual after all, up to its cutoff. False when it was not
    held."""
    async with in_transaction() as conn:
        sub, _days, _cutoff = await _check_change(
            conn, customer=customer, subscription_id=subscription_id, ship_on=ship_on, today=today
        )
        deleted = (
            await ShipDayHold.filter(subscription_id=sub.id, ship_on=ship_on)
            .using_db(conn)
            .delete()
        )
    return bool(deleted)
