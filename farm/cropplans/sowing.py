"""The sowing list: per field and ISO week of a season, which plots get which crop, how much
area, and how much seed or how many seedlings that takes (the calendar's figure a square
metre); as a page and a CSV. Logging a week's sowing from it is one step, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise.exceptions import IntegrityError

from farm.accounts.models import User
from farm.cropplans import rules
from farm.cropplans.models import CalendarCrop, CropPlanLine, SowingLog
from farm.csvfiles import CsvFile, csv_bytes
from farm.errors import Conflict, NotFound
from farm.fieldwork import services as fieldwork
from farm.fieldwork.models import Activity, Crop, WorkEntry
from farm.fieldwork.photos import PhotoStore
from farm.i18n import _, localized
from farm.land.console import own_field
from farm.land.models import Field, Season
from farm.land.services import seasons_and_chosen
from farm.paging import Page, paginate
from farm.sql import count_by
from farm.units import plain_number

LINES_PER_PAGE = 50


@dataclass(frozen=True)
class SowingLine:
    plot_code: str
    plot_id: int
    crop: Crop
    area_m2: Decimal
    sow_on: date
    seed: Decimal | None  # grams, or seedlings; None when the crop left the calendar
    seedlings: bool


@dataclass(frozen=True)
class Week:
    week_on: date  # Monday
    lines: int
    logged: WorkEntry | None


@dataclass(frozen=True)
class SowingView:
    field: Field
    seasons: list[Season]
    season: Season | None
    weeks: list[Week]
    week: Week | None
    lines: Page[SowingLine]


def _lines_query(field_id: int, season_id: int):
    return CropPlanLine.filter(
        plan__field_id=field_id,
        plan__season_id=season_id,
        plan__subscription__status__in=("active", "completed"),
    )


async def _seeds(field_id: int) -> dict[int, tuple[Decimal, bool]]:
    return {
        r.crop_id: (Decimal(r.seed_per_m2), r.seedlings)
        for r in await CalendarCrop.filter(calendar__field_id=field_id)
    }


async def _as_lines(query, field_id: int) -> list[SowingLine]:
    seeds = await _seeds(field_id)
    found = []
    for line in await query.select_related("crop", "plan__subscription__plot"):
        seed = seeds.get(line.crop_id)
        found.append(
            SowingLine(
                plot_code=line.plan.subscription.plot.code,
                plot_id=line.plan.subscription.plot_id,
                crop=line.crop,
                area_m2=Decimal(line.area_m2),
                sow_on=line.sow_on,
                seed=rules.seed_amount(area_m2=Decimal(line.area_m2), seed_per_m2=seed[0])
                if seed
                else None,
                seedlings=bool(seed and seed[1]),
            )
        )
    return found


async def _weeks(field_id: int, season_id: int) -> list[Week]:
    by_week: dict[date, int] = {}
    for sow_on, n in (await count_by(_lines_query(field_id, season_id), "sow_on")).items():
        week = rules.week_of(sow_on)
        by_week[week] = by_week.get(week, 0) + n
    logs = {
        log.week_on: log.entry
        for log in await SowingLog.filter(field_id=field_id, season_id=season_id).select_related(
            "entry"
        )
    }
    return [Week(w, n, logs.get(w)) for w, n in sorted(by_week.items())]


async def sowing_view(
    *, manager: User, field_id: int, season_id: int | None, week: str, page: int
) -> SowingView:
    """The field's sowing list of a season (the latest by default) and one of its weeks (the
    first not logged yet by default), a page of its lines by plot code."""
    field = await own_field(manager=manager, field_id=field_id)
    seasons, season = await seasons_and_chosen(manager.cooperative_id, season_id)
    if season is None and seasons:
        season = seasons[0]
    weeks = await _weeks(field.id, season.id) if season else []
    chosen = _chosen_week(weeks, week)
    lines: Page[SowingLine] = Page([], 1, LINES_PER_PAGE, 0)
    if season and chosen:
        query = _lines_query(field.id, season.id).filter(
            sow_on__gte=chosen.week_on, sow_on__lt=chosen.week_on + _WEEK
        )
        lines = await paginate(
            query, page=page, size=LINES_PER_PAGE,
            order_by=("plan__subscription__plot__code", "crop_id", "id"),
            fetch=lambda q: _as_lines(q, field.id),
        )  # fmt: skip
    return SowingView(field, seasons, season, weeks, chosen, lines)


def _chosen_week(weeks: list[Week], typed: str) -> Week | None:
    for w in weeks:
        if w.week_on.isoformat() == typed:
            return w
    if typed:
        raise NotFound(_("No sowing that week."))
    return next((w for w in weeks if w.logged is None), weeks[0] if weeks else None)


_WEEK = timedelta(days=7)


def seed_text(line: SowingLine) -> str:
    if line.seed is None:
        return ""
    if line.seedlings:
        return _("%(n)s seedlings") % {"n": plain_number(line.seed)}
    return _("%(n)s g") % {"n": plain_number(line.seed)}


async def sowing_csv(*, manager: User, field_id: int, season_id: int) -> CsvFile:
    """The whole season's sowing list of a field, week by week."""
    field = await own_field(manager=manager, field_id=field_id)
    season = await Season.get_or_none(id=season_id, cooperative_id=manager.cooperative_id)
    if season is None:
        raise NotFound(_("This season does not exist."))
    lines = await _as_lines(
        _lines_query(field.id, season.id).order_by(
            "sow_on", "plan__subscription__plot__code", "crop_id", "id"
        ),
        field.id,
    )
    header = [
        _("Week"),
        _("Sowing day"),
        _("Plot"),
        _("Crop"),
        _("Area (m²)"),
        _("Seed or seedlings"),
    ]
    rows = [
        [
            rules.week_of(line.sow_on).isoformat(),
            line.sow_on.isoformat(),
            line.plot_code,
            localized(line.crop.name, line.crop.name_en),
            plain_number(line.area_m2),
            seed_text(line),
        ]
        for line in lines
    ]
    name = f"{_('sowing-list')}-{field.name}-{localized(season.name, season.name_en)}.csv"
    return CsvFile(csv_bytes(header, rows), name, f"sowing-list-{field.id}-{season.id}.csv")


async def log_sowing(
    *, manager: User, field_id: int, season_id: int, week: str, today: date, now: datetime,
    store: PhotoStore, then: Callable | None = None,
) -> WorkEntry:  # fmt: skip
    """Log a week's sowing on the field as one work entry (activity sowing, the week's plots,
    the seed of each crop as its inputs), through the farm log's own use case; once (sowing_logs
    unique on field, season and week, written in the entry's transaction)."""
    view = await sowing_view(
        manager=manager, field_id=field_id, season_id=season_id, week=week, page=1
    )
    if view.season is None or view.week is None:
        raise NotFound(_("No sowing that week."))
    if view.week.logged is not None:
        raise Conflict(_("This week's sowing is logged already."))
    week_on = view.week.week_on
    lines = await _as_lines(
        _lines_query(view.field.id, view.season.id).filter(
            sow_on__gte=week_on, sow_on__lt=week_on + _WEEK
        ),
        view.field.id,
    )
    seed: dict[int, tuple[Crop, Decimal, bool, Decimal]] = {}
    for line in lines:
        crop, amount, seedlings, area = seed.get(
            line.crop.id, (line.crop, Decimal(0), False, Decimal(0))
        )
        seed[line.crop.id] = (crop, amount + (line.seed or 0), line.seedlings, area + line.area_m2)
    inputs = [
        fieldwork.InputLine(
            name=localized(crop.name, crop.name_en)[:60],
            organic=False,
            dose=seed_text(SowingLine("", 0, crop, area, week_on, amount, seedlings))[:60],
        )  # fmt: skip
        for crop, amount, seedlings, area in seed.values()
        if amount
    ]
    notes = "; ".join(
        f"{localized(crop.name, crop.name_en)} {plain_number(area)} m²"
        for crop, _amount, _s, area in seed.values()
    )
    form = fieldwork.WorkInputForm(
        field_id=view.field.id, plot_ids=sorted({line.plot_id for line in lines}),
        whole_field=False, activity=Activity.SOWING.value, worked_on=today.isoformat(),
        notes=_("Sowing of the week of %(week)s: %(crops)s") % {"week": week_on, "crops": notes},
        inputs=inputs,
    )  # fmt: skip

    async def claim(conn, entry: WorkEntry) -> None:
        await SowingLog.create(
            field_id=view.field.id, season_id=view.season.id, week_on=week_on, entry_id=entry.id,
            logged_at=now, using_db=conn,
        )  # fmt: skip

    try:
        return await fieldwork.log_work(
            manager=manager, form=form, today=today, now=now, store=store, then=claim
        )
    except IntegrityError:
        raise Conflict(_("This week's sowing is logged already.")) from None
