"""The manager's console for land: fields cut into plots (seasons and plans are in
farm/seasons/console.py).

Every service reads and writes only the manager's own cooperative; anything else is "not
found". Services take what the forms typed (the *Input dataclasses, plain text) and refuse bad
input with FieldErrors before writing anything."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.errors import FieldErrors
from farm.i18n import _
from farm.land import rules
from farm.land.models import Cooperative, Field, Plot, PlotClaim, Season
from farm.land.services import seasons_and_chosen
from farm.paging import Page, paginate
from farm.sql import one_or_not_found, select

MAX_FIRST_NUMBER = 9999
MAX_NAME = 100
FIELDS_PER_PAGE = 50
PLOTS_PER_PAGE = 100
PLOT_STATUSES = ("free", "reserved", "sold")


# ---- fields and plots ----


@dataclass(frozen=True)
class FieldInput:
    name: str
    width_m: str
    height_m: str


@dataclass(frozen=True)
class GridInput:
    prefix: str
    plot_w: str
    plot_h: str
    cols: str
    rows: str
    x: str = "0"
    y: str = "0"
    first_number: str = "1"
    area_m2: str = ""  # blank: each plot's w × h


@dataclass(frozen=True)
class PlotInput:
    code: str
    x: str
    y: str
    w: str
    h: str
    area_m2: str = ""  # blank: w × h


@dataclass(frozen=True)
class FieldRow:
    field: Field
    plots: int
    area_m2: Decimal


@dataclass(frozen=True)
class MapPlot:
    plot: Plot
    status: str  # free, reserved, sold


@dataclass(frozen=True)
class FieldMap:
    """A field's map (every plot of the one field, with its state in `season`), its counts
    by state, and one page of its plots for the list below the map (`listed`, filtered by
    code and state)."""

    field: Field
    plots: list[MapPlot]
    seasons: list[Season]
    season: Season | None
    counts: dict[str, int]
    listed: Page[MapPlot] | None = None
    code: str = ""
    status: str = ""


class ResizeCheck(Protocol):
    """What stands above land and holds some of a field (fieldwork: the land households
    transferred) says of its new size: why it may not have `area_m2` from `today` on, or
    None. Called within the resize's transaction (`conn`), the field's row locked FOR NO KEY
    UPDATE; the app passes farm.fieldwork.services.field_resize_problem."""

    def __call__(
        self, conn: BaseDBAsyncClient, *, field: Field, area_m2: Decimal, today: date
    ) -> Awaitable[str | None]: ...


async def own_field(
    *, manager: User, field_id: int, conn: BaseDBAsyncClient | None = None, no_key: bool = False
) -> Field:
    """The manager's field (locked, within `conn`: FOR NO KEY UPDATE with `no_key`); any
    other is 'not found'."""
    return await one_or_not_found(
        Field.filter(id=field_id, cooperative_id=manager.cooperative_id),
        _("This field does not exist."),
        conn=conn,
        no_key=no_key,
    )


async def own_season(
    *, manager: User, season_id: int, conn: BaseDBAsyncClient | None = None
) -> Season:
    """The manager's season (locked, within `conn`); any other is 'not found'."""
    return await one_or_not_found(
        Season.filter(id=season_id, cooperative_id=manager.cooperative_id),
        _("This season does not exist."),
        conn=conn,
    )


async def list_fields(*, manager: User, text: str = "", page: int = 1) -> Page[FieldRow]:
    """A page of the cooperative's fields (those whose name holds `text`), by name, with how
    many plots each has and their area, counted by the database."""
    query = Field.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(name__icontains=text)
    found = await paginate(query, page=page, size=FIELDS_PER_PAGE, order_by=("name", "id"))
    sums: dict[int, tuple[int, Decimal]] = {}
    if found.items:
        marks = ", ".join(f"${i + 1}" for i in range(len(found.items)))
        for r in await select(
            connections.get("default"),
            # Whole hundredths of m²: SQLite would sum decimal text as floats.
            "SELECT field_id, COUNT(*) AS n, SUM(CAST(ROUND(area_m2 * 100) AS INTEGER)) AS centi"  # noqa: S608 (only placeholders are formatted in)
            f" FROM plots WHERE field_id IN ({marks}) GROUP BY field_id",
            [f.id for f in found.items],
        ):
            sums[r["field_id"]] = (int(r["n"]), Decimal(int(r["centi"] or 0)) / 100)
    rows = [FieldRow(f, *sums.get(f.id, (0, Decimal(0)))) for f in found.items]
    return Page(rows, found.number, found.size, found.total)


def _check_field(data: FieldInput) -> tuple[str, Decimal | None, Decimal | None]:
    form = forms.Form()
    name = form.read("name", forms.text, data.name, limit=MAX_NAME, required=True)
    width = form.read("width_m", forms.decimal, data.width_m, maximum=rules.MAX_SIDE_M)
    height = form.read("height_m", forms.decimal, data.height_m, maximum=rules.MAX_SIDE_M)
    form.check()
    return name or "", width, height


async def _name_taken(manager: User, name: str, conn: BaseDBAsyncClient, but: int = 0) -> None:
    """Field names are unique in a cooperative (compared without case): refused if taken."""
    query = Field.filter(cooperative_id=manager.cooperative_id, name__iexact=name).exclude(id=but)
    if await query.using_db(conn).exists():
        raise FieldErrors(
            {"name": _("Your cooperative already has a field named %(name)s.") % {"name": name}}
        )


async def create_field(*, manager: User, data: FieldInput) -> Field:
    """A new field of the manager's cooperative; plots are cut from it afterwards."""
    name, width, height = _check_field(data)
    async with in_transaction() as conn:
        # Two managers naming a field at once: the cooperative's row serializes them.
        await Cooperative.filter(id=manager.cooperative_id).select_for_update().using_db(conn)
        await _name_taken(manager, name, conn)
        return await Field.create(
            cooperative_id=manager.cooperative_id, name=name, width_m=width, height_m=height,
            using_db=conn,
        )  # fmt: skip


async def update_field(
    *, manager: User, field_id: int, data: FieldInput, today: date, resize_check: ResizeCheck
) -> Field:
    """Rename or resize a field; it may not shrink from under its plots, nor below what
    `resize_check` allows (the land households hold of it from `today` on), said beside its
    size."""
    await own_field(manager=manager, field_id=field_id)
    name, width, height = _check_field(data)
    assert width is not None and height is not None
    async with in_transaction() as conn:
        await Cooperative.filter(id=manager.cooperative_id).select_for_update().using_db(conn)
        # FOR NO KEY UPDATE, as saving a household's land locks its fields: land saved on
        # this field at the same moment is counted before this resize or after it, never
        # beside it. Cutting a plot (FOR UPDATE) waits for it too.
        found = await own_field(manager=manager, field_id=field_id, conn=conn, no_key=True)
        await _name_taken(manager, name, conn, but=found.id)
        plots = await Plot.filter(field_id=found.id).using_db(conn).order_by("code")
        outside = rules.sticking_out([_shape(p) for p in plots], width=width, height=height)
        if outside:
            raise FieldErrors(
                {
                    f"{side}_m": _("Plot %(code)s would lie outside the field.") % {"code": code}
                    for side, code in outside.items()
                }
            )
        problem = await resize_check(conn, field=found, area_m2=width * height, today=today)
        if problem:
            raise FieldErrors({"size": problem})
        found.name, found.width_m, found.height_m = name, width, height
        await found.save(using_db=conn)
    return found


def _shape(plot: Plot) -> rules.PlotShape:
    return rules.PlotShape(
        plot.code, Decimal(plot.x_m), Decimal(plot.y_m), Decimal(plot.w_m), Decimal(plot.h_m)
    )


def _stated_area(
    form: forms.Form, text: str, *, w: Decimal | None, h: Decimal | None
) -> Decimal | None:
    """The area typed for plots w × h, else w × h itself."""
    if w is None or h is None:
        return None
    if not text.strip():
        return rules.plot_area(w=w, h=h)
    area = form.read("area_m2", forms.decimal, text, maximum=rules.MAX_AREA_M2)
    if area is not None and rules.far_from_drawn(area_m2=area, w=w, h=h):
        form.refuse(
            "area_m2",
            _("This is far from the %(drawn)s m² drawn on the map (%(w)s × %(h)s m).")
            % {
                "drawn": units.plain_number(rules.plot_area(w=w, h=h)),
                "w": units.plain_number(w),
                "h": units.plain_number(h),
            },
        )
    return area


def misfit_message(misfit: rules.Misfit, field: Field) -> str:
    """Why a plot cannot be cut (or moved) there, in words."""
    return {
        "outside": _("Plot %(code)s would not lie inside the field (%(w)s × %(h)s m)."),
        "overlap": _("Plot %(code)s would overlap plot %(other)s."),
        "duplicate_code": _("The code %(code)s is already used in this field."),
    }[misfit.kind] % {
        "code": misfit.code,
        "other": misfit.other,
        "w": units.plain_number(field.width_m),
        "h": units.plain_number(field.height_m),
    }


async def plot_misfits(
    conn: BaseDBAsyncClient,
    *,
    field: Field,
    shapes: list[rules.PlotShape],
    on: dict[str, str],
    moving: int | None = None,
) -> dict[str, str]:
    """Why `shapes` would not fit `field` (locked by the caller, so plots cut or moved at the
    same moment are checked one after the other): outside it, over another plot, a code
    repeated; by form field (`on` names one for each kind of misfit), the first each.
    `moving` is a plot being moved: its own place does not count."""
    others = Plot.filter(field_id=field.id).using_db(conn)
    if moving is not None:
        others = others.exclude(id=moving)
    existing = [_shape(p) for p in await others]
    errors: dict[str, str] = {}
    for misfit in rules.misfits(
        new=shapes, existing=existing, width=field.width_m, height=field.height_m
    ):
        errors.setdefault(on[misfit.kind], misfit_message(misfit, field))
    return errors


async def _cut(
    *, manager: User, field_id: int, shapes: list[rules.PlotShape], area: Decimal, on: dict
) -> list[Plot]:
    """Write the plots once they fit the field; `on` names the form field for each misfit."""
    async with in_transaction() as conn:
        found = await own_field(manager=manager, field_id=field_id, conn=conn)
        errors = await plot_misfits(conn, field=found, shapes=shapes, on=on)
        if errors:
            raise FieldErrors(errors)
        plots = [
            Plot(field_id=found.id, code=s.code, area_m2=area, x_m=s.x, y_m=s.y, w_m=s.w, h_m=s.h)
            for s in shapes
        ]
        try:
            if len(plots) == 1:
                await plots[0].save(using_db=conn)  # gets its id, which bulk_create does not give
            else:
                await Plot.bulk_create(plots, using_db=conn)
        except IntegrityError:  # a code taken at the same moment by another manager
            raise FieldErrors({on["duplicate_code"]: _("This code is already used.")}) from None
    return plots


async def cut_grid(*, manager: User, field_id: int, data: GridInput) -> list[Plot]:
    """Cut `cols` × `rows` plots of plot_w × plot_h from (x, y), left to right, top to bottom,
    coded prefix + number. Refused whole if any would leave the field, overlap another plot or
    repeat a code."""
    found = await own_field(manager=manager, field_id=field_id)
    form = forms.Form()
    side = rules.MAX_SIDE_M
    prefix = form.read(
        "prefix", rules.plot_code, data.prefix, limit=rules.MAX_CODE_PREFIX, required=False
    )
    w = form.read("plot_w", forms.decimal, data.plot_w, maximum=side)
    h = form.read("plot_h", forms.decimal, data.plot_h, maximum=side)
    cols = form.read("cols", forms.whole, data.cols, low=1, high=rules.MAX_GRID_PLOTS)
    rows = form.read("rows", forms.whole, data.rows, low=1, high=rules.MAX_GRID_PLOTS)
    x0 = form.read("x", forms.decimal, data.x or "0", maximum=side, allow_zero=True)
    y0 = form.read("y", forms.decimal, data.y or "0", maximum=side, allow_zero=True)
    first = form.read(
        "first_number", forms.whole, data.first_number or "1", low=0, high=MAX_FIRST_NUMBER
    )
    area = _stated_area(form, data.area_m2, w=w, h=h)
    if cols and rows and cols * rows > rules.MAX_GRID_PLOTS:
        form.refuse("rows", _("At most %(max)d plots at once.") % {"max": rules.MAX_GRID_PLOTS})
    form.check()
    assert w and h and cols and rows and x0 is not None and y0 is not None
    assert prefix is not None and first is not None and area is not None
    shapes = rules.grid_plots(
        prefix=prefix, first_number=first, cols=cols, rows=rows, plot_w=w, plot_h=h, x0=x0, y0=y0
    )
    # Said here by rows and columns; _cut checks again, with the field locked.
    outside = rules.sticking_out(shapes, width=found.width_m, height=found.height_m)
    n = units.plain_number
    if "width" in outside:
        form.refuse(
            "cols",
            _(
                "%(cols)d columns of %(w)s m from x = %(x)s need %(need)s m, but the field is "
                "%(width)s m from left to right."
            )
            % {
                "cols": cols,
                "w": n(w),
                "x": n(x0),
                "need": n(x0 + cols * w),
                "width": n(found.width_m),
            },
        )
    if "height" in outside:
        form.refuse(
            "rows",
            _(
                "%(rows)d rows of %(h)s m from y = %(y)s need %(need)s m, but the field is "
                "%(height)s m from top to bottom."
            )
            % {
                "rows": rows,
                "h": n(h),
                "y": n(y0),
                "need": n(y0 + rows * h),
                "height": n(found.height_m),
            },
        )
    form.check()
    on = {"outside": "cols", "overlap": "x", "duplicate_code": "prefix"}
    return await _cut(manager=manager, field_id=field_id, shapes=shapes, area=area, on=on)


def read_plot(form: forms.Form, data: PlotInput) -> tuple[Any, ...]:
    """One plot's form: its code, x, y, w, h and area (w × h when none is typed), each None
    when wrong (the problem kept in `form`)."""
    side = rules.MAX_SIDE_M
    code = form.read("code", rules.plot_code, data.code)
    x = form.read("x", forms.decimal, data.x, maximum=side, allow_zero=True)
    y = form.read("y", forms.decimal, data.y, maximum=side, allow_zero=True)
    w = form.read("w", forms.decimal, data.w, maximum=side)
    h = form.read("h", forms.decimal, data.h, maximum=side)
    return code, x, y, w, h, _stated_area(form, data.area_m2, w=w, h=h)


async def add_plot(*, manager: User, field_id: int, data: PlotInput) -> Plot:
    """Cut one plot at (x, y), w × h; it must lie inside the field and overlap no other."""
    await own_field(manager=manager, field_id=field_id)
    form = forms.Form()
    code, x, y, w, h, area = read_plot(form, data)
    form.check()
    assert code and x is not None and y is not None and w and h and area is not None
    on = {"outside": "x", "overlap": "x", "duplicate_code": "code"}
    shapes = [rules.PlotShape(code, x, y, w, h)]
    return (await _cut(manager=manager, field_id=field_id, shapes=shapes, area=area, on=on))[0]


async def field_map(
    *,
    manager: User,
    field_id: int,
    season_id: int | None,
    now: datetime,
    code: str = "",
    status: str = "",
    page: int = 1,
) -> FieldMap:
    """A field's plots, each free, reserved (in someone's checkout) or sold in one season: the
    one asked for, else the cooperative's latest. The map holds the one field's plots; the
    list is a page of them, by code (those starting with `code`, in state `status`)."""
    found = await own_field(manager=manager, field_id=field_id)
    seasons, season = await seasons_and_chosen(manager.cooperative_id, season_id)
    season = season or (seasons[0] if seasons else None)
    plots = await Plot.filter(field_id=found.id).order_by("code")
    status_of: dict[int, str] = {}
    if season is not None:
        for plot_id, expires_at in await PlotClaim.filter(
            season_id=season.id, plot__field_id=found.id
        ).values_list("plot_id", "expires_at"):
            if expires_at is None:
                status_of[plot_id] = "sold"
            elif expires_at > now:
                status_of[plot_id] = "reserved"
    entries = [MapPlot(p, status_of.get(p.id, "free")) for p in plots]
    counts = {k: sum(1 for e in entries if e.status == k) for k in PLOT_STATUSES}
    status = status if status in PLOT_STATUSES else ""
    query = Plot.filter(field_id=found.id)
    if code:
        query = query.filter(code__istartswith=code)
    if status and season is not None:
        live = PlotClaim.filter(season_id=season.id, plot__field_id=found.id)
        held = {
            "sold": live.filter(expires_at__isnull=True),
            "reserved": live.filter(expires_at__gt=now),
            "free": live.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
        }[status].values("plot_id")
        if status == "free":
            query = query.exclude(id__in=Subquery(held))
        else:
            query = query.filter(id__in=Subquery(held))
    elif status in ("sold", "reserved"):  # no season: every plot is free
        query = query.filter(id=0)
    listed = await paginate(query, page=page, size=PLOTS_PER_PAGE, order_by=("code", "id"))
    listed = Page(
        [MapPlot(p, status_of.get(p.id, "free")) for p in listed.items],
        listed.number,
        listed.size,
        listed.total,
    )
    return FieldMap(found, entries, seasons, season, counts, listed, code, status)
