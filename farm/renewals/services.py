"""Keeping the same plot next year: a season's renewal window, the holds it makes for the
current subscribers, their reminders, and the console's renewal rate per field.

A renewal's hold is an ordinary reservation of the new season: a pending subscription and
its `plot_claims` row (unique on season and plot, the guarantee every hold has), expiring
when the window closes, at the public sale's first moment. So the public sale never offers a
held plot (a live claim), offers every unrenewed one as soon as the window closes (a lapsed
claim is released by whoever needs the plot, or by the release job), and a renewal is paid
through the checkout every reservation uses (farm.lifecycle.checkout): a payment landing
after the window closed is honoured while the claim is still there, or when the plot is
still free, and refunded when someone else has it (farm.subscriptions.services
.activate_paid). The claim carries no customer: the one-unpaid-checkout rule is the public
sale's, and a family keeping two plots has two holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import FieldErrors
from farm.i18n import _, localized
from farm.land import places
from farm.land.console import own_season
from farm.land.models import Field, Plan, Plot, PlotClaim, Season
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.paging import Page, paginate
from farm.renewals import rules
from farm.renewals.models import Renewal, RenewalWindow
from farm.sql import id_chunks, one_or_not_found
from farm.subscriptions import claims
from farm.subscriptions.models import ADDRESS_FIELDS, Status, Subscription
from farm.units import format_yuan

CHUNK = 500  # previous subscriptions read at a time
FIELDS_PER_PAGE = 50


# ---- the console: the window and the renewal rate ----


@dataclass(frozen=True)
class FieldRate:
    field: Field
    eligible: int
    renewed: int

    @property
    def rate(self) -> int | None:
        return rules.rate(renewed=self.renewed, eligible=self.eligible)


@dataclass(frozen=True)
class RenewalsView:
    season: Season
    window: RenewalWindow | None
    is_open: bool
    last_day: date  # the window's last day, included (the day before the public sale)
    fields: Page[FieldRate]
    eligible: int
    renewed: int

    @property
    def rate(self) -> int | None:
        return rules.rate(renewed=self.renewed, eligible=self.eligible)


async def renewals_view(
    *, manager: User, season_id: int, today: date, page: int = 1
) -> RenewalsView:
    """The season's renewal window and, per field of the previous plots, how many families
    could renew and how many did (paid), 50 fields a page."""
    season = await own_season(manager=manager, season_id=season_id)
    window = await RenewalWindow.get_or_none(season_id=season.id)
    query = Field.filter(id__in=Subquery(Renewal.filter(season_id=season.id).values("field_id")))
    found = await paginate(query, page=page, size=FIELDS_PER_PAGE, order_by=("name", "id"))
    ids = [f.id for f in found.items]
    eligible = await _counts(season.id, ids, renewed=False)
    renewed = await _counts(season.id, ids, renewed=True)
    rows = [FieldRate(f, eligible.get(f.id, 0), renewed.get(f.id, 0)) for f in found.items]
    return RenewalsView(
        season=season,
        window=window,
        is_open=rules.is_open(
            opens_on=window.opens_on if window else None,
            sale_starts_on=season.sale_starts_on,
            today=today,
        ),
        last_day=season.sale_starts_on - timedelta(days=1),
        fields=Page(rows, found.number, found.size, found.total),
        eligible=await Renewal.filter(season_id=season.id).count(),
        renewed=await _renewed(Renewal.filter(season_id=season.id)).count(),
    )


def _renewed(query):
    return query.filter(subscription__activated_at__isnull=False)


async def _counts(season_id: int, field_ids: list[int], *, renewed: bool) -> dict[int, int]:
    if not field_ids:
        return {}
    query = Renewal.filter(season_id=season_id, field_id__in=field_ids)
    if renewed:
        query = _renewed(query)
    rows = await query.annotate(n=Count("id")).group_by("field_id").values("field_id", "n")
    return {row["field_id"]: row["n"] for row in rows}


async def set_window(*, manager: User, season_id: int, opens_on: str, today: date) -> None:
    """Open (or move, or with "" remove) the season's renewal window from `opens_on`, a day
    before its public sale and not in the past. Refused once the window has made holds."""
    async with in_transaction() as conn:
        season = await one_or_not_found(
            Season.filter(id=season_id, cooperative_id=manager.cooperative_id),
            _("This season does not exist."),
            conn=conn,
        )
        if await Renewal.filter(season_id=season.id).using_db(conn).exists():
            raise FieldErrors(
                {"opens_on": _("The window is open and plots are held: it can no longer change.")}
            )
        if not opens_on.strip():
            await RenewalWindow.filter(season_id=season.id).using_db(conn).delete()
            return
        form = forms.Form()
        day = form.read("opens_on", forms.day, opens_on)
        if day is not None and day >= season.sale_starts_on:
            form.refuse(
                "opens_on",
                _("The window must open before the public sale, which opens on %(day)s.")
                % {"day": season.sale_starts_on},
            )
        elif day is not None and day < today:
            form.refuse("opens_on", _("The window cannot open in the past."))
        form.check()
        window = await RenewalWindow.get_or_none(season_id=season.id).using_db(conn)
        if window is None:
            await RenewalWindow.create(season_id=season.id, opens_on=day, using_db=conn)
        else:
            window.opens_on = day
            await window.save(using_db=conn, update_fields=["opens_on"])


# ---- the scheduler: open windows, remind ----


async def open_renewals(*, today: date, now: datetime, timezone: str, links: Links) -> int:
    """For every season whose renewal window is open today and which has published plans,
    hold a plot for each eligible subscription not yet given one, and mail its family. Own
    plots first (all of them), then comparable ones, so that no family's own plot is given to
    another as "comparable". Safe to run twice or on two machines (a renewal is unique on
    season and previous subscription). The number of renewals opened."""
    opened = 0
    windows = await RenewalWindow.filter(
        opens_on__lte=today, season__sale_starts_on__gt=today
    ).select_related("season")
    for window in windows:
        season = window.season
        offers = [
            rules.Offer(p.id, p.field_id, p.plot_area_m2)
            for p in await Plan.filter(season_id=season.id, published=True).order_by("id")
        ]
        if not offers:  # nothing on offer yet: open when the plans are published
            continue
        closing = rules.closes_at(sale_starts_on=season.sale_starts_on, timezone=timezone)
        for own_only in (True, False):
            async for previous in _eligible(season, window.opens_on):
                opened += await _open_one(
                    season=season, previous=previous, offers=offers, closing=closing,
                    own_only=own_only, now=now, links=links,
                )  # fmt: skip
    return opened


async def _eligible(season: Season, opens_on: date):
    """The previous subscriptions that may renew and have no renewal yet, CHUNK at a time."""
    previous = Subscription.filter(
        season__cooperative_id=season.cooperative_id,
        status__in=(Status.ACTIVE, Status.COMPLETED),
        season__starts_on__lt=season.starts_on,
        season__starts_on__lte=opens_on,
        season__ends_on__gt=opens_on - timedelta(days=rules.RECENT_DAYS),
    ).select_related("season", "plot", "customer")
    async for subs in id_chunks(previous, CHUNK):
        done = set(
            await Renewal.filter(
                season_id=season.id, previous_id__in=[s.id for s in subs]
            ).values_list("previous_id", flat=True)
        )
        for sub in subs:
            eligible = rules.is_eligible(
                status=sub.status, season_starts_on=sub.season.starts_on,
                season_ends_on=sub.season.ends_on, new_starts_on=season.starts_on,
                opens_on=opens_on,
            )  # fmt: skip
            if eligible and sub.id not in done:
                yield sub


async def _open_one(
    *, season: Season, previous: Subscription, offers: list[rules.Offer], closing: datetime,
    own_only: bool, now: datetime, links: Links,
) -> int:  # fmt: skip
    """One renewal in one transaction: its row, its hold, its mail. With `own_only`, only if
    the family's own plot can be held (else it waits for the second pass)."""
    try:
        async with in_transaction() as conn:
            held = await _hold(
                conn, season=season, previous=previous, offers=offers, closing=closing,
                own_only=own_only, now=now,
            )  # fmt: skip
            if held is None and (
                own_only or await _free_somewhere(conn, season.id, previous, offers)
            ):
                # Own plots first; and a free plot another scheduler has locked this moment
                # (SKIP LOCKED passed it by) may yet be this family's: the next run sees.
                return 0
            sub, same = held if held is not None else (None, False)
            renewal = await Renewal.create(
                season_id=season.id, previous_id=previous.id, field_id=previous.plot.field_id,
                subscription_id=sub.id if sub else None, same_plot=same, opened_at=now,
                using_db=conn,
            )  # fmt: skip
            if sub is not None:
                await sub.fetch_related("plot", using_db=conn)
                link = links.to(f"/checkout/{sub.id}")
                await queue_mail(
                    user=previous.customer,
                    key=f"renewal-open:{renewal.id}",
                    render=lambda: renewal_mail(
                        kind="renewal_open",
                        season=season,
                        previous=previous,
                        sub=sub,
                        same=same,
                        link=link,
                    ),  # fmt: skip
                    now=now,
                    conn=conn,
                    cooperative_id=season.cooperative_id,
                )
    except (IntegrityError, _OfferChanged):
        # Another scheduler opened this renewal, or took the plot first, or the manager changed
        # the plan since the offers were read: the next run sees.
        return 0
    return 1


class _OfferChanged(Exception):
    """A plan's field or plot size changed since the offers were read: roll back."""


async def _hold(
    conn: BaseDBAsyncClient, *, season: Season, previous: Subscription,
    offers: list[rules.Offer], closing: datetime, own_only: bool, now: datetime,
) -> tuple[Subscription, bool] | None:  # fmt: skip
    """Hold the family's own plot (same field and code, offered at its size), or else a
    comparable one; the subscription made and whether it is the same plot. The lock order
    of every claim: the plot (picked SKIP LOCKED), a place row of the plan, the claim's
    indexes (farm/land/places.py)."""
    old = previous.plot
    for offer, own in rules.plans_to_try(field_id=old.field_id, area_m2=old.area_m2, offers=offers):
        plot_id, same = None, False
        if own:
            mine = await Plot.get_or_none(
                field_id=offer.field_id, code=old.code, area_m2=offer.plot_area_m2
            ).using_db(conn)
            if (
                mine is not None
                and not await PlotClaim.filter(season_id=season.id, plot_id=mine.id)
                .using_db(conn)
                .exists()
            ):
                plot_id, same = mine.id, True
        if plot_id is None and own_only:
            continue
        if plot_id is None:
            plot_id = await claims.pick_free_plot(
                conn, season_id=season.id, field_id=offer.field_id, area_m2=offer.plot_area_m2
            )
        if plot_id is None or not await places.take_place(conn, offer.plan_id):
            continue
        plan = await Plan.get(id=offer.plan_id).using_db(conn)  # as it is, its place held
        if (plan.field_id, plan.plot_area_m2) != (offer.field_id, offer.plot_area_m2):
            raise _OfferChanged  # the plot was picked by the plan's old terms
        sub = await Subscription.create(
            customer_id=previous.customer_id, season_id=season.id, plan_id=plan.id,
            plot_id=plot_id, price_fen=plan.price_fen, sign_name=previous.sign_name,
            reserved_at=now, using_db=conn,
            **{name: getattr(previous, name) for name in ADDRESS_FIELDS},
        )  # fmt: skip
        await PlotClaim.create(
            season_id=season.id, plot_id=plot_id, plan_id=plan.id, customer_id=None,
            subscription_id=sub.id, expires_at=closing, using_db=conn,
        )  # fmt: skip
        return sub, same
    return None


async def _free_somewhere(
    conn: BaseDBAsyncClient, season_id: int, previous: Subscription, offers: list[rules.Offer]
) -> bool:
    """Whether a plot that could be held for the family is unclaimed (locked or not)."""
    taken = Subquery(PlotClaim.filter(season_id=season_id).values("plot_id"))
    for offer, _own in rules.plans_to_try(
        field_id=previous.plot.field_id, area_m2=previous.plot.area_m2, offers=offers
    ):
        if (
            await Plot.filter(field_id=offer.field_id, area_m2=offer.plot_area_m2)
            .exclude(id__in=taken)
            .using_db(conn)
            .exists()
        ) and await places.has_room(conn, offer.plan_id):
            return True
    return False


def renewal_mail(
    *, kind: str, season: Season, previous: Subscription, sub: Subscription, same: bool,
    link: str,
) -> Letter:  # fmt: skip
    """The window opens ("renewal_open") or is about to close ("renewal_ending")."""
    context = {
        "season": localized(season.name, season.name_en),
        "old_code": previous.plot.code,
        "code": sub.plot.code,
        "same": same,
        "price": format_yuan(sub.price_fen),
        "last_day": season.sale_starts_on - timedelta(days=1),
        "link": link,
    }
    if kind == "renewal_open":
        subject = _("Keep your plot %(code)s next season") % {"code": previous.plot.code}
    else:
        subject = _("Your plot is held for you until %(day)s") % {"day": context["last_day"]}
    return Letter(kind, subject, context)


async def remind_renewals(*, today: date, now: datetime, links: Links) -> int:
    """In a window's last REMIND_DAYS days, mail each family whose held plot is not paid yet,
    once (`reminded_at`, claimed by a conditional update; the mail's key besides). The
    number of reminders queued."""
    sent = 0
    held = Renewal.filter(
        reminded_at__isnull=True,
        subscription__status=Status.PENDING_PAYMENT,
        season__sale_starts_on__gt=today,
        season__sale_starts_on__lte=today + timedelta(days=rules.REMIND_DAYS),
    ).select_related("season", "subscription__plot", "previous__plot", "previous__customer")
    async for due in id_chunks(held, CHUNK):
        for renewal in due:
            async with in_transaction() as conn:
                claimed = (
                    await Renewal.filter(id=renewal.id, reminded_at__isnull=True)
                    .using_db(conn)
                    .update(reminded_at=now)
                )
                if not claimed:
                    continue
                sub, season, previous = renewal.subscription, renewal.season, renewal.previous
                link = links.to(f"/checkout/{sub.id}")
                sent += await queue_mail(
                    user=previous.customer,
                    key=f"renewal-ending:{renewal.id}",
                    render=partial(
                        renewal_mail,
                        kind="renewal_ending",
                        season=season,
                        previous=previous,
                        sub=sub,
                        same=renewal.same_plot,
                        link=link,
                    ),  # fmt: skip
                    now=now,
                    conn=conn,
                    cooperative_id=season.cooperative_id,
                )
    return sent


# ---- the family ----


async def open_offers(*, customer: User, today: date) -> list[Renewal]:
    """The customer's plots held for them in an open window, not yet paid, with their
    subscription's plot and plan, the season and the previous plot."""
    return list(
        await Renewal.filter(
            subscription__customer_id=customer.id,
            subscription__status=Status.PENDING_PAYMENT,
            season__sale_starts_on__gt=today,
        )
        .order_by("id")
        .select_related("season", "subscription__plot", "subscription__plan", "previous__plot")
    )


async def renewal_of(*, subscription_id: int) -> Renewal | None:
    """The renewal a subscription was made for, with its previous plot; None for a sale's."""
    return (
        await Renewal.filter(subscription_id=subscription_id)
        .select_related("season", "previous__plot")
        .first()
    )
