"""What subscribers and the public see of the farm log: a plot's timeline, a lot's trace,
and who may open a photo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Min

from farm.accounts.models import Role, User
from farm.errors import NotFound
from farm.fieldwork import rules
from farm.fieldwork.models import (
    HarvestLot,
    Household,
    LandTransfer,
    Photo,
    WorkEntry,
    WorkEntryPlot,
    WorkInput,
    WorkShift,
)
from farm.i18n import _
from farm.land.models import CareMode, Cooperative, Plot, Season
from farm.sql import one_or_not_found
from farm.subscriptions.models import Status, Subscription

VISIBLE = (Status.ACTIVE, Status.COMPLETED)


def _work_on_plot(plot: Plot, starts_on: date, ends_on: date) -> Q:
    """Work on this plot, or on its whole field, inside the season. The plot's entries come
    from a subquery on its own index, not from a join with every link of the field's work."""
    on_plot = WorkEntryPlot.filter(plot_id=plot.id).values("entry_id")
    return Q(
        field_id=plot.field_id,
        worked_on__gte=starts_on,
        worked_on__lt=ends_on,
        voided_at__isnull=True,
    ) & (Q(whole_field=True) | Q(id__in=Subquery(on_plot)))


@dataclass(frozen=True)
class TimelineItem:
    day: date
    entry: WorkEntry | None = None
    lot: HarvestLot | None = None


@dataclass(frozen=True)
class PlotPage:
    subscription: Subscription
    growing: str
    items: list[TimelineItem]
    can_log: bool


async def plot_page(*, customer: User, subscription_id: int) -> PlotPage:
    """The subscriber's own plot: its sign, what grows, and the season's work and harvests on
    the plot and its field, newest first."""
    sub = await one_or_not_found(
        Subscription.filter(
            id=subscription_id, customer_id=customer.id, status__in=VISIBLE
        ).select_related("plan", "season__cooperative", "plot__field"),
        _("This subscription does not exist."),
    )
    season, plot = sub.season, sub.plot
    where = _work_on_plot(plot, season.starts_on, season.ends_on)
    # the page does not list an entry's plots: only its inputs and photos are fetched
    entries = await WorkEntry.filter(where).prefetch_related("inputs", "photos")
    lots = await HarvestLot.filter(
        Q(plot_id=plot.id) | Q(plot_id=None, field_id=plot.field_id),
        harvested_on__gte=season.starts_on,
        harvested_on__lt=season.ends_on,
        voided_at__isnull=True,
    ).select_related("crop")
    items = [TimelineItem(day=e.worked_on, entry=e) for e in entries]
    items += [TimelineItem(day=lot.harvested_on, lot=lot) for lot in lots]
    items.sort(key=lambda i: (i.day, i.lot is not None), reverse=True)
    return PlotPage(
        subscription=sub,
        growing=sub.plan.crop_plan,
        items=items,
        can_log=sub.status == Status.ACTIVE and sub.plan.care_mode == CareMode.SELF_TENDED,
    )


@dataclass(frozen=True)
class Trace:
    lot: HarvestLot
    cooperative: Cooperative
    season: Season | None
    lines: list[rules.TraceLine]


async def trace(*, code: str) -> Trace:
    """Public: where a box's produce came from and what was done on that land that season.
    Names of people are not shown: only the cooperative's name and village."""
    code = code.strip().upper()
    lot = None
    if rules.is_lot_code(code):
        lot = await HarvestLot.get_or_none(code=code).prefetch_related("crop", "field", "plot")
    if lot is None:
        raise NotFound(_("No harvest has this code."))
    cooperative = await Cooperative.get(id=lot.cooperative_id)
    season = await Season.filter(
        cooperative_id=lot.cooperative_id,
        starts_on__lte=lot.harvested_on,
        ends_on__gt=lot.harvested_on,
    ).first()
    lines: list[rules.TraceLine] = []
    if season is not None:
        where = Q(
            field_id=lot.field_id,
            worked_on__gte=season.starts_on,
            worked_on__lte=lot.harvested_on,
            voided_at__isnull=True,
        )
        if lot.plot_id is not None:  # the lot's plot alone: what else work was on is not told
            where &= Q(whole_field=True) | Q(plot_links__plot_id=lot.plot_id)
        # Grouped by the database into a line a day per kind of work, so that the page reads
        # as many rows as it shows however the work was logged (a form per plot, on a field
        # of 4,650 plots), each line with the plots it was on and the inputs used.
        ids = Subquery(WorkEntry.filter(where).values("id"))
        days = await (
            WorkEntry.filter(id__in=ids)
            .annotate(first=Min("id"))
            .group_by("worked_on", "activity", "whole_field")
            .order_by("worked_on", "first")
            .values_list("worked_on", "activity", "whole_field")
        )
        plots = []
        if lot.plot_id is None:
            plots = await (
                WorkEntryPlot.filter(entry_id__in=ids, entry__whole_field=False)
                .annotate(n=Count("plot_id", distinct=True))
                .group_by("entry__worked_on", "entry__activity")
                .values_list("entry__worked_on", "entry__activity", "n")
            )
        used = await (
            WorkInput.filter(entry_id__in=ids)
            .distinct()
            .order_by("name", "dose", "organic")
            .values_list(
                "entry__worked_on", "entry__activity", "entry__whole_field", "name", "dose",
                "organic",
            )
        )  # fmt: skip
        lines = rules.trace_lines(days, plots, used)
    return Trace(lot=lot, cooperative=cooperative, season=season, lines=lines)


async def photo_for(*, user: User | None, photo_id: int) -> Photo:
    """A photo, for its cooperative's managers, and for subscribers whose plot the work was
    on (their plot, or its whole field, during their season). Anyone else: not found."""
    photo = await Photo.get_or_none(id=photo_id).prefetch_related("entry")
    missing = NotFound(_("Page not found."))
    if photo is None or user is None:
        raise missing
    entry = photo.entry
    if user.role == Role.MANAGER and user.cooperative_id == entry.cooperative_id:
        return photo
    if user.role != Role.CUSTOMER:
        raise missing
    subs = await Subscription.filter(
        customer_id=user.id, status__in=VISIBLE, plot__field_id=entry.field_id
    ).prefetch_related("season")
    plot_ids = set(await entry.plot_links.all().values_list("plot_id", flat=True))
    for sub in subs:
        in_season = sub.season.starts_on <= entry.worked_on < sub.season.ends_on
        on_plot = entry.whole_field or sub.plot_id in plot_ids
        if in_season and on_plot:
            return photo
    raise missing


async def tenders(*, plot: PlotPage) -> list[Household]:
    """The households who tend the plot this season (they worked on it, or on its whole field,
    or gave the field's land), only those who agreed to be shown to its family. One query."""
    sub = plot.subscription
    entry_ids = [i.entry.id for i in plot.items if i.entry is not None]
    worked = WorkShift.filter(entry_id__in=entry_ids or [0]).values("household_id")
    season = sub.season
    gave = LandTransfer.filter(  # its land served the season, for a day at least
        Q(ends_on=None) | Q(ends_on__gt=season.starts_on),
        field_id=sub.plot.field_id,
        starts_on__lt=season.ends_on,
    ).values("household_id")
    return list(
        await Household.filter(
            Q(id__in=Subquery(worked)) | Q(id__in=Subquery(gave)),
            cooperative_id=season.cooperative_id,
            shown_to_subscribers=True,
        ).order_by("name", "id")
    )


async def household_for(*, user: User | None, household_id: int) -> Household:
    """A household with a photo: for its cooperative's managers; for a family whose active or
    completed plot is in its cooperative, only if it agreed to be shown. Else not found."""
    household = await Household.get_or_none(id=household_id)
    missing = NotFound(_("Page not found."))
    if household is None or user is None or not household.picture:
        raise missing
    if user.role == Role.MANAGER and user.cooperative_id == household.cooperative_id:
        return household
    if user.role != Role.CUSTOMER or not household.shown_to_subscribers:
        raise missing
    if not await Subscription.filter(
        customer_id=user.id, status__in=VISIBLE, season__cooperative_id=household.cooperative_id
    ).exists():
        raise missing
    return household
