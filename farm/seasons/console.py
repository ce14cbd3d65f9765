"""The manager's console for seasons and their plans: what the cooperative puts on sale. It
stands above land (seasons and plans are land's models), the sales (subscriptions), the
perks' partners and the vouchers issued for them, and reads them all.

Once plots are sold, what the buyers paid for stays as it was (rules.refused_changes): the
plan's price, field, plot size, care mode and perks, and the season's dates, ship days and
cutoff. Names and crop texts may still change, and a plan may offer more plots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm import forms, units
from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors, NotFound
from farm.i18n import _, ngettext
from farm.land import places, rules
from farm.land.console import own_season
from farm.land.models import (
    CareMode,
    Field,
    PerkKind,
    Plan,
    PlanPerk,
    PlotClaim,
    PlotSize,
    Season,
)
from farm.paging import Page, paginate
from farm.parsing import parse_id
from farm.partners.models import Partner
from farm.sql import one_or_not_found, select
from farm.subscriptions.models import Status
from farm.vouchers.models import Voucher, VoucherStatus

PERK_ROWS = 3  # perk rows a plan form offers
MAX_PLOTS_PER_PLAN = 10_000
MAX_CUTOFF_DAYS = 14
MAX_PERK_COUNT = 30
MAX_NAME = 100
MAX_CROP_TEXT = 2000
SEASONS_PER_PAGE = 20
PLANS_PER_PAGE = 50
LAST_DAYS = ("ends_on", "sale_ends_on")  # typed as the last day included, stored exclusive
# The rules' names for what a form calls otherwise.
FORM_NAMES = {"price_fen": "price"}


@dataclass(frozen=True)
class SeasonInput:
    name: str
    name_en: str
    starts_on: str
    ends_on: str  # the season's last day, included (stored as the day after: half-open)
    sale_starts_on: str
    sale_ends_on: str  # the sale's last day, included (stored as the day after)
    ship_days_of_month: str = "1,16"
    cutoff_days: str = "2"


@dataclass(frozen=True)
class PerkInput:
    kind: str
    partner_id: str
    count: str


MAX_PLOTS_PER_CUSTOMER = 20  # plots of one plan a family may hold at once, at most


@dataclass(frozen=True)
class PlanInput:
    name: str
    name_en: str
    field_id: str
    plot_area_m2: str
    care_mode: str
    crop_plan: str
    crop_plan_en: str
    price: str  # yuan
    max_plots: str
    perks: Sequence[PerkInput] = field(default_factory=tuple)
    max_plots_per_customer: str = "1"  # how many of its plots one family may hold


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    sold: int


@dataclass(frozen=True)
class SeasonView:
    """A season with its plans: all of them (the seasons list), or one page of them (the
    season's page, `plan_page`); `sold` and `plan_count` are the whole season's."""

    season: Season
    plans: list[PlanRow]
    sold: int = 0
    plan_count: int = 0
    plan_page: Page[PlanRow] | None = None


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    season: Season
    perks: list[PlanPerk]
    sold: int
    held: int = 0  # its places held, paid or not (checkouts, renewals)


@dataclass(frozen=True)
class PlanChoices:
    """What a plan form offers: the cooperative's fields, the plot sizes each was cut into,
    and its partners."""

    fields: list[Field]
    sizes: dict[int, list[Decimal]]
    partners: list[Partner]


def _sales(claims: str, status: str, subs: str) -> str:
    """Each sale once, as (plan, sale): a paid claim and an active subscription are usually
    the same sale, and UNION keeps it once."""
    return (
        "SELECT plan_id, subscription_id AS sale FROM plot_claims"  # noqa: S608 (placeholders only)
        f" WHERE expires_at IS NULL AND plan_id {claims}"
        f" UNION SELECT plan_id, id FROM subscriptions WHERE status = {status} AND plan_id {subs}"
    )


async def sold_per_plan(
    plan_ids: Sequence[int], conn: BaseDBAsyncClient | None = None
) -> dict[int, int]:
    """Plots sold per plan: paid claims and active subscriptions (one sale is usually both),
    counted by the database. For a page of plans, or one plan."""
    sold = dict.fromkeys(plan_ids, 0)
    if not plan_ids:
        return sold
    n = len(plan_ids)
    claims = "IN (" + ", ".join(f"${i}" for i in range(1, n + 1)) + ")"
    subs = "IN (" + ", ".join(f"${i}" for i in range(n + 2, 2 * n + 2)) + ")"
    sales = _sales(claims, f"${n + 1}", subs)
    sql = f"SELECT plan_id, COUNT(*) AS n FROM ({sales}) AS sales"  # noqa: S608 (placeholders only)
    params = [*plan_ids, Status.ACTIVE.value, *plan_ids]
    for r in await select(conn or connections.get("default"), sql + " GROUP BY plan_id", params):
        sold[r["plan_id"]] = int(r["n"])
    return sold


async def sold_in_season(season_id: int, conn: BaseDBAsyncClient | None = None) -> int:
    """Plots sold in a season, whatever the number of its plans."""
    sales = _sales(
        "IN (SELECT id FROM plans WHERE season_id = $1)",
        "$2",
        "IN (SELECT id FROM plans WHERE season_id = $3)",
    )
    rows = await select(
        conn or connections.get("default"),
        f"SELECT COUNT(*) AS n FROM ({sales}) AS sales",  # noqa: S608 (no input in the text)
        [season_id, Status.ACTIVE.value, season_id],
    )
    return int(rows[0]["n"])


# ---- seasons ----


async def _views(seasons: Sequence[Season]) -> list[SeasonView]:
    plans = await Plan.filter(season_id__in=[s.id for s in seasons]).order_by("price_fen", "id")
    sold = await sold_per_plan([p.id for p in plans])
    views = []
    for s in seasons:
        rows = [PlanRow(p, sold[p.id]) for p in plans if p.season_id == s.id]
        views.append(SeasonView(s, rows, sum(r.sold for r in rows), len(rows)))
    return views


async def list_seasons(*, manager: User, text: str = "", page: int = 1) -> Page[SeasonView]:
    """A page of the cooperative's seasons, latest first (those whose name holds `text`),
    with their plans and what each has sold."""
    query = Season.filter(cooperative_id=manager.cooperative_id)
    if text:
        query = query.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    found = await paginate(query, page=page, size=SEASONS_PER_PAGE, order_by=("-starts_on", "-id"))
    return Page(await _views(found.items), found.number, found.size, found.total)


async def season_view(
    *, manager: User, season_id: int, text: str = "", page: int = 1
) -> SeasonView:
    """A season with one page of its plans (those whose name holds `text`), cheapest first."""
    season = await own_season(manager=manager, season_id=season_id)
    query = Plan.filter(season_id=season.id)
    if text:
        query = query.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    found = await paginate(query, page=page, size=PLANS_PER_PAGE, order_by=("price_fen", "id"))
    sold = await sold_per_plan([p.id for p in found.items])
    rows = [PlanRow(p, sold[p.id]) for p in found.items]
    return SeasonView(
        season,
        rows,
        sold=await sold_in_season(season.id),
        plan_count=await Plan.filter(season_id=season.id).count(),
        plan_page=Page(rows, found.number, found.size, found.total),
    )


def _check_season(data: SeasonInput) -> dict[str, Any]:
    form = forms.Form()
    values: dict[str, Any] = {
        "name": form.read("name", forms.text, data.name, limit=MAX_NAME, required=True),
        "name_en": form.read("name_en", forms.text, data.name_en, limit=MAX_NAME),
    }
    dates = ("starts_on", "ends_on", "sale_starts_on", "sale_ends_on")
    for name in dates:
        values[name] = form.read(name, forms.day, getattr(data, name))
    for name in LAST_DAYS:  # the form's last day, included; the period ends the day after
        if values[name] is not None:
            values[name] += timedelta(days=1)
    days = form.read("ship_days_of_month", rules.days_of_month, data.ship_days_of_month)
    if days is not None:
        values["ship_days_of_month"] = ",".join(str(d) for d in days)
    # At least a day: holds and addresses must be settled before a ship day's batch is made.
    values["cutoff_days"] = form.read(
        "cutoff_days", forms.whole, data.cutoff_days, low=1, high=MAX_CUTOFF_DAYS
    )
    if all(values[name] is not None for name in dates):
        problems = rules.season_problems(**{name: values[name] for name in dates})
        for name, problem in problems.items():
            form.refuse(name, problem.message)
        if not form and not rules.ship_days(values["starts_on"], values["ends_on"], days or ()):
            form.refuse("ship_days_of_month", _("No ship day falls inside this season."))
    form.check()
    return values


async def create_season(*, manager: User, data: SeasonInput) -> Season:
    """A new season of the manager's cooperative; its plans are added afterwards."""
    values = _check_season(data)
    return await Season.create(cooperative_id=manager.cooperative_id, **values)


async def update_season(*, manager: User, season_id: int, data: SeasonInput, today: date) -> Season:
    """Change a season; once any of its plots is sold, its dates, ship days and cutoff stay,
    and its sale may be extended but not end before `today`. Unlike a plan's terms, they may
    change while plots are only in checkout: the ship days have their own changes (skip or
    move a day, told to every family), and nobody holds a plot of the wrong size."""
    await own_season(manager=manager, season_id=season_id)
    values = _check_season(data)
    async with in_transaction() as conn:
        season = await own_season(manager=manager, season_id=season_id, conn=conn)
        sold = await sold_in_season(season.id, conn)
        before = {name: getattr(season, name) for name in rules.SEASON_TERMS}
        refused = rules.refused_changes(sold=sold, before=before, after=values)
        if refused:
            message = _(
                "Plots of this season are sold, so its dates, ship days and cutoff can no "
                "longer change: buyers paid for them."
            )
            raise FieldErrors(dict.fromkeys(refused, message))
        cut = rules.sale_end_problem(
            sold=sold, before=season.sale_ends_on, after=values["sale_ends_on"], today=today
        )
        if cut is not None:
            raise FieldErrors({"sale_ends_on": cut.message})
        season.update_from_dict(values)
        await season.save(using_db=conn)
    return season


# ---- plans ----


async def own_plan(*, manager: User, plan_id: int) -> Plan:
    """The manager's plan; any other is 'not found'."""
    return await one_or_not_found(
        Plan.filter(id=plan_id, season__cooperative_id=manager.cooperative_id),
        _("This plan does not exist."),
    )


async def plan_view(*, manager: User, plan_id: int) -> PlanView:
    plan = await own_plan(manager=manager, plan_id=plan_id)
    perks = await PlanPerk.filter(plan_id=plan.id).order_by("id")
    sold = (await sold_per_plan([plan.id]))[plan.id]
    held = (await places.held(connections.get("default"), [plan.id]))[plan.id]
    return PlanView(plan, await Season.get(id=plan.season_id), list(perks), sold, held)


async def plan_choices(*, manager: User) -> PlanChoices:
    fields = list(await Field.filter(cooperative_id=manager.cooperative_id).order_by("name", "id"))
    sizes: dict[int, set[Decimal]] = {f.id: set() for f in fields}
    # One row per field and size (kept by the database), not one per plot.
    for field_id, area in await PlotSize.filter(
        field__cooperative_id=manager.cooperative_id, plots__gt=0
    ).values_list("field_id", "area_m2"):
        sizes[field_id].add(Decimal(area))
    partners = await Partner.filter(cooperative_id=manager.cooperative_id).order_by("name", "id")
    return PlanChoices(fields, {k: sorted(v) for k, v in sizes.items()}, list(partners))


PerkTerms = tuple[str, int | None, int]  # kind, partner id, count


def perk_terms(perks: Sequence[PerkTerms]) -> tuple[tuple[str, int, int], ...]:
    """Perks in a form that compares equal when they promise the same."""
    return tuple(sorted((str(kind), partner or 0, count) for kind, partner, count in perks))


async def _check_plan(*, manager: User, data: PlanInput) -> dict[str, Any]:
    """The plan's values from the form. Fields and partners of other cooperatives are 'not
    found'; anything else wrong is a FieldErrors."""
    form = forms.Form()
    values: dict[str, Any] = {
        "name": form.read("name", forms.text, data.name, limit=MAX_NAME, required=True),
        "name_en": form.read("name_en", forms.text, data.name_en, limit=MAX_NAME),
        "crop_plan": form.read(
            "crop_plan", forms.text, data.crop_plan, limit=MAX_CROP_TEXT, one_line=False
        ),
        "crop_plan_en": form.read(
            "crop_plan_en", forms.text, data.crop_plan_en, limit=MAX_CROP_TEXT, one_line=False
        ),
        "price_fen": form.read("price", forms.yuan, data.price),
        "max_plots": form.read(
            "max_plots", forms.whole, data.max_plots, low=1, high=MAX_PLOTS_PER_PLAN
        ),
        "max_plots_per_customer": form.read(
            "max_plots_per_customer",
            forms.whole,
            data.max_plots_per_customer,
            low=1,
            high=MAX_PLOTS_PER_CUSTOMER,
        ),  # fmt: skip
        "plot_area_m2": form.read(
            "plot_area_m2", forms.decimal, data.plot_area_m2, maximum=rules.MAX_AREA_M2
        ),
        "care_mode": form.read(
            "care_mode",
            forms.choice,
            data.care_mode,
            set(CareMode),
            message=_("Choose how the plots are tended."),
        ),
    }
    plan_field = None
    field_id = parse_id(data.field_id)
    if field_id is None:
        form.refuse("field_id", _("Choose a field."))
    else:
        plan_field = await Field.get_or_none(id=field_id, cooperative_id=manager.cooperative_id)
        if plan_field is None:
            raise NotFound(_("This field does not exist."))
        values["field_id"] = plan_field.id
    area = values["plot_area_m2"]
    if plan_field is not None and area is not None:
        # The field's sizes and how many plots each, kept by the database (PlotSize): one
        # small read however many plots the field has.
        counts = {
            Decimal(a): n
            for a, n in await PlotSize.filter(field_id=plan_field.id, plots__gt=0).values_list(
                "area_m2", "plots"
            )
        }
        sizes = sorted(counts)
        if not sizes:
            form.refuse(
                "plot_area_m2",
                _("%(field)s has no plots yet: cut it into plots first.")
                % {"field": plan_field.name},
            )
        elif area not in sizes:
            form.refuse(
                "plot_area_m2",
                _("No plot of %(field)s measures %(area)s m². Its plots measure: %(sizes)s m².")
                % {
                    "field": plan_field.name,
                    "area": units.plain_number(area),
                    "sizes": ", ".join(units.plain_number(s) for s in sizes),
                },
            )
        elif values["max_plots"] is not None:
            has = counts[area]
            if values["max_plots"] > has:
                form.refuse(
                    "max_plots",
                    _("%(field)s has %(count)d plots of %(area)s m²: a plan cannot offer more.")
                    % {"field": plan_field.name, "count": has, "area": units.plain_number(area)},
                )
    values["perks"] = await _check_perks(manager=manager, rows=data.perks, form=form)
    form.check()
    return values


async def _check_perks(
    *, manager: User, rows: Sequence[PerkInput], form: forms.Form
) -> list[PerkTerms]:
    partners = dict(
        await Partner.filter(cooperative_id=manager.cooperative_id).values_list("id", "kind")
    )
    perks: list[PerkTerms] = []
    for i, row in enumerate(rows):
        if not (row.kind.strip() or row.partner_id.strip() or row.count.strip()):
            continue  # an empty row
        kind = form.read(
            f"perk_kind_{i}", forms.choice, row.kind, set(PerkKind), message=_("Choose a perk.")
        )
        count = form.read(f"perk_count_{i}", forms.whole, row.count, low=1, high=MAX_PERK_COUNT)
        partner_id = None
        if row.partner_id.strip():
            partner_id = parse_id(row.partner_id)
            if partner_id is None:
                form.refuse(f"perk_partner_{i}", _("This value is not valid."))
            elif partner_id not in partners:
                raise NotFound(_("This partner does not exist."))
            elif kind is not None and not rules.perk_fits(kind, partners[partner_id]):
                form.refuse(f"perk_partner_{i}", perk_misfit_message(kind))
        if count is not None and kind is not None:
            perks.append((kind, partner_id, count))
    return perks


def perk_misfit_message(kind: str) -> str:
    if kind == PerkKind.SCENIC_TICKET:
        return _("A scenic-spot ticket is used at a scenic spot: choose a scenic spot, or no "
                 "partner (then any of the cooperative's scenic spots takes it).")  # fmt: skip
    return _("A farm-stay night is spent at a guesthouse: choose a guesthouse, or no partner "
             "(then any of the cooperative's guesthouses takes it).")  # fmt: skip


async def _fix_perks(
    plan: Plan, perks: Sequence[PerkTerms], conn: BaseDBAsyncClient, *, coop_id: int
) -> bool:
    """Give perks whose partner is of the wrong kind a partner that fits, and their vouchers
    not yet used with them, even after plots were sold: what buyers received could not be
    used. False when the change is not such a fix; refused (Conflict) once a voucher of
    those perks was used."""
    before = [
        (p.id, str(p.kind), p.partner_id, p.count)
        for p in await PlanPerk.filter(plan_id=plan.id).using_db(conn)
    ]
    kinds = dict(
        await Partner.filter(cooperative_id=coop_id).using_db(conn).values_list("id", "kind")
    )
    fixes = rules.perk_fixes(before=before, after=perks, partner_kinds=kinds)
    if not fixes:
        return False
    used = Voucher.filter(perk_id__in=list(fixes), status=VoucherStatus.REDEEMED)
    if await used.using_db(conn).exists():
        raise Conflict(_("A voucher of this perk was used already: its partner stays."))
    for perk_id, partner_id in fixes.items():
        await PlanPerk.filter(id=perk_id).using_db(conn).update(partner_id=partner_id)
        await (
            Voucher.filter(perk_id=perk_id, status=VoucherStatus.ISSUED)
            .using_db(conn)
            .update(partner_id=partner_id)
        )
    return True


async def _write_perks(plan: Plan, perks: Sequence[PerkTerms], conn: BaseDBAsyncClient) -> None:
    """Keep the perks that stay as they were, add the new ones, remove the dropped ones; a
    perk that vouchers were issued for (even since voided) cannot be removed."""
    wanted = list(perks)
    for perk in await PlanPerk.filter(plan_id=plan.id).using_db(conn):
        terms = (perk.kind, perk.partner_id, perk.count)
        if terms in wanted:
            wanted.remove(terms)
            continue
        if await Voucher.filter(perk_id=perk.id).using_db(conn).exists():
            raise Conflict(
                _("Vouchers were issued for this plan's perks, so they can no longer change.")
            )
        await PlanPerk.filter(id=perk.id).using_db(conn).delete()
    for kind, partner_id, count in wanted:
        await PlanPerk.create(
            plan_id=plan.id, kind=kind, partner_id=partner_id, count=count, using_db=conn
        )


async def create_plan(*, manager: User, season_id: int, data: PlanInput) -> Plan:
    """A new plan in one of the manager's seasons, with its perks."""
    await own_season(manager=manager, season_id=season_id)
    values = await _check_plan(manager=manager, data=data)
    perks = values.pop("perks")
    async with in_transaction() as conn:
        # A draft: its managers preview it (the public plan page) and publish it.
        plan = await Plan.create(season_id=season_id, **values, published=False, using_db=conn)
        await _write_perks(plan, perks, conn)
    return plan


def refusal_message(name: str, *, sold: int) -> str:
    if name == "price_fen":
        return _("Plots of this plan are sold, so its price can no longer change.")
    if name == "perks":
        return _("Plots of this plan are sold, so its perks can no longer change.")
    if name == "max_plots":
        return ngettext(
            "%(sold)d plot is sold already: the plan cannot offer fewer.",
            "%(sold)d plots are sold already: the plan cannot offer fewer.",
            sold,
        ) % {"sold": sold}
    return _("Plots of this plan are sold, so this can no longer change: buyers paid for it.")


def held_message(held: int) -> str:
    return ngettext(
        "%(count)d plot is sold or in checkout right now: the plan cannot offer fewer. "
        "Checkouts not paid end within minutes: try again then.",
        "%(count)d plots are sold or in checkout right now: the plan cannot offer fewer. "
        "Checkouts not paid end within minutes: try again then.",
        held,
    ) % {"count": held}


def in_checkout_message(held: int) -> str:
    return ngettext(
        "%(count)d plot of this plan is in checkout right now: its buyer is paying for its field, "
        "plot size, care and perks, so they cannot change. Checkouts not paid end within "
        "minutes: try again then.",
        "%(count)d plots of this plan are in checkout right now: their buyers are paying for its "
        "field, plot size, care and perks, so they cannot change. Checkouts not paid end within "
        "minutes: try again then.",
        held,
    ) % {"count": held}


async def _held_terms_message(plan: Plan, held: int, conn: BaseDBAsyncClient) -> str:
    """Why a plan's terms wait, none of its plots sold: held for families renewing (until the
    season's public sale opens), or in checkout (minutes)."""
    renewing = (
        await PlotClaim.filter(plan_id=plan.id, customer_id=None, expires_at__isnull=False)
        .using_db(conn)
        .count()
    )
    if not renewing:
        return in_checkout_message(held)
    season = await Season.get(id=plan.season_id).using_db(conn)
    return ngettext(
        "%(count)d plot of this plan is held for a family renewing on these terms, until the "
        "season's public sale opens on %(day)s: its field, plot size, care and perks cannot "
        "change before then, unless that family lets its plot go.",
        "%(count)d plots of this plan are held for families renewing on these terms, until the "
        "season's public sale opens on %(day)s: its field, plot size, care and perks cannot "
        "change before then, unless those families let their plots go.",
        renewing,
    ) % {"count": renewing, "day": season.sale_starts_on.isoformat()}


async def update_plan(*, manager: User, plan_id: int, data: PlanInput) -> Plan:
    """Change a plan. Once it has sold plots, what buyers paid for stays (price, field, plot
    size, care mode, perks) and it cannot offer fewer plots than it sold; while plots are in
    checkout (held, not yet paid), all but the price wait too (rules.HELD_TERMS)."""
    await own_plan(manager=manager, plan_id=plan_id)
    values = await _check_plan(manager=manager, data=data)
    perks = values.pop("perks")
    async with in_transaction() as conn:
        # Checked as the manager's above; a plan never changes season. Locked without the
        # join, which PostgreSQL would not lock through. FOR NO KEY UPDATE: buyers holding a
        # place row check their claim's foreign key to the plan (KEY SHARE) while the new
        # max_plots waits for those rows: FOR UPDATE would make each wait for the other.
        plan = await Plan.select_for_update(no_key=True).using_db(conn).get(id=plan_id)
        sold = (await sold_per_plan([plan.id], conn))[plan.id]
        old_perks = [
            (p.kind, p.partner_id, p.count)
            for p in await PlanPerk.filter(plan_id=plan.id).using_db(conn)
        ]
        before = {name: getattr(plan, name) for name in rules.PLAN_TERMS if name != "perks"}
        if perk_terms(old_perks) != perk_terms(perks):
            assert manager.cooperative_id is not None
            if await _fix_perks(plan, perks, conn, coop_id=manager.cooperative_id):
                old_perks = list(perks)  # fixed: not a change of what buyers paid for
        was = {**before, "perks": perk_terms(old_perks)}
        asked = {**values, "perks": perk_terms(perks)}
        refused = rules.refused_changes(sold=sold, before=was, after=asked)
        if refused:
            raise FieldErrors(
                {FORM_NAMES.get(name, name): refusal_message(name, sold=sold) for name in refused}
            )
        # none once sold (refused above); while plots are in checkout, the held terms wait
        terms = [n for n in rules.changed_terms(was, asked) if n in rules.HELD_TERMS]
        if terms or values["max_plots"] != plan.max_plots:
            # Its places are locked first, in shard order, so that no buyer takes one between
            # this count and the change. Its held terms stay while anyone is in checkout: they
            # are paying for them, on a plot of this field and size. (A buyer whose statement
            # read the plan just before this edit and then waits for a place row still takes a
            # plot as the plan was: a window of this transaction's few milliseconds, left open
            # because closing it would lock the plan's row on the sale's hot path.) A new
            # max_plots shares its places out anew (a trigger), not fewer than are held now,
            # checkouts included: a place held would have no row to go back to.
            await places.lock_all(conn, plan.id)
            held = (await places.held(conn, [plan.id]))[plan.id]
            if terms and held:
                message = await _held_terms_message(plan, held, conn)
                raise FieldErrors({FORM_NAMES.get(name, name): message for name in terms})
            if values["max_plots"] < held:
                raise FieldErrors({"max_plots": held_message(held)})
        plan.update_from_dict(values)
        await plan.save(using_db=conn)  # a new max_plots shares its places out (a trigger)
        if perk_terms(old_perks) != perk_terms(perks):
            await _write_perks(plan, perks, conn)
    return plan


async def publish_plan(*, manager: User, plan_id: int) -> Plan:
    """Put a draft plan on the offer: from now on customers see it and may reserve its plots
    while its season is on sale. Publishing twice changes nothing."""
    plan = await own_plan(manager=manager, plan_id=plan_id)
    await Plan.filter(id=plan.id).update(published=True)
    plan.published = True
    return plan
