"""A work entry corrected or voided by a manager of its cooperative, with a reason kept in the
audit trail (farm.audit): its activity, day, notes and each household's hours. A voided entry
counts nowhere (timelines, wages); its record and photos stay for the audit. Also the rule
checked whenever hours are saved: no household is paid for more than 24 hours in a day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.audit import records
from farm.audit import rules as audit_rules
from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.errors import Conflict, NotFound
from farm.fieldwork import rules
from farm.fieldwork.models import Activity, Household, WorkEntry, WorkShift
from farm.i18n import _
from farm.sql import one_or_not_found


@dataclass
class EntryFix:
    """What the correction form typed: the entry's new values, and hours by household."""

    activity: str
    worked_on: str
    notes: str
    reason: str
    void: bool = False
    hours: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryCorrection:
    entry: WorkEntry
    households: list[Household]
    history: list[Correction]


async def _own_entry(manager: User, entry_id: int, conn: BaseDBAsyncClient | None = None):
    query = WorkEntry.filter(id=entry_id, cooperative_id=manager.cooperative_id)
    return await one_or_not_found(query, conn=conn, missing=_("This work entry does not exist."))


async def entry_correction(*, manager: User, entry_id: int) -> EntryCorrection:
    entry = await _own_entry(manager, entry_id)
    await entry.fetch_related("field", "plot_links__plot", "shifts__household", "inputs", "photos")
    return EntryCorrection(
        entry=entry,
        households=list(
            await Household.filter(cooperative_id=manager.cooperative_id).order_by(
                "village", "name"
            )
        ),
        history=await records.history(
            cooperative_id=entry.cooperative_id, kind=RecordKind.WORK_ENTRY, record_id=entry.id
        ),
    )


async def check_day_hours(
    conn: BaseDBAsyncClient | None,
    *,
    cooperative_id: int,
    day: date,
    shifts: list[tuple[int, Decimal]],
    form: forms.Form,
    leave_out: int | None = None,
) -> None:
    """Refuse (under 'shifts') hours that would pay a household for more than 24 hours on
    `day`, counting every other entry of that day that is not voided. Within `conn` (the
    transaction that writes the hours) the households' rows are locked first, in id order,
    so two entries for a household saved at the same moment are counted one after the
    other: the second sees the first's hours."""
    if not shifts:
        return
    if conn is not None:
        await (
            Household.filter(id__in=sorted({h for h, _hours in shifts}))
            .select_for_update().using_db(conn).order_by("id").only("id")
        )  # fmt: skip
    query = WorkShift.filter(
        entry__cooperative_id=cooperative_id,
        entry__worked_on=day,
        entry__voided_at__isnull=True,
        household_id__in=[h for h, _hours in shifts],
    )
    if leave_out is not None:
        query = query.exclude(entry_id=leave_out)
    logged: dict[int, Decimal] = {}
    for household_id, hours in await query.using_db(conn).values_list("household_id", "hours"):
        logged[household_id] = logged.get(household_id, Decimal(0)) + Decimal(hours)
    over = rules.over_a_day(logged, shifts)
    if not over:
        return
    names = dict(await Household.filter(id__in=list(over)).using_db(conn).values_list("id", "name"))
    household_id, total = next(iter(sorted(over.items())))
    form.refuse(
        "shifts",
        _("%(name)s would be paid for %(hours)s hours on %(day)s, counting every entry of "
          "that day: a household can be paid for at most 24 hours a day.")
        % {"name": names.get(household_id, ""), "hours": units.plain_number(total), "day": day},
    )  # fmt: skip


def _shown(entry: WorkEntry, shifts: dict[int, Decimal], names: dict[int, str]) -> dict[str, str]:
    """An entry's correctable values as text, for the audit."""
    return {
        "activity": str(entry.activity),
        "worked_on": entry.worked_on.isoformat(),
        "notes": entry.notes,
        "hours": "; ".join(
            f"{names.get(h, h)} {units.plain_number(v)}" for h, v in sorted(shifts.items())
        ),
    }


async def correct_entry(*, manager: User, entry_id: int, fix: EntryFix, today: date,
                        now: datetime) -> WorkEntry:  # fmt: skip
    """Correct a work entry's activity, day, notes and hours (or void it), with a reason."""
    await _own_entry(manager, entry_id)
    form = forms.Form()
    why = form.read("reason", audit_rules.reason, fix.reason)
    known = dict(
        await Household.filter(cooperative_id=manager.cooperative_id).values_list("id", "name")
    )
    activity = day = notes = None
    shifts: dict[int, Decimal] = {}
    if not fix.void:
        choices = {a.value for a in Activity}
        activity = form.read("activity", forms.choice, fix.activity, choices,
                             message=_("Choose an activity."))  # fmt: skip
        day = form.read("worked_on", rules.log_day, fix.worked_on, today=today)
        notes = form.read("notes", forms.text, fix.notes, limit=2000, one_line=False)
        for household_id, text in fix.hours.items():
            if not text.strip():
                continue
            if household_id not in known:
                raise NotFound(_("This household does not exist."))
            try:
                shifts[household_id] = forms.hours(text)
            except forms.Problem as problem:
                form.refuse("shifts", _("Hours: %(problem)s") % {"problem": problem.message})
    async with in_transaction() as conn:
        entry = await _own_entry(manager, entry_id, conn)
        if entry.voided_at is not None:
            raise Conflict(_("This work entry was voided: it cannot be corrected any more."))
        old = {
            s.household_id: Decimal(s.hours)  # type: ignore[attr-defined]
            for s in await WorkShift.filter(entry_id=entry.id).using_db(conn)
        }
        if day is not None and not fix.void:
            await check_day_hours(conn, cooperative_id=entry.cooperative_id, day=day,
                                  shifts=sorted(shifts.items()), form=form,
                                  leave_out=entry.id)  # fmt: skip
        before = _shown(entry, old, known)
        if not fix.void:
            after = {
                "activity": activity or "",
                "worked_on": day.isoformat() if day else "",
                "notes": notes or "",
                "hours": _shown(entry, shifts, known)["hours"],
            }
            was, became = audit_rules.changes(before, after)
            if not was and not form:
                form.refuse("reason", _("Nothing was changed."))
        form.check()
        assert why is not None
        if fix.void:
            entry.voided_at = now
            was, became = before, {}
        else:
            assert activity is not None and day is not None and notes is not None
            entry.activity, entry.worked_on, entry.notes = Activity(activity), day, notes
            entry.corrected_at = now
            if "hours" in was:
                await WorkShift.filter(entry_id=entry.id).using_db(conn).delete()
                for household_id, hours in sorted(shifts.items()):
                    await WorkShift.create(entry_id=entry.id, household_id=household_id,
                                           hours=hours, using_db=conn)  # fmt: skip
        await entry.save(using_db=conn)
        await records.keep(
            conn, manager=manager, kind=RecordKind.WORK_ENTRY, record_id=entry.id,
            label=f"{entry.worked_on} {entry.activity}",
            action=CorrectionAction.VOIDED if fix.void else CorrectionAction.CORRECTED,
            before=was, after=became, reason=why, day=entry.worked_on, now=now,
        )  # fmt: skip
    return entry
