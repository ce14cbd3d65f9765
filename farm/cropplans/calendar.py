"""The console's crop calendars: a cooperative's fields with their calendars, and a field's
calendar kept row by row (a crop of the catalogue, the months it is sown in, its least area,
days to harvest, seed a square metre, its area in the default plan) with its cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.cropplans import rules
from farm.cropplans.models import CalendarCrop, CropCalendar
from farm.errors import FieldErrors
from farm.fieldwork import services as fieldwork
from farm.fieldwork.models import Crop
from farm.i18n import _
from farm.land.console import own_field
from farm.land.models import Field
from farm.paging import Page, paginate
from farm.sql import count_by, one_or_not_found

FIELDS_PER_PAGE = 30
ROWS_PER_PAGE = 30
MAX_AREA = Decimal(100_000)  # m²: more than a field
MAX_SEED = Decimal(100_000)

ROW_NAMES = (
    "crop_id", "months", "min_area_m2", "days_to_harvest", "seed_per_m2", "seedlings",
    "default_area_m2",
)  # fmt: skip


@dataclass(frozen=True)
class FieldCalendar:
    field: Field
    crops: int  # rows on its calendar


async def list_fields(*, manager: User, text: str = "", page: int = 1) -> Page[FieldCalendar]:
    """A page of the cooperative's fields, each with how many crops its calendar holds."""
    query = Field.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(name__icontains=text)
    found = await paginate(query, page=page, size=FIELDS_PER_PAGE, order_by=("name", "id"))
    counts = await count_by(
        CalendarCrop.filter(calendar__field_id__in=[f.id for f in found.items]),
        "calendar__field_id",
    )
    rows = [FieldCalendar(f, counts.get(f.id, 0)) for f in found.items]
    return Page(rows, found.number, found.size, found.total)


@dataclass(frozen=True)
class CalendarView:
    field: Field
    calendar: CropCalendar | None
    rows: Page[CalendarCrop]
    crops: list[Crop]  # the catalogue's crops not retired, for the form


async def calendar_view(*, manager: User, field_id: int, page: int = 1) -> CalendarView:
    field = await own_field(manager=manager, field_id=field_id)
    calendar = await CropCalendar.get_or_none(field_id=field.id)
    rows = await paginate(
        CalendarCrop.filter(calendar__field_id=field.id),
        page=page, size=ROWS_PER_PAGE, order_by=("crop__name", "id"),
        fetch=lambda q: q.select_related("crop"),
    )  # fmt: skip
    crops = [
        c for c in await fieldwork.crops(cooperative_id=manager.cooperative_id) if not c.retired
    ]
    return CalendarView(field, calendar, rows, crops)


async def _calendar(field_id: int, conn) -> CropCalendar:
    calendar = await CropCalendar.get_or_none(field_id=field_id).using_db(conn)
    if calendar is None:
        calendar = await CropCalendar.create(field_id=field_id, using_db=conn)
    return calendar


async def set_cutoff(
    *, manager: User, field_id: int, cutoff_days: str, monthly: bool = False
) -> None:
    """How families choose on the field's calendar: until how many days before the first
    sowing, and whether they choose each crop's sowing month (plans already saved keep
    theirs: a plan chosen for the whole season is sown in each crop's first month)."""
    field = await own_field(manager=manager, field_id=field_id)
    form = forms.Form()
    days = form.read("cutoff_days", forms.whole, cutoff_days, low=0, high=rules.MAX_CUTOFF_DAYS)
    form.check()
    try:
        async with in_transaction() as conn:
            calendar = await _calendar(field.id, conn)
            await (
                CropCalendar.filter(id=calendar.id)
                .using_db(conn)
                .update(cutoff_days=days, monthly=monthly)
            )
    except IntegrityError:  # made meanwhile by another request
        await CropCalendar.filter(field_id=field.id).update(cutoff_days=days, monthly=monthly)


def _months(text: str) -> int:
    """'3,4,5' or '3-5' (or both, with Chinese commas) -> the months' bits."""
    months: set[int] = set()
    for part in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        if not part:
            continue
        low, _sep, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise forms.Problem("invalid", _months_message()) from None
        if not (1 <= first <= last <= 12):
            raise forms.Problem("invalid", _months_message())
        months.update(range(first, last + 1))
    if not months:
        raise forms.Problem("required", _months_message())
    return rules.months_mask(months)


def _months_message() -> str:
    return _("Give the months as numbers 1 to 12, like 3,4,5 or 3-5.")


def months_text(mask: int) -> str:
    return ",".join(str(m) for m in rules.months_of(mask))


async def _read_row(manager: User, values: dict[str, str]) -> dict:
    form = forms.Form()
    crop_id = None
    known = {
        str(c.id) for c in await Crop.filter(cooperative_id=manager.cooperative_id, retired=False)
    }
    chosen = form.read(
        "crop_id", forms.choice, values["crop_id"], known, message=_("Choose a crop.")
    )
    crop_id = int(chosen) if chosen else None
    row = {
        "crop_id": crop_id,
        "sow_months": form.read("months", _months, values["months"]),
        "min_area_m2": form.read(
            "min_area_m2", forms.decimal, values["min_area_m2"], maximum=MAX_AREA
        ),
        "days_to_harvest": form.read(
            "days_to_harvest", forms.whole, values["days_to_harvest"], low=1,
            high=rules.MAX_DAYS_TO_HARVEST,
        ),
        "seed_per_m2": form.read(
            "seed_per_m2", forms.decimal, values["seed_per_m2"], maximum=MAX_SEED, allow_zero=True
        ),
        "seedlings": values["seedlings"] == "1",
        "default_area_m2": form.read(
            "default_area_m2", forms.decimal, values["default_area_m2"] or "0", maximum=MAX_AREA,
            allow_zero=True,
        ),
    }  # fmt: skip
    if (
        row["default_area_m2"]
        and row["min_area_m2"]
        and 0 < row["default_area_m2"] < row["min_area_m2"]
    ):
        form.refuse("default_area_m2", _("The default area is at least the least area, or 0."))
    form.check()
    return row


async def keep_sow_months(calendar_id: int, conn) -> None:
    """The calendar's months (any row's) again from its rows, in the transaction that changed
    them, the calendar's row locked first so two managers' changes cannot both write theirs."""
    # (only a query of whole rows says FOR UPDATE: tortoise drops it from values_list/exists)
    await CropCalendar.filter(id=calendar_id).using_db(conn).select_for_update().only("id")
    months = 0
    for mask in (
        await CalendarCrop.filter(calendar_id=calendar_id)
        .using_db(conn)
        .values_list("sow_months", flat=True)
    ):
        months |= mask
    await CropCalendar.filter(id=calendar_id).using_db(conn).update(sow_months=months)


async def add_row(*, manager: User, field_id: int, values: dict[str, str]) -> CalendarCrop:
    field = await own_field(manager=manager, field_id=field_id)
    row = await _read_row(manager, values)
    try:
        async with in_transaction() as conn:
            calendar = await _calendar(field.id, conn)
            made = await CalendarCrop.create(calendar_id=calendar.id, **row, using_db=conn)
            await keep_sow_months(calendar.id, conn)
            return made
    except IntegrityError:
        raise FieldErrors({"crop_id": _("This crop is on the calendar already.")}) from None


async def own_row(*, manager: User, field_id: int, row_id: int) -> CalendarCrop:
    return await one_or_not_found(
        CalendarCrop.filter(
            id=row_id, calendar__field_id=field_id,
            calendar__field__cooperative_id=manager.cooperative_id,
        ).select_related("crop", "calendar__field"),
        _("This crop is not on the calendar."),
    )  # fmt: skip


async def update_row(*, manager: User, field_id: int, row_id: int, values: dict[str, str]) -> None:
    found = await own_row(manager=manager, field_id=field_id, row_id=row_id)
    row = await _read_row(manager, values)
    try:
        async with in_transaction() as conn:
            await CalendarCrop.filter(id=found.id).using_db(conn).update(**row)
            await keep_sow_months(found.calendar_id, conn)
    except IntegrityError:
        raise FieldErrors({"crop_id": _("This crop is on the calendar already.")}) from None


async def remove_row(*, manager: User, field_id: int, row_id: int) -> None:
    """Take a crop off the calendar: families choose it no more; plans that have it keep it."""
    found = await own_row(manager=manager, field_id=field_id, row_id=row_id)
    async with in_transaction() as conn:
        await CalendarCrop.filter(id=found.id).using_db(conn).delete()
        await keep_sow_months(found.calendar_id, conn)


def row_form(row: CalendarCrop) -> dict[str, str]:
    return {
        "crop_id": str(row.crop_id), "months": months_text(row.sow_months),
        "min_area_m2": str(row.min_area_m2), "days_to_harvest": str(row.days_to_harvest),
        "seed_per_m2": str(row.seed_per_m2), "seedlings": "1" if row.seedlings else "",
        "default_area_m2": str(row.default_area_m2),
    }  # fmt: skip


def as_rule(row: CalendarCrop) -> rules.Row:
    return rules.Row(
        crop_id=row.crop_id, sow_months=row.sow_months, min_area_m2=Decimal(row.min_area_m2),
        days_to_harvest=row.days_to_harvest, seed_per_m2=Decimal(row.seed_per_m2),
        default_area_m2=Decimal(row.default_area_m2),
    )  # fmt: skip
