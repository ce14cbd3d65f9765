"""A family chooses what its plot grows, within its field's calendar and its plot's area, until
the cut-off; the scheduler reminds those who have not chosen before the cut-off, and after it
gives them the cooperative's default plan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.cropplans import rules
from farm.cropplans.calendar import MAX_AREA, as_rule
from farm.cropplans.models import CalendarCrop, CropCalendar, CropPlan, CropPlanLine
from farm.errors import Conflict, FieldErrors
from farm.i18n import _, localized
from farm.land.models import Plan, Season
from farm.letters import Letter
from farm.links import Links
from farm.notifications.models import Notification
from farm.notifications.services import queue_mail
from farm.sql import id_chunks, one_or_not_found
from farm.subscriptions.models import Status, Subscription
from farm.units import plain_number

CHUNK = 200  # subscriptions per transaction when the scheduler gives default plans
SHOWN = (Status.ACTIVE, Status.COMPLETED, Status.PENDING_PAYMENT)


@dataclass(frozen=True)
class ChoiceView:
    subscription: Subscription  # with its season, plan and plot's field
    rows: list[CalendarCrop]  # the field's calendar, with crops
    plan: CropPlan | None
    lines: list[CropPlanLine]  # with crops
    cutoff_on: date | None
    open: bool  # the family may choose now
    closed: bool  # the cut-off has passed

    @property
    def shown(self) -> bool:
        """Something to show on the plot's page: crops to choose from, or chosen."""
        return bool(self.rows or self.lines or self.cutoff_on)

    @property
    def chosen(self) -> dict[int, Decimal]:
        return {line.crop_id: line.area_m2 for line in self.lines}

    @property
    def monthly(self) -> bool:
        """The family chooses each crop's sowing month (the cooperative allows it)."""
        calendar = self.subscription.plot.field.crop_calendar
        return bool(calendar and calendar.monthly)

    def sow_days(self, row: CalendarCrop) -> list[date]:
        """The days the crop may be sown on this season, one a month, for the month choice."""
        season = self.subscription.season
        return rules.sow_days(
            sow_months=row.sow_months, starts_on=season.starts_on, ends_on=season.ends_on,
            days_to_harvest=row.days_to_harvest,
        )  # fmt: skip


def season_cutoff(
    *, calendar: CropCalendar | None, rows: list[rules.Row], season: Season
) -> date | None:
    if calendar is None:
        return None
    starts = rules.sowing_starts(rows=rows, starts_on=season.starts_on, ends_on=season.ends_on)
    return (
        None
        if starts is None
        else rules.cutoff(sowing_starts=starts, cutoff_days=calendar.cutoff_days)
    )


async def choice_view(*, customer: User, subscription_id: int, today: date) -> ChoiceView:
    """The family's own subscription's crop choice; anyone else's is 'not found'."""
    sub = await one_or_not_found(
        Subscription.filter(
            id=subscription_id, customer_id=customer.id, status__in=SHOWN
        ).select_related("season", "plan", "plot__field__crop_calendar"),
        _("This subscription does not exist."),
    )
    return await _view(sub, today=today)


async def _view(
    sub: Subscription,
    *,
    today: date,
    rows: list[CalendarCrop] | None = None,
    rules_rows: list[rules.Row] | None = None,
) -> ChoiceView:
    """Two queries: the calendar comes with the subscription's field (select_related), and
    a plan always has a line, so the lines bring their plan. One, given the calendar's rows
    as the cut-off's rule needs them (`rules_rows`)."""
    calendar = sub.plot.field.crop_calendar
    if rows is None:
        rows = (
            list(
                await CalendarCrop.filter(calendar_id=calendar.id)
                .select_related("crop")
                .order_by("id")
            )
            if calendar
            else []
        )
    lines = list(
        await CropPlanLine.filter(plan__subscription_id=sub.id)
        .select_related("crop", "plan")
        .order_by("sow_on", "id")
    )
    plan = lines[0].plan if lines else None
    if rules_rows is None:
        rules_rows = [as_rule(r) for r in rows]
    cutoff_on = season_cutoff(calendar=calendar, rows=rules_rows, season=sub.season)
    before = rules.is_open(today=today, cutoff_on=cutoff_on)
    is_open = sub.status == Status.ACTIVE and before
    return ChoiceView(sub, rows, plan, lines, cutoff_on, is_open, closed=not before)


async def plot_crops(*, subscription: Subscription, today: date) -> ChoiceView | None:
    """What the subscription's plot grows, for its page: the subscription comes with its
    season and its plot's field and the field's calendar (subscription_view's
    select_related), and the caller has checked it is the customer's. None, without a query,
    when the field keeps no calendar; else one query (the plan's lines): the cut-off comes
    from the months the calendar keeps with its rows. A calendar whose months were not kept
    (rows written around farm.cropplans.calendar) is read whole instead."""
    calendar = subscription.plot.field.crop_calendar
    if calendar is None:
        return None
    if not calendar.sow_months:
        return await _view(subscription, today=today)
    every_month = rules.Row(crop_id=0, sow_months=calendar.sow_months, min_area_m2=Decimal(0),
                            days_to_harvest=0)  # fmt: skip
    return await _view(subscription, today=today, rows=[], rules_rows=[every_month])


async def choose_crops(
    *, customer: User, subscription_id: int, posted: Mapping[str, str], today: date, now: datetime
) -> None:
    """Save the family's plan (replacing the one it had): `posted` holds `area_<crop id>` in
    m² for each crop grown and, month by month, `sow_<crop id>`, the sowing day it chose (one
    of the view's `sow_days`). Refused after the cut-off or for an unpaid subscription."""
    view = await choice_view(customer=customer, subscription_id=subscription_id, today=today)
    sub = view.subscription
    if sub.status != Status.ACTIVE:
        raise Conflict(_("Crops are chosen once the payment has arrived."))
    if not view.open:
        raise Conflict(_("Crops can no longer be chosen for this plot: the cut-off has passed."))
    form = forms.Form()
    areas: dict[int, Decimal] = {}
    for row in view.rows:
        name = f"area_{row.crop_id}"
        typed = str(posted.get(name) or "").strip()
        if typed:
            area = form.read(name, forms.decimal, typed, maximum=MAX_AREA, allow_zero=True)
            if area is not None:
                areas[row.crop_id] = area
    sow_on: dict[int, date] | None = {} if view.monthly else None
    if sow_on is not None:
        for crop_id in areas:
            name = f"sow_{crop_id}"
            typed = str(posted.get(name) or "").strip()
            if typed and (day := form.read(name, forms.day, typed)) is not None:
                sow_on[crop_id] = day
    form.check()
    try:
        lines = rules.plan_lines(
            rows=[as_rule(r) for r in view.rows], areas=areas,
            plot_area_m2=Decimal(sub.plot.area_m2), starts_on=sub.season.starts_on,
            ends_on=sub.season.ends_on, sow_on=sow_on,
        )  # fmt: skip
    except rules.BadPlan as bad:
        raise FieldErrors(
            {("plan" if k is None else f"area_{k}"): m for k, m in bad.problems.items()}
            | {f"sow_{k}": m for k, m in bad.months.items()}
        ) from None
    try:
        async with in_transaction() as conn:
            await one_or_not_found(
                Subscription.filter(id=sub.id), _("This subscription does not exist."), conn=conn
            )  # locked: two saves at once write one plan after the other
            plan = await CropPlan.get_or_none(subscription_id=sub.id).using_db(conn)
            if plan is None:
                plan = await CropPlan.create(
                    subscription_id=sub.id, field_id=sub.plot.field_id, season_id=sub.season_id,
                    by_default=False, chosen_at=now, using_db=conn,
                )  # fmt: skip
            else:
                await (
                    CropPlan.filter(id=plan.id)
                    .using_db(conn)
                    .update(by_default=False, chosen_at=now)
                )
                await CropPlanLine.filter(plan_id=plan.id).using_db(conn).delete()
            await _write_lines(plan.id, lines, conn)
    except IntegrityError:
        raise Conflict(_("Your plan was saved meanwhile: look at it and save again.")) from None


async def _write_lines(plan_id: int, lines: list[rules.Line], conn) -> None:
    await CropPlanLine.bulk_create(
        [
            CropPlanLine(
                plan_id=plan_id,
                crop_id=line.crop_id,
                area_m2=line.area_m2,
                sow_on=line.sow_on,
                harvest_on=line.harvest_on,
            )  # fmt: skip
            for line in lines
        ],
        using_db=conn,
    )


# ---- the scheduler ----


@dataclass(frozen=True)
class Choosing:
    """A field's season whose families choose on a calendar."""

    field_id: int
    season: Season
    rows: list[CalendarCrop]
    cutoff_on: date


async def _choosings(*, today: date) -> list[Choosing]:
    """Every field with a calendar, in each season not ended that offers its plots."""
    calendars = list(await CropCalendar.all().order_by("id"))
    if not calendars:
        return []
    rows: dict[int, list[CalendarCrop]] = {}
    for row in (
        await CalendarCrop.filter(calendar_id__in=[c.id for c in calendars])
        .select_related("crop")
        .order_by("id")
    ):
        rows.setdefault(row.calendar_id, []).append(row)
    pairs = set(
        await Plan.filter(
            field_id__in=[c.field_id for c in calendars], season__ends_on__gt=today
        ).values_list("field_id", "season_id")
    )
    seasons = {s.id: s for s in await Season.filter(id__in={s for _f, s in pairs})}
    found = []
    for calendar in calendars:
        own = rows.get(calendar.id, [])
        for field_id, season_id in sorted(pairs):
            if field_id != calendar.field_id:
                continue
            season = seasons[season_id]
            cutoff_on = season_cutoff(
                calendar=calendar, rows=[as_rule(r) for r in own], season=season
            )
            if cutoff_on is not None:
                found.append(Choosing(field_id, season, own, cutoff_on))
    return found


def _unchosen(choosing: Choosing, *related: str) -> AsyncIterator[list[Subscription]]:
    """The field's paid subscriptions of the season without a plan, CHUNK at a time."""
    query = Subscription.filter(
        season_id=choosing.season.id, plot__field_id=choosing.field_id, status=Status.ACTIVE
    ).exclude(
        id__in=Subquery(CropPlan.filter(season_id=choosing.season.id).values("subscription_id"))
    )
    return id_chunks(query.select_related(*related), CHUNK)


def choice_mail(
    *, season: Season, code: str, cutoff_on: date, defaults: list[tuple[str, str]], link: str
) -> Letter:
    context = {
        "season": localized(season.name, season.name_en),
        "code": code,
        "last_day": cutoff_on - timedelta(days=1),
        "defaults": "、".join(localized(*names) for names in defaults),
        "link": link,
    }
    subject = _("Choose what grows on plot %(code)s by %(day)s") % {
        "code": code,
        "day": context["last_day"],
    }
    return Letter("crop_choice", subject, context)


async def remind_choosers(*, today: date, now: datetime, links: Links) -> int:
    """In the REMIND_DAYS before a cut-off, mail each family that has not chosen yet (in its
    language), once per subscription (the mail's key). The number of mails queued."""
    sent = 0
    for choosing in await _choosings(today=today):
        if not rules.remind_due(today=today, cutoff_on=choosing.cutoff_on):
            continue
        async for due in _unchosen(choosing, "customer", "plot"):
            keys = {f"crop-choice:{s.id}": s for s in due}
            done = set(await Notification.filter(key__in=list(keys)).values_list("key", flat=True))
            for key, sub in keys.items():
                if key in done:
                    continue
                defaults = _default_names(choosing.rows, Decimal(sub.plot.area_m2))
                sent += await queue_mail(
                    user=sub.customer, key=key,
                    render=partial(
                        choice_mail, season=choosing.season, code=sub.plot.code,
                        cutoff_on=choosing.cutoff_on, defaults=defaults,
                        link=links.to(f"/account/subscriptions/{sub.id}/crops"),
                    ),
                    now=now, cooperative_id=choosing.season.cooperative_id,
                )  # fmt: skip
    return sent


def _default_names(rows: list[CalendarCrop], plot_area: Decimal) -> list[tuple[str, str]]:
    areas = rules.default_areas(rows=[as_rule(r) for r in rows], plot_area_m2=plot_area)
    return [(r.crop.name, r.crop.name_en) for r in rows if r.crop_id in areas]


def default_plan_mail(
    *, season: Season, code: str, lines: list[tuple[tuple[str, str], rules.Line]], link: str
) -> Letter:
    """The family did not choose by the cut-off: what its plot grows now, and where to see it."""
    context = {
        "season": localized(season.name, season.name_en),
        "code": code,
        "lines": [
            {
                "crop": localized(*names),
                "area": plain_number(line.area_m2),
                "sow_on": line.sow_on,
                "harvest_on": line.harvest_on,
            }
            for names, line in lines
        ],  # fmt: skip
        "link": link,
    }
    subject = _("Plot %(code)s grows the cooperative's plan") % {"code": code}
    return Letter("crop_default", subject, context)


async def give_default_plans(*, today: date, now: datetime, links: Links) -> int:
    """From the cut-off on, give each paid subscription without a plan its field's default
    plan, once (crop_plans unique on the subscription), CHUNK subscriptions a transaction, and
    tell its family by mail in the same transaction (what grows, sown and harvested when). A
    subscription paid after the cut-off gets it on the next run. The number of plans given."""
    given = 0
    for choosing in await _choosings(today=today):
        if today < choosing.cutoff_on:
            continue
        rows = [as_rule(r) for r in choosing.rows]
        names = {r.crop_id: (r.crop.name, r.crop.name_en) for r in choosing.rows}
        async for due in _unchosen(choosing, "plot", "customer"):
            plans: list[tuple[Subscription, list[rules.Line]]] = []
            for sub in due:
                area = Decimal(sub.plot.area_m2)
                areas = rules.default_areas(rows=rows, plot_area_m2=area)
                try:
                    lines = rules.plan_lines(
                        rows=rows, areas=areas, plot_area_m2=area,
                        starts_on=choosing.season.starts_on, ends_on=choosing.season.ends_on,
                    )  # fmt: skip
                except rules.BadPlan:
                    continue  # no default plan fits this plot: nothing to give
                plans.append((sub, lines))
            try:
                async with in_transaction() as conn:
                    for sub, lines in plans:
                        plan = await CropPlan.create(
                            subscription_id=sub.id, field_id=choosing.field_id,
                            season_id=choosing.season.id, by_default=True, chosen_at=now,
                            using_db=conn,
                        )  # fmt: skip
                        await _write_lines(plan.id, lines, conn)
                        await queue_mail(
                            user=sub.customer, key=f"crop-default:{sub.id}",
                            render=partial(
                                default_plan_mail, season=choosing.season, code=sub.plot.code,
                                lines=[(names[line.crop_id], line) for line in lines],
                                link=links.to(f"/account/subscriptions/{sub.id}/plot"),
                            ),
                            now=now, conn=conn, cooperative_id=choosing.season.cooperative_id,
                        )  # fmt: skip
            except IntegrityError:
                continue  # another scheduler gave this chunk's plans meanwhile
            given += len(plans)
    return given
