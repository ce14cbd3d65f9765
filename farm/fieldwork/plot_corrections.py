"""A plot that was never sold corrected (its code, area, place on the map) or removed by a
manager of its cooperative, with a reason kept in the audit trail (farm.audit). Once a plot
is sold, reserved, or has work or harvests logged on it, what it was is part of a record:
it can no longer be corrected, and it is never removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.audit import records
from farm.audit import rules as audit_rules
from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.errors import Conflict, FieldErrors
from farm.fieldwork.models import HarvestLot, WorkEntryPlot
from farm.i18n import _
from farm.land import rules as land_rules
from farm.land.models import Field, Plot
from farm.sql import own_row
from farm.subscriptions.models import PlotClaim, Subscription


@dataclass(frozen=True)
class PlotFix:
    code: str
    x: str
    y: str
    w: str
    h: str
    area_m2: str
    reason: str
    void: bool = False


@dataclass(frozen=True)
class PlotCorrection:
    plot: Plot
    sold: bool
    history: list[Correction]


async def _own_plot(manager: User, plot_id: int, conn: BaseDBAsyncClient | None = None) -> Plot:
    query = Plot.filter(id=plot_id, field__cooperative_id=manager.cooperative_id)
    return await own_row(query, conn=conn, missing=_("This plot does not exist."))


async def _ever_sold(plot_id: int, conn: BaseDBAsyncClient | None = None) -> bool:
    """Held now (reserved or paid), or subscribed to in any season, whatever became of it."""
    return (
        await PlotClaim.filter(plot_id=plot_id).using_db(conn).exists()
        or await Subscription.filter(plot_id=plot_id).using_db(conn).exists()
    )


async def plot_correction(*, manager: User, plot_id: int) -> PlotCorrection:
    plot = await _own_plot(manager, plot_id)
    await plot.fetch_related("field")
    assert manager.cooperative_id is not None
    return PlotCorrection(
        plot=plot,
        sold=await _ever_sold(plot.id),
        history=await records.history(
            cooperative_id=manager.cooperative_id, kind=RecordKind.PLOT, record_id=plot.id
        ),
    )


def _shown(code: str, area: Decimal, x: Decimal, y: Decimal, w: Decimal, h: Decimal) -> dict:
    n = units.plain_number
    return {"code": code, "area_m2": n(area), "place": f"{n(x)}, {n(y)}, {n(w)} × {n(h)}"}


def _read(fix: PlotFix, form: forms.Form):
    side = land_rules.MAX_SIDE_M
    code = form.read("code", land_rules.plot_code, fix.code)
    x = form.read("x", forms.decimal, fix.x, maximum=side, allow_zero=True)
    y = form.read("y", forms.decimal, fix.y, maximum=side, allow_zero=True)
    w = form.read("w", forms.decimal, fix.w, maximum=side)
    h = form.read("h", forms.decimal, fix.h, maximum=side)
    area = None
    if w is not None and h is not None:
        if not fix.area_m2.strip():
            area = land_rules.plot_area(w=w, h=h)
        else:
            area = form.read("area_m2", forms.decimal, fix.area_m2, maximum=land_rules.MAX_AREA_M2)
            if area is not None and land_rules.far_from_drawn(area_m2=area, w=w, h=h):
                form.refuse(
                    "area_m2",
                    _("This is far from the %(drawn)s m² drawn on the map (%(w)s × %(h)s m).")
                    % {
                        "drawn": units.plain_number(land_rules.plot_area(w=w, h=h)),
                        "w": units.plain_number(w),
                        "h": units.plain_number(h),
                    },
                )
    return code, x, y, w, h, area


async def correct_plot(
    *, manager: User, plot_id: int, fix: PlotFix, today: date, now: datetime
) -> Plot | None:
    """Correct a plot never sold (its code, place and area), or remove it (`fix.void`), with
    a reason. Returns the plot, or None once removed."""
    await _own_plot(manager, plot_id)
    form = forms.Form()
    why = form.read("reason", audit_rules.reason, fix.reason)
    values = None if fix.void else _read(fix, form)
    async with in_transaction() as conn:
        plot = await _own_plot(manager, plot_id, conn)
        if await _ever_sold(plot.id, conn):
            raise Conflict(
                _("Plot %(code)s has been sold or reserved: it can no longer be corrected.")
                % {"code": plot.code}
            )
        before = _shown(plot.code, plot.area_m2, plot.x_m, plot.y_m, plot.w_m, plot.h_m)
        if fix.void:
            used = (
                await HarvestLot.filter(plot_id=plot.id).using_db(conn).exists()
                or await WorkEntryPlot.filter(plot_id=plot.id).using_db(conn).exists()
            )
            if used:
                raise Conflict(
                    _("Plot %(code)s has work or harvests logged on it: it cannot be removed, "
                      "only corrected.") % {"code": plot.code}
                )  # fmt: skip
            form.check()
            assert why is not None
            await records.keep(
                conn, manager=manager, kind=RecordKind.PLOT, record_id=plot.id, label=plot.code,
                action=CorrectionAction.VOIDED, before=before, after={}, reason=why, day=today,
                now=now,
            )  # fmt: skip
            await Plot.filter(id=plot.id).using_db(conn).delete()
            return None
        assert values is not None
        code, x, y, w, h, area = values
        if code is not None and None not in (x, y, w, h, area):
            field = await Field.get(id=plot.field_id).using_db(conn)  # type: ignore[attr-defined]
            others = [
                land_rules.PlotShape(p.code, Decimal(p.x_m), Decimal(p.y_m),
                                     Decimal(p.w_m), Decimal(p.h_m))
                for p in await Plot.filter(field_id=field.id).exclude(id=plot.id).using_db(conn)
            ]  # fmt: skip
            shape = land_rules.PlotShape(code, x, y, w, h)  # type: ignore[arg-type]
            for misfit in land_rules.misfits(
                new=[shape], existing=others, width=field.width_m, height=field.height_m
            ):
                name = "code" if misfit.kind == "duplicate_code" else "x"
                form.refuse(name, {
                    "outside": _("Plot %(code)s would not lie inside the field (%(w)s × %(h)s m)."),
                    "overlap": _("Plot %(code)s would overlap plot %(other)s."),
                    "duplicate_code": _("The code %(code)s is already used in this field."),
                }[misfit.kind] % {"code": misfit.code, "other": misfit.other,
                                  "w": units.plain_number(field.width_m),
                                  "h": units.plain_number(field.height_m)})  # fmt: skip
            after = _shown(code, area, x, y, w, h)  # type: ignore[arg-type]
            was, became = audit_rules.changes(before, after)
            if not was and not form:
                form.refuse("reason", _("Nothing was changed."))
        form.check()
        assert why is not None
        plot.code, plot.area_m2 = code, area  # type: ignore[assignment]
        plot.x_m, plot.y_m, plot.w_m, plot.h_m = x, y, w, h  # type: ignore[assignment]
        try:
            await plot.save(using_db=conn)
        except IntegrityError:  # the code taken at the same moment
            raise FieldErrors({"code": _("This code is already used.")}) from None
        await records.keep(
            conn, manager=manager, kind=RecordKind.PLOT, record_id=plot.id, label=plot.code,
            action=CorrectionAction.CORRECTED, before=was, after=became, reason=why, day=today,
            now=now,
        )  # fmt: skip
    return plot
