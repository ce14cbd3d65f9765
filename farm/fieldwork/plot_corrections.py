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
from farm.land.console import PlotInput, own_field, plot_misfits, read_plot
from farm.land.models import Plot
from farm.sql import one_or_not_found
from farm.subscriptions.models import Subscription


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
    return await one_or_not_found(query, conn=conn, missing=_("This plot does not exist."))


async def _ever_sold(plot_id: int, conn: BaseDBAsyncClient | None = None) -> bool:
    """Held now (reserved or paid), or subscribed to in any season, whatever became of it:
    every hold belongs to a subscription of the same plot, so the subscriptions say it all."""
    return await Subscription.filter(plot_id=plot_id).using_db(conn).exists()


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


async def correct_plot(
    *, manager: User, plot_id: int, fix: PlotFix, today: date, now: datetime
) -> Plot | None:
    """Correct a plot never sold (its code, place and area), or remove it (`fix.void`), with
    a reason. Returns the plot, or None once removed."""
    found = await _own_plot(manager, plot_id)
    form = forms.Form()
    why = form.read("reason", audit_rules.reason, fix.reason)
    typed = PlotInput(code=fix.code, x=fix.x, y=fix.y, w=fix.w, h=fix.h, area_m2=fix.area_m2)
    values = None if fix.void else read_plot(form, typed)
    async with in_transaction() as conn:
        # The field first, as cutting plots locks it (land.console): a plot moved here and
        # one cut or moved there at the same moment are checked one after the other.
        field = await own_field(manager=manager, field_id=found.field_id, conn=conn)  # type: ignore[attr-defined]
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
            shape = land_rules.PlotShape(code, x, y, w, h)  # type: ignore[arg-type]
            on = {"outside": "x", "overlap": "x", "duplicate_code": "code"}
            misfits = await plot_misfits(conn, field=field, shapes=[shape], on=on, moving=plot.id)
            for name, message in misfits.items():
                form.refuse(name, message)
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
