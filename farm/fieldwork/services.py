"""Farm-log use cases: households and their land, the crop list, work entries (by managers
for many plots at once, or by a self-tending customer on their plot), harvest lots."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import anyio
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.query_utils import Prefetch
from tortoise.transactions import in_transaction

from farm import forms, i18n, units
from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.fieldwork import ledger_rules, photo_mail, rules
from farm.fieldwork.corrections import check_day_hours
from farm.fieldwork.models import (
    Activity,
    Crop,
    CropUnit,
    HarvestLot,
    Household,
    LandTransfer,
    Photo,
    WorkEntry,
    WorkEntryPlot,
    WorkInput,
    WorkShift,
)
from farm.fieldwork.photos import (
    MAX_PHOTOS,
    BadPhoto,
    CheckedPhoto,
    PhotoStore,
    check_photo,
    check_photos,
)
from farm.fieldwork.plot_choice import plot_ids_by_code
from farm.i18n import _
from farm.land.console import own_field
from farm.land.models import CareMode, Field, Plot
from farm.notifications.services import Unsubscribing
from farm.parsing import parse_id
from farm.sql import one_or_not_found
from farm.subscriptions.models import Status, Subscription

# Shelf life at room temperature, in days; leafy greens wilt first.
DEFAULT_CROPS = [
    ("青菜", "Bok choy", 3, True), ("菠菜", "Spinach", 3, True), ("生菜", "Lettuce", 3, True),
    ("番茄", "Tomatoes", 7, False), ("豆角", "Green beans", 5, False),
    ("萝卜", "Radish", 14, False), ("红薯", "Sweet potatoes", 60, False),
    ("土豆", "Potatoes", 60, False), ("大米", "Rice", 365, False),
    ("菜籽油", "Rapeseed oil", 365, False), ("土鸡蛋", "Free-range eggs", 21, False),
]  # fmt: skip


# ---- what the forms offer ----


async def fields_of(*, manager: User) -> list[Field]:
    return list(await Field.filter(cooperative_id=manager.cooperative_id).order_by("name"))


# ---- households ----

MAX_YUAN_FEN = 10_000_000  # a rent or wage above ¥100,000 is a typo


@dataclass
class HouseholdInput:
    name: str
    village: str
    is_poor: bool
    rent_yuan_per_mu: str
    wage_yuan_per_hour: str
    # field id -> m² typed
    land: dict[int, str] = field(default_factory=dict)
    # What subscribers see of it, with its consent: a line about it and its photo (b"": kept)
    shown_to_subscribers: bool = False
    about: str = ""
    picture: bytes = b""
    # The day the land's changes count from (YYYY-MM-DD): today when empty, or a past day
    land_from: str = ""


async def save_household(
    *, manager: User, household_id: int | None, data: HouseholdInput, today: date,
    store: PhotoStore | None = None,
) -> Household:  # fmt: skip
    """Create or edit a household of the manager's cooperative, with the land it transferred,
    and what its tended plots' subscribers may see of it (only with its consent). The land's
    changes count from `data.land_from` (today when empty): a transfer kept keeps its dates
    and rate (its rent in the ledger is counted on them), land taken off the form or resized,
    and every transfer when the household's rent per mu changes, ends its transfer on that day
    and a new one starts at the household's rate, so past years' rent never changes
    (ledger_rules.land_changes). Two households cannot take the same last free area of a
    field: its row is locked while its land is counted and written."""
    coop_id = manager.cooperative_id
    form = forms.Form()
    name = form.read("name", forms.text, data.name, limit=60, required=True)
    village = form.read("village", forms.text, data.village, limit=60)
    about = form.read("about", forms.text, data.about, limit=200)
    picture = None
    if data.picture:
        try:
            picture = await anyio.to_thread.run_sync(check_photo, data.picture)
        except BadPhoto as problem:
            form.refuse("picture", problem.message)
    rent, wage = (
        form.read(
            key, forms.yuan, text or "0", maximum_fen=MAX_YUAN_FEN, allow_zero=True, example=example
        )  # fmt: skip
        for key, text, example in (
            (
                "rent",
                data.rent_yuan_per_mu,
                _("Enter the rent in yuan per mu, like 750 or 750.50."),
            ),
            (
                "wage",
                data.wage_yuan_per_hour,
                _("Enter the hourly wage in yuan, like 18 or 18.50."),
            ),
        )  # fmt: skip
    )
    fields_of_coop = {f.id: f for f in await Field.filter(cooperative_id=coop_id)}
    land: dict[int, Decimal] = {}
    for field_id, text in data.land.items():
        if not text.strip():
            continue
        if field_id not in fields_of_coop:
            raise NotFound(_("This field does not exist."))
        f = fields_of_coop[field_id]
        area = form.read(f"land_{field_id}", forms.decimal, text,
                         maximum=f.width_m * f.height_m, allow_zero=True)  # fmt: skip
        if area:
            land[field_id] = area
    land_from = today
    if data.land_from.strip():
        land_from = form.read("land_from", forms.day, data.land_from) or today
        if land_from > today:
            form.refuse("land_from", _("A change of land counts from today or a past day."))
        elif land_from < date(today.year, 1, 1):  # earlier years' ledger is closed
            form.refuse(
                "land_from",
                _("A change of land counts from this year at the earliest (%(day)s): earlier "
                  "years' rent stays as it was.") % {"day": date(today.year, 1, 1).isoformat()},
            )  # fmt: skip
    await _check_transferred(
        None, form, land=land, fields=fields_of_coop, household_id=household_id,
        since=land_from, today=today,
    )  # fmt: skip
    form.check()
    assert name is not None and village is not None
    new_rent = rent or 0
    if household_id is not None:
        await own_household(manager=manager, household_id=household_id)
    new_picture = await store.save(picture) if picture is not None and store else ""
    old_picture = ""
    try:
        async with in_transaction() as conn:
            if household_id is None:
                household = await Household.create(cooperative_id=coop_id, name=name, using_db=conn)
            else:  # locked: two managers' edits of its land follow one another
                household = await one_or_not_found(
                    Household.filter(id=household_id, cooperative_id=coop_id),
                    _("This household does not exist."), conn=conn,
                )  # fmt: skip
            rent_before = household.rent_fen_per_mu_year if household_id else new_rent
            household.name = name
            household.village = village
            household.is_poor = data.is_poor
            household.rent_fen_per_mu_year = new_rent
            household.wage_fen_per_hour = wage or 0
            household.shown_to_subscribers = data.shown_to_subscribers
            household.about = about or ""
            if new_picture:
                old_picture, household.picture = household.picture, new_picture
            await household.save(using_db=conn)
            # Counted again with the fields locked: land saved meanwhile counts too.
            capacity = forms.Form()
            await _check_transferred(
                conn, capacity, land=land, fields=fields_of_coop, household_id=household.id,
                since=land_from, today=today,
            )  # fmt: skip
            capacity.check()
            await _change_land(
                conn, household.id, land=land, on=land_from, today=today, fields=fields_of_coop,
                rent=new_rent, rent_before=rent_before,
            )  # fmt: skip
    except BaseException:
        if new_picture and store:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await store.delete(new_picture)
        raise
    if old_picture and store:
        await store.delete(old_picture)
    return household


async def _change_land(
    conn: BaseDBAsyncClient, household_id: int, *, land: dict[int, Decimal], on: date,
    today: date, fields: dict[int, Field], rent: int, rent_before: int,
) -> None:  # fmt: skip
    """Write the household's land changes from `on` at its rate `rent` (it was `rent_before`),
    in the caller's transaction, the household's row locked; or refuse the form, writing
    nothing, for a field whose land already changed after that day."""
    held = [
        ledger_rules.Held(
            t.id, t.field_id, Decimal(t.area_m2), t.starts_on, t.ends_on, t.rent_fen_per_mu_year
        )
        for t in await LandTransfer.filter(household_id=household_id).using_db(conn)
    ]
    changes = ledger_rules.land_changes(
        held, wanted=land, on=on, today=today, rent=rent, rent_before=rent_before
    )
    if changes.too_early:
        form = forms.Form()
        for field_id, last in changes.too_early.items():
            form.refuse(
                f"land_{field_id}",
                _("The land of %(field)s last changed on %(day)s: a change can count from "
                  "that day on, not from %(from)s.")
                % {"field": fields[field_id].name, "day": last.isoformat(),
                   "from": on.isoformat()},
            )  # fmt: skip
        form.check()
    for paid in sorted(set(changes.rated.values())):
        ids = [i for i, rate in changes.rated.items() if rate == paid]
        await LandTransfer.filter(id__in=ids).using_db(conn).update(rent_fen_per_mu_year=paid)
    if changes.deleted:
        await LandTransfer.filter(id__in=changes.deleted).using_db(conn).delete()
    if changes.ended:
        await LandTransfer.filter(id__in=changes.ended).using_db(conn).update(ends_on=on)
    if changes.reopened:
        await LandTransfer.filter(id__in=changes.reopened).using_db(conn).update(ends_on=None)
    for transfer_id, area in changes.resized.items():
        await (
            LandTransfer.filter(id=transfer_id)
            .using_db(conn)
            .update(area_m2=area, rent_fen_per_mu_year=rent)
        )
    for field_id, area in changes.started.items():
        await LandTransfer.create(
            household_id=household_id, field_id=field_id, area_m2=area, starts_on=on,
            rent_fen_per_mu_year=rent, using_db=conn,
        )  # fmt: skip


def in_force_on(day: date) -> Q:
    """Land transfers in force on the day ([starts_on, ends_on))."""
    return Q(starts_on__lte=day) & (Q(ends_on=None) | Q(ends_on__gt=day))


async def _check_transferred(
    conn: BaseDBAsyncClient | None, form: forms.Form, *, land: dict[int, Decimal],
    fields: dict[int, Field], household_id: int | None, since: date, today: date,
) -> None:  # fmt: skip
    """All households together cannot hold more of a field than it has, on any day from
    `since` (the day the change counts from) until today: the most the others held at once
    in that time, and this household's new land, fit in the field. Within `conn` (the
    transaction that writes the land) the fields' rows are locked first, in id order, so two
    households saving the last free area of a field at the same moment are counted one after
    the other: the second sees the first's land."""
    if not land:
        return
    if conn is not None:  # their sizes as locked, not as read before the transaction
        locked = await (
            Field.filter(id__in=sorted(land))
            .select_for_update(no_key=True).using_db(conn).order_by("id")
            .only("id", "name", "width_m", "height_m")
        )  # fmt: skip
        fields = {**fields, **{f.id: f for f in locked}}
    held = await _held_since(conn, list(land), since=since, today=today, but_household=household_id)
    for field_id, area in land.items():
        f = fields[field_id]
        size = Decimal(f.width_m) * Decimal(f.height_m)
        taken = ledger_rules.most_held(held.get(field_id, []), since=since)
        if area + taken > size:
            form.refuse(
                f"land_{field_id}",
                _("%(field)s has %(size)s m², and other households transferred %(taken)s m² of "
                  "it: at most %(left)s m² is left.")
                % {"field": f.name, "size": units.plain_number(size),
                   "taken": units.plain_number(taken),
                   "left": units.plain_number(max(size - taken, 0))},
            )  # fmt: skip


async def _held_since(
    conn: BaseDBAsyncClient | None, field_ids: list[int], *, since: date, today: date,
    but_household: int | None = None,
) -> dict[int, list[ledger_rules.Held]]:  # fmt: skip
    """By field, the transfers of its land (other than `but_household`'s) in force on any day
    from `since` on, started by `today`."""
    query = LandTransfer.filter(
        Q(ends_on=None) | Q(ends_on__gt=since), field_id__in=field_ids, starts_on__lte=today
    )
    if but_household is not None:
        query = query.exclude(household_id=but_household)
    held: dict[int, list[ledger_rules.Held]] = {}
    rows = await query.using_db(conn).values("id", "field_id", "area_m2", "starts_on", "ends_on")
    for t in rows:
        held.setdefault(t["field_id"], []).append(
            ledger_rules.Held(
                t["id"], t["field_id"], Decimal(t["area_m2"]), t["starts_on"], t["ends_on"]
            )  # fmt: skip
        )
    return held


async def field_resize_problem(
    conn: BaseDBAsyncClient, *, field: Field, area_m2: Decimal, today: date
) -> str | None:
    """Why `field` cannot have `area_m2` (farm.land.console.ResizeCheck, which the app hands
    to the field's form): households hold more of it from `today` on, or None. Called with
    the field's row locked FOR NO KEY UPDATE, as _check_transferred locks it, so land saved
    on the field at the same moment is counted before the resize or after it."""
    held = await _held_since(conn, [field.id], since=today, today=today)
    taken = ledger_rules.most_held(held.get(field.id, []), since=today)
    if taken <= area_m2:
        return None
    return _(
        "Households have transferred %(taken)s m² of this field, more than the %(asked)s m² "
        "asked: give back some of their land on the households' pages first."
    ) % {"taken": units.plain_number(taken), "asked": units.plain_number(area_m2)}


async def own_household(*, manager: User, household_id: int) -> Household:
    return await one_or_not_found(
        Household.filter(id=household_id, cooperative_id=manager.cooperative_id),
        _("This household does not exist."),
    )


async def households(*, manager: User) -> list[Household]:
    """The cooperative's households, for the work log's choices."""
    return list(
        await Household.filter(cooperative_id=manager.cooperative_id).order_by("village", "name")
    )


async def land_history(household: Household) -> list[LandTransfer]:
    """Every transfer of the household, newest first, with its field."""
    return list(
        await LandTransfer.filter(household_id=household.id)
        .order_by("-starts_on", "-id")
        .prefetch_related("field")
    )


def held_on(transfer: LandTransfer, day: date) -> bool:
    return ledger_rules.runs_on(starts_on=transfer.starts_on, ends_on=transfer.ends_on, day=day)


def land_held_on(day: date) -> Prefetch:
    """Prefetch a household's transfers in force on the day, with their fields, into
    `transfers` (the ones that ended stay in the ledger, not here)."""
    return Prefetch(
        "transfers",
        queryset=LandTransfer.filter(in_force_on(day)).order_by("starts_on", "id")
        .prefetch_related("field"),
    )  # fmt: skip


# ---- crops ----


async def crops(*, cooperative_id: int) -> list[Crop]:
    """The cooperative's crop list; a cooperative starts with a sensible default list."""
    found = list(await Crop.filter(cooperative_id=cooperative_id).order_by("name"))
    if found:
        return found
    try:
        async with in_transaction() as conn:
            for name, name_en, days, leafy in DEFAULT_CROPS:
                await Crop.create(
                    cooperative_id=cooperative_id, name=name, name_en=name_en,
                    shelf_life_days=days, leafy=leafy, using_db=conn,
                )  # fmt: skip
    except IntegrityError:
        pass  # a parallel request made the list
    return list(await Crop.filter(cooperative_id=cooperative_id).order_by("name"))


# ---- work entries ----


@dataclass
class InputLine:
    name: str
    organic: bool
    dose: str


@dataclass
class ShiftLine:
    household_id: int
    hours: str


@dataclass
class WorkInputForm:
    field_id: int
    plot_ids: list[int]
    whole_field: bool
    activity: str
    worked_on: str
    notes: str
    plot_codes: str = ""  # typed: 'A01, A03-A09'
    inputs: list[InputLine] = field(default_factory=list)
    shifts: list[ShiftLine] = field(default_factory=list)
    photos: list[bytes] = field(default_factory=list)


async def _check_common(
    form: WorkInputForm, *, today: date, activities: set[str], errors: forms.Form
):
    errors.read(
        "activity", forms.choice, form.activity, activities, message=_("Choose an activity.")
    )
    day = errors.read("worked_on", rules.log_day, form.worked_on, today=today)
    errors.read("notes", forms.text, form.notes, limit=2000, one_line=False)
    inputs = []
    for line in form.inputs:
        if not line.name.strip() and not line.dose.strip():
            continue
        if not line.name.strip() or len(line.name) > 60 or len(line.dose) > 60:
            errors.refuse(
                "inputs", _("Give each input a name (and a dose), 60 characters at most.")
            )
        inputs.append(line)
    checked = []
    if len(form.photos) > MAX_PHOTOS:
        errors.refuse("photos", BadPhoto("too_many").message)
    else:
        checked = await check_photos(form.photos, errors)
    return day, inputs, checked


async def _save_entry(
    *, store: PhotoStore, photos: list[CheckedPhoto], then=None, **entry
) -> WorkEntry:
    """Store the photos, then write the entry in one transaction (no connection is held while
    a photo goes to the storage); if anything fails, remove the photos it stored. `then(conn,
    entry)`: more to write in the same transaction (the mail that reports it)."""
    saved: list[tuple[str, CheckedPhoto]] = []
    try:
        for photo in photos:
            saved.append((await store.save(photo), photo))
        async with in_transaction() as conn:
            written = await _write_entry(conn=conn, photos=saved, **entry)
            if then is not None:
                await then(conn, written)
            return written
    except BaseException:
        # Shielded: a cancelled request still removes what it stored. A storage that is
        # down as well leaves the files behind (no row points to them), not a second error.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await store.delete(*(name for name, _photo in saved))
        raise


async def _write_entry(
    *, conn, coop_id: int, field_id: int, plot_ids: list[int], whole_field: bool,
    activity: str, day: date, notes: str, user: User, now: datetime,
    inputs: list[InputLine], shifts: list[tuple[int, Decimal]],
    photos: list[tuple[str, CheckedPhoto]], sign: bool = False,
) -> WorkEntry:  # fmt: skip
    # Checked again with the households locked: an entry saved meanwhile counts too.
    hours = forms.Form()
    await check_day_hours(conn, cooperative_id=coop_id, day=day, shifts=shifts, form=hours)
    hours.check()
    entry = await WorkEntry.create(
        cooperative_id=coop_id, field_id=field_id, activity=activity, worked_on=day,
        notes=notes.strip(), whole_field=whole_field, logged_by_id=user.id, created_at=now,
        using_db=conn,
    )  # fmt: skip
    if plot_ids:
        await WorkEntryPlot.bulk_create(
            [WorkEntryPlot(entry_id=entry.id, plot_id=plot_id) for plot_id in plot_ids],
            using_db=conn,
        )
    for line in inputs:
        await WorkInput.create(
            entry_id=entry.id, name=line.name.strip(), organic=line.organic,
            dose=line.dose.strip(), using_db=conn,
        )  # fmt: skip
    for household_id, hours in shifts:
        await WorkShift.create(
            entry_id=entry.id, household_id=household_id, hours=hours, using_db=conn
        )
    for name, photo in photos:
        await Photo.create(
            entry_id=entry.id, file_name=name, width=photo.width, height=photo.height,
            sign=sign, using_db=conn,
        )  # fmt: skip
    return entry


async def log_work(
    *, manager: User, form: WorkInputForm, today: date, now: datetime, store: PhotoStore,
    unsubscribing: Unsubscribing | None = None, then=None,
) -> WorkEntry:  # fmt: skip
    """One entry for the same work on many plots of a field (or on the whole field). With
    photos, the families of those plots are told (at most once a day: photo_mail).
    `then(conn, entry)`: more to write in the entry's transaction (the sowing list's record
    that this week's sowing is logged)."""
    coop_id = manager.cooperative_id
    field_ = await own_field(manager=manager, field_id=form.field_id)
    errors = forms.Form()
    activities = {a.value for a in Activity if a != Activity.VISIT}
    day, inputs, photos = await _check_common(
        form, today=today, activities=activities, errors=errors
    )
    plot_ids = sorted(set(form.plot_ids))
    if len(plot_ids) > rules.MAX_CODES_PER_ENTRY:
        errors.refuse("plots", rules.BadCodes("too_many").message)
    elif plot_ids:
        found = await Plot.filter(id__in=plot_ids, field_id=field_.id).count()
        if found != len(plot_ids):
            raise NotFound(_("This plot does not exist."))
    if form.plot_codes.strip() and not form.whole_field:
        try:
            codes = rules.parse_plot_codes(form.plot_codes)
        except rules.BadCodes as exc:
            errors.refuse("plots", exc.message)
        else:
            ids, missing = await plot_ids_by_code(field_id=field_.id, codes=codes)
            if missing:
                said = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
                errors.refuse(
                    "plots",
                    _("%(field)s has no plot %(codes)s.") % {"field": field_.name, "codes": said},
                )
            plot_ids = sorted(set(plot_ids) | set(ids))
            if len(plot_ids) > rules.MAX_CODES_PER_ENTRY:
                errors.refuse("plots", rules.BadCodes("too_many").message)
    if not form.whole_field and not plot_ids and "plots" not in errors:
        errors.refuse("plots", _("Type the codes of the plots worked on, or tick the whole field."))
    shifts: list[tuple[int, Decimal]] = []
    known = set(await Household.filter(cooperative_id=coop_id).values_list("id", flat=True))
    seen: set[int] = set()
    for line in form.shifts:
        if not line.hours.strip():
            continue
        if line.household_id not in known:
            raise NotFound(_("This household does not exist."))
        if line.household_id in seen:  # one line per household: its wages count once
            errors.refuse("shifts", _("Give each household's hours once."))
            continue
        seen.add(line.household_id)
        try:
            shifts.append((line.household_id, forms.hours(line.hours)))
        except forms.Problem as problem:
            errors.refuse("shifts", _("Hours: %(problem)s") % {"problem": problem.message})
    if day is not None and "shifts" not in errors:
        await check_day_hours(None, cooperative_id=coop_id, day=day, shifts=shifts, form=errors)
    errors.check()
    assert day is not None

    async def tell(conn, entry: WorkEntry) -> None:
        if then is not None:
            await then(conn, entry)
        if photos and unsubscribing is not None:
            await photo_mail.tell_families(
                conn, entry=entry, plot_ids=plot_ids, count=len(photos), today=today,
                now=now, unsubscribing=unsubscribing,
            )  # fmt: skip

    return await _save_entry(
        coop_id=coop_id, field_id=field_.id,
        plot_ids=[] if form.whole_field else plot_ids, whole_field=form.whole_field,
        activity=form.activity, day=day, notes=form.notes, user=manager, now=now,
        inputs=inputs, shifts=shifts, photos=photos, store=store, then=tell,
    )  # fmt: skip


async def log_own_work(
    *,
    customer: User,
    subscription_id: int,
    form: WorkInputForm,
    today: date,
    now: datetime,
    store: PhotoStore,
) -> WorkEntry:
    """A self-tending customer logs a visit or their own work on their plot."""
    sub = await Subscription.get_or_none(
        id=subscription_id, customer_id=customer.id
    ).prefetch_related("plan", "season", "plot__field")
    if sub is None:
        raise NotFound(_("This subscription does not exist."))
    if sub.status != Status.ACTIVE or sub.plan.care_mode != CareMode.SELF_TENDED:
        raise Conflict(_("Only the subscriber of an active self-tended plot can log work on it."))
    errors = forms.Form()
    day, inputs, photos = await _check_common(
        form, today=today, activities={a.value for a in Activity}, errors=errors
    )
    if (
        day is not None
        and "worked_on" not in errors
        and not (sub.season.starts_on <= day < sub.season.ends_on)
    ):
        errors.refuse("worked_on", _("This date is outside your season."))
    errors.check()
    assert day is not None
    return await _save_entry(
        coop_id=sub.plot.field.cooperative_id, field_id=sub.plot.field_id,
        plot_ids=[sub.plot_id], whole_field=False, activity=form.activity, day=day,
        notes=form.notes, user=customer, now=now, inputs=inputs, shifts=[],
        photos=photos, store=store,
    )  # fmt: skip


# ---- harvest lots ----


async def _harvest_source(
    *, coop_id: int, field_id: int | None, plot_code: str, errors: forms.Form
) -> tuple[Field | None, int | None]:
    """The field and plot a harvest form names: a plot by its code (in the field chosen, or
    in any field of the cooperative if its code is used once), or a whole field."""
    code = plot_code.strip()
    field_ = None
    if field_id is not None:
        field_ = await Field.get_or_none(id=field_id, cooperative_id=coop_id)
        if field_ is None:
            raise NotFound(_("This field does not exist."))
    if not code:
        if field_ is None:
            errors.refuse(
                "plot_code",
                _("Type the plot's code, or choose a field for a harvest from the whole field."),
            )
        return field_, None
    query = Plot.filter(field__cooperative_id=coop_id)
    if field_ is not None:
        query = query.filter(field_id=field_.id)
    matches = await query.filter(code=code).limit(2).values("id", "field_id")
    if not matches:  # typed in another case
        matches = await query.filter(code__iexact=code).limit(2).values("id", "field_id")
    if not matches:
        errors.refuse(
            "plot_code",
            _("%(field)s has no plot %(codes)s.") % {"field": field_.name, "codes": code}
            if field_ is not None
            else _("No plot of your cooperative has the code %(code)s.") % {"code": code},
        )
        return field_, None
    if len(matches) > 1:
        errors.refuse(
            "plot_code",
            _("Plot %(code)s is in more than one field: choose its field.") % {"code": code},
        )
        return field_, None
    return await Field.get(id=matches[0]["field_id"]), matches[0]["id"]


async def record_harvest(
    *,
    manager: User,
    crop_id: int,
    kg: str,
    harvested_on: str,
    today: date,
    now: datetime,
    target: str = "",
    field_id: int | None = None,
    plot_code: str = "",
    confirmed: bool = False,
) -> HarvestLot:
    """A lot of one crop from a plot or a whole field, with a short code for its boxes. The
    form names the plot by its code (`plot_code`, within `field_id` if given) or the whole
    field (`field_id` alone); `target` ("<plot id>" or "field:<id>") names it by id. A
    weight far above what the land can bear is refused (under 'heavy') unless `confirmed`."""
    coop_id = manager.cooperative_id
    crop = await Crop.get_or_none(id=crop_id, cooperative_id=coop_id)
    if crop is None:
        raise NotFound(_("This crop is not on your list."))
    errors = forms.Form()
    if crop.retired:
        errors.refuse("crop_id", _("This crop is retired: it takes no new harvests."))
    plot_id = None
    if not target:
        field_, plot_id = await _harvest_source(
            coop_id=coop_id, field_id=field_id, plot_code=plot_code, errors=errors
        )
    elif target.startswith("field:"):
        field_ = await Field.get_or_none(id=parse_id(target[6:]) or 0, cooperative_id=coop_id)
    else:
        plot = await Plot.get_or_none(id=parse_id(target) or 0, field__cooperative_id=coop_id)
        field_ = await Field.get(id=plot.field_id) if plot else None
        plot_id = plot.id if plot else None
    if field_ is None and not errors:
        raise NotFound(_("This plot does not exist."))
    grams = errors.read("kg", forms.amount, kg, unit=crop.unit)  # a count for a crop in pieces
    day = errors.read("harvested_on", rules.log_day, harvested_on, today=today)
    if grams is not None and field_ is not None and not confirmed:
        await _check_yield(errors, crop=crop, field_=field_, plot_id=plot_id, grams=grams)
    errors.check()
    assert field_ is not None
    for _attempt in range(5):
        code = "".join(
            secrets.choice(rules.LOT_CODE_ALPHABET) for _ in range(rules.LOT_CODE_LENGTH)
        )
        try:
            async with in_transaction() as conn:
                # The catalogue changes a crop's unit under this lock only while no lot uses
                # it: read again under it, so that an amount typed in the old unit is refused
                # instead of kept in the new one (2 kg as 2,000 eggs).
                locked = await Crop.select_for_update().using_db(conn).get(id=crop.id)
                if locked.retired:
                    raise Conflict(_("This crop is retired: it takes no new harvests."))
                if locked.unit != crop.unit:
                    raise Conflict(
                        _("This crop's unit was changed meanwhile: enter the harvest again.")
                    )
                return await HarvestLot.create(
                    cooperative_id=coop_id, code=code, crop_id=crop.id, field_id=field_.id,
                    plot_id=plot_id, harvested_on=day, weight_g=grams, logged_by_id=manager.id,
                    created_at=now, using_db=conn,
                )  # fmt: skip
        except IntegrityError:
            continue  # that code exists: draw another
    raise Conflict(_("Could not make a lot code. Please try again."))


async def _check_yield(
    errors: forms.Form, *, crop: Crop, field_: Field, plot_id: int | None, grams: int
) -> None:
    """Ask for a confirmation when a harvest is far above what its plot (or field) can bear.
    The rule is in kg per m²: a crop counted in pieces (eggs) is not weighed, so not checked."""
    if crop.unit == CropUnit.PIECES:
        return
    if plot_id is not None:
        area = Decimal((await Plot.get(id=plot_id)).area_m2)
    else:
        area = Decimal(field_.width_m) * Decimal(field_.height_m)
    per_m2 = rules.max_kg_per_m2(name=crop.name, leafy=crop.leafy)
    ceiling = rules.harvest_ceiling_g(per_m2=per_m2, area_m2=area)
    if grams <= ceiling:
        return
    crop_name = i18n.localized(crop.name, crop.name_en)
    errors.refuse(
        "heavy",
        _("%(kg)s kg of %(crop)s from %(area)s m² is far more than the land can bear: "
          "%(crop)s yields at most %(per)s kg per m² at a harvest, so %(most)s kg here. "
          "Check the weight; if it is right, tick the box below and log it again.")
        % {"kg": units.plain_number(units.grams_to_kg(grams)), "crop": crop_name,
           "area": units.plain_number(area), "per": units.plain_number(per_m2),
           "most": units.plain_number(units.grams_to_kg(ceiling))},
    )  # fmt: skip
