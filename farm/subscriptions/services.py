"""Subscription use cases: reserve a plot, lapse reservations, keep a paid plot (activate),
release an unpaid one, re-address. Cancelling an active subscription, which also touches
payments, stays and vouchers, is farm.lifecycle.cancellation's."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm.accounts import counters, sessions
from farm.accounts.models import User
from farm.errors import Conflict, Forbidden, NotFound
from farm.i18n import _
from farm.land import places
from farm.land import rules as land_rules
from farm.land.models import Plan, Plot, PlotClaim
from farm.land.services import live_claims, season_ship_days
from farm.payments.models import Payment, PaymentStatus
from farm.sql import is_postgres, one_or_not_found, select
from farm.subscriptions import claims, rules
from farm.subscriptions.models import ADDRESS_FIELDS, Status, Subscription

AUTO_PICK_TRIES = 8
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.REFUND_DUE)
SIGN_NAME_MAX = 40  # what fits on the sign on the plot


class PlotTaken(Conflict):
    pass


class EmailNotConfirmed(Forbidden):
    """A customer who has not confirmed their email reserves nothing (hoarding)."""


@dataclass(frozen=True)
class HoldRules:
    """What a reservation asks of its buyer against hoarding (the settings')."""

    require_confirmed: bool = False
    relapse_minutes: int = 0


class _PlanFull(Exception):
    """The plan's places refused one more: roll back, reconcile, maybe try again."""


class _InTheWay(Exception):
    """A unique index refused the claim: roll back, then see what stood in the way."""


async def reserve_plot(
    *,
    customer: User,
    plan_id: int,
    plot_id: int | None,
    today: date,
    now: datetime,
    minutes: int,
    hold: HoldRules = HoldRules(),
) -> Subscription:
    """Hold a plot of this plan for `minutes` while the customer pays. With no plot given,
    pick a free one. Raises PlotTaken when the plot is held by someone else.

    A customer holds one unpaid reservation a season: a double click gets the same checkout
    back; another plot or plan is refused, saying which plot is in checkout. A family holds
    at most the plan's `max_plots_per_customer` paid plots. Against hoarding (`hold`): a customer
    who must confirm their email first gets EmailNotConfirmed, and a plot whose hold the
    customer let lapse is theirs again only `relapse_minutes` later."""
    if hold.require_confirmed and customer.email_confirmed_at is None:
        raise EmailNotConfirmed(_("Please confirm your email address before reserving a plot."))
    if is_postgres(connections.get("default")):
        reserved, _counted = await _reserve_in_one_statement(
            customer_id=customer.id, session_hash=None, plan_id=plan_id, plot_id=plot_id,
            today=today, now=now, minutes=minutes, hold=hold,
        )  # fmt: skip
        if reserved is not None:
            sub = Subscription(
                id=reserved["id"], customer_id=customer.id, season_id=reserved["season_id"],
                plan_id=reserved["plan_id"], plot_id=reserved["plot_id"],
                status=Status.PENDING_PAYMENT, price_fen=reserved["price_fen"],
                sign_name=reserved["sign_name"], reserved_at=now,
            )  # fmt: skip
            sub._saved_in_db = True
            return sub
    # The way that explains a refusal, releases lapsed claims in the way, returns a double
    # click's checkout, and retries: SQLite's, and PostgreSQL's when one statement was not all.
    plan = await Plan.get_or_none(id=plan_id).select_related("season")
    if plan is None or not plan.published:  # a draft is its managers' alone
        raise NotFound(_("This plan does not exist."))
    season = plan.season
    if not land_rules.is_on_sale(
        sale_starts_on=season.sale_starts_on, sale_ends_on=season.sale_ends_on, today=today
    ):
        raise Conflict(_("This season is not on sale now."))
    if plot_id is not None and not await Plot.exists(
        id=plot_id, field_id=plan.field_id, area_m2=plan.plot_area_m2
    ):
        raise NotFound(_("This plot is not offered in this plan."))
    held = await _holdings_allow(customer=customer, plan=plan, plot_id=plot_id, now=now)
    if held is not None:  # a double click: the checkout already open
        return held
    if plot_id is not None and hold.relapse_minutes:
        await _refuse_relapse(
            customer_id=customer.id, plot_id=plot_id, season_id=plan.season_id, now=now,
            minutes=hold.relapse_minutes,
        )  # fmt: skip
    full = plan_full_message()
    reconciled = False
    if not await places.has_room(connections.get("default"), plan.id):
        # Full, or lapsed claims still count: release them first.
        if not await _release_lapsed(now=now, plan_id=plan.id):
            raise Conflict(full)
        reconciled = True
    for _attempt in range(AUTO_PICK_TRIES):
        try:
            return await _claim(
                customer=customer, plan=plan, plot_id=plot_id, now=now, minutes=minutes
            )
        except _PlanFull:
            if reconciled or not await _release_lapsed(now=now, plan_id=plan.id):
                raise Conflict(full) from None
            reconciled = True
        except _InTheWay:
            held, cleared = await _clear_the_way(
                customer=customer, plan=plan, plot_id=plot_id, now=now
            )
            if held is not None:
                if held.plan_id == plan.id and plot_id in (None, held.plot_id):
                    return held  # a double click: the checkout already open
                # Another tab's checkout, made at this very moment: say so.
                await _holdings_allow(customer=customer, plan=plan, plot_id=plot_id, now=now)
                continue
            if plot_id is not None and not cleared:
                break
    if plot_id is not None:
        raise PlotTaken(_("Someone has just taken this plot. Please pick another."))
    raise Conflict(full)


async def _holdings_allow(
    *, customer: User, plan: Plan, plot_id: int | None, now: datetime
) -> Subscription | None:
    """What the customer already holds allows this reservation: their own live checkout of
    this plan for the same plot (or any plot) is a double click, returned as it is. Refused
    plainly, with a link to the plot they hold, are another checkout open this season (one
    at a time: pay for it or release it first) and a plan's per-family limit reached."""
    open_claim = await PlotClaim.filter(
        season_id=plan.season_id, customer_id=customer.id, expires_at__gt=now
    ).first()
    if open_claim is not None:
        sub = await Subscription.get(id=open_claim.subscription_id).select_related("plot")
        if open_claim.plan_id == plan.id and plot_id in (None, open_claim.plot_id):
            return sub
        raise Conflict(
            _(
                "You are in checkout for plot %(code)s. One plot is held at a time: pay for "
                "it or release it first, then reserve another."
            )
            % {"code": sub.plot.code},
            link=(f"/checkout/{sub.id}", _("Back to plot %(code)s") % {"code": sub.plot.code}),
        )
    held = await (
        Subscription.filter(customer_id=customer.id, plan_id=plan.id, status=Status.ACTIVE)
        .select_related("plot")
        .order_by("id")
    )
    if len(held) >= plan.max_plots_per_customer:
        codes = ", ".join(s.plot.code for s in held)
        if plan.max_plots_per_customer == 1:
            message = _("This plan allows one plot per family, and yours is plot %(codes)s.")
        else:
            message = _("This plan allows %(num)d plots per family, and you hold them: %(codes)s.")
        raise Conflict(
            message % {"num": plan.max_plots_per_customer, "codes": codes},
            link=(
                f"/account/subscriptions/{held[0].id}",
                _("Your plot %(code)s") % {"code": held[0].plot.code},
            ),
        )
    return None


async def _refuse_relapse(
    *, customer_id: int, plot_id: int, season_id: int, now: datetime, minutes: int
) -> None:
    """Conflict when the customer let their hold on this plot lapse less than `minutes` ago
    (released, or expired and not yet released), saying when they may hold it again."""
    since = now - timedelta(minutes=minutes)
    lapsed_at = [
        *await Subscription.filter(
            customer_id=customer_id, plot_id=plot_id, season_id=season_id,
            status=Status.CANCELLED, cancel_reason="lapsed", cancelled_at__gt=since,
        ).values_list("cancelled_at", flat=True),
        *await PlotClaim.filter(
            customer_id=customer_id, plot_id=plot_id, season_id=season_id,
            expires_at__lte=now, expires_at__gt=since,
        ).values_list("expires_at", flat=True),
    ]  # fmt: skip
    if lapsed_at:
        again = rules.relapse_ends_at(lapsed_at=max(lapsed_at), minutes=minutes)
        wait = max(1, -(-int((again - now).total_seconds()) // 60))
        raise Conflict(
            _(
                "Your hold on this plot ran out before it was paid, so it is open to other "
                "families for now. You can hold it again in %(minutes)d minutes, or pick "
                "another plot."
            )
            % {"minutes": wait}
        )


async def reserve_for_session(
    *, session_token: str, plan_id: int, plot_id: int | None, today: date, now: datetime,
    minutes: int, hold: HoldRules = HoldRules(), limit: counters.Limit | None = None,
) -> int | None:  # fmt: skip
    """The flash sale's fast path, before the session's user is read: on PostgreSQL, the
    customer of the open session `session_token` (checked in the same statement) reserves in
    one round trip, counted against `limit` (the client address's reservations) in the same
    statement. The new subscription's id, or None when that did not reserve (SQLite; or not
    this customer, at the address's limit, not on sale, full, taken, a double click...), and
    then nothing stays counted: `reserve_plot` with the user read decides and explains."""
    if not is_postgres(connections.get("default")):
        return None
    row, counted = await _reserve_in_one_statement(
        customer_id=None, session_hash=sessions.token_hash(session_token), plan_id=plan_id,
        plot_id=plot_id, today=today, now=now, minutes=minutes, hold=hold, limit=limit,
    )  # fmt: skip
    if row is not None:
        return row["id"]
    if counted and limit is not None:
        await counters.uncount(limit.counted)
    return None


# A plan on sale whose every place is held, none of them by a lapsed claim waiting to be
# released: after the last plot went, thousands of buyers are told so at once, in one read,
# rather than each taking the explaining path (a second try, the plan, the lapsed claims).
_SOLD_OUT = f"""
SELECT 1 FROM plans pl JOIN seasons se ON se.id = pl.season_id
WHERE pl.id = $1 AND pl.published
  AND NOT EXISTS (SELECT 1 FROM plan_places s WHERE s.plan_id = pl.id AND {places.ROOM})
  AND se.sale_starts_on <= $2 AND se.sale_ends_on > $2
  AND NOT EXISTS (SELECT 1 FROM plot_claims c WHERE c.plan_id = pl.id AND c.expires_at <= $3)
  AND ($4::int IS NULL OR EXISTS (
      SELECT 1 FROM plots p
      WHERE p.id = $4 AND p.field_id = pl.field_id AND p.area_m2 = pl.plot_area_m2
  ))
"""  # noqa: S608  (constants only)


def plan_full_message() -> str:
    return _("Every plot of this plan is taken. Please choose another plan.")


async def sold_out(*, plan_id: int, plot_id: int | None, today: date, now: datetime) -> bool:
    """Whether the plan is on sale and simply full (see _SOLD_OUT); False on SQLite, whose
    buyers take the explaining path."""
    conn = connections.get("default")
    if not is_postgres(conn):
        return False
    rows = await conn.execute_query_dict(_SOLD_OUT, [plan_id, today, now, plot_id])
    return bool(rows)


async def _reserve_in_one_statement(
    *, customer_id: int | None, session_hash: str | None, plan_id: int, plot_id: int | None,
    today: date, now: datetime, minutes: int, hold: HoldRules, limit: counters.Limit | None = None,
) -> tuple[dict | None, bool]:  # fmt: skip
    """The flash-sale path on PostgreSQL: the whole reservation in one round trip; the new
    subscription's columns, or None; and whether `limit` counted it (once, however many
    tries)."""
    conn = connections.get("default")
    tries: list[tuple[list[int], int | None]] = [([], None)]
    if plot_id is None:
        sample = claims.pick_candidates(plan_id)
        if sample is None:
            await claims.learn_plot_ids(conn, plan_id)
            sample = claims.pick_candidates(plan_id)
        if sample:  # a sample, then the first free plot from a random one, then from the start
            tries = [(sample, None), ([], claims.pick_start(plan_id)), ([], None)]
    counted = False
    for candidates, from_id in tries:
        try:
            row = await claims.reserve_in_one_statement(
                conn, plan_id=plan_id, plot_id=plot_id, customer_id=customer_id,
                session_hash=session_hash, require_confirmed=hold.require_confirmed,
                relapse_since=now - timedelta(minutes=hold.relapse_minutes),
                sign_name_max=SIGN_NAME_MAX, today=today,
                now=now, expires_at=rules.reservation_expires_at(now=now, minutes=minutes),
                candidates=candidates, from_id=from_id, limit=None if counted else limit,
            )  # fmt: skip
        except IntegrityError:  # the statement undid itself, its count included
            return None, counted
        counted = counted or row["counted"]
        if row["id"] is not None:
            return row, counted
        if limit is not None and not counted:
            break  # at the address's limit (or no buyer): no second try counts past it
    return None, counted


async def _claim(
    *, customer: User, plan: Plan, plot_id: int | None, now: datetime, minutes: int
) -> Subscription:
    """One attempt, in one transaction: pick (if asked), take a place in the plan (refused
    past max_plots), insert the subscription and its claim (the unique indexes refuse a taken
    plot and a second unpaid reservation). Nothing is left behind when it fails."""
    try:
        async with in_transaction() as conn:
            if plot_id is None:
                plot_id = await claims.pick_free_plot(
                    conn, season_id=plan.season_id, field_id=plan.field_id,
                    area_m2=plan.plot_area_m2,
                )  # fmt: skip
                if plot_id is None:
                    raise _PlanFull
            # A place before the claim, in the same order as the one-statement path, so that
            # two buyers never wait for each other in a circle.
            if not await places.take_place(conn, plan.id):
                raise _PlanFull
            # The plan as it is now that a place row is held (a manager's change of its terms
            # locks every place row first, and waits while a checkout holds one): read before,
            # it may have changed field or plot size since, and the plot is then not its own.
            now_is = await Plan.get(id=plan.id).using_db(conn)
            if (now_is.field_id, now_is.plot_area_m2) != (plan.field_id, plan.plot_area_m2):
                raise Conflict(_("This plan changed a moment ago. Please look at it again."))
            subscription = await Subscription.create(
                customer=customer,
                season_id=plan.season_id,
                plan_id=plan.id,
                plot_id=plot_id,
                price_fen=now_is.price_fen,
                sign_name=customer.name[:SIGN_NAME_MAX],
                reserved_at=now,
                using_db=conn,
            )
            await PlotClaim.create(
                season_id=plan.season_id,
                plot_id=plot_id,
                plan_id=plan.id,
                customer_id=customer.id,
                subscription_id=subscription.id,
                expires_at=rules.reservation_expires_at(now=now, minutes=minutes),
                using_db=conn,
            )
    except IntegrityError:
        raise _InTheWay from None
    return subscription


async def _clear_the_way(
    *, customer: User, plan: Plan, plot_id: int | None, now: datetime
) -> tuple[Subscription | None, bool]:
    """After a refused claim: the customer's own live reservation (a double click), or None
    and whether lapsed claims in the way were released for the next attempt."""
    async with in_transaction() as conn:
        in_the_way = await claims.claims_in_the_way(
            conn, season_id=plan.season_id, plot_id=plot_id or 0, customer_id=customer.id
        )
    cleared = False
    for claim in in_the_way:
        if claims.lapsed(claim, now):
            async with in_transaction() as conn:
                cleared |= await _lapse_claim(claim, now=now, conn=conn)
        elif claim.customer_id == customer.id and claim.expires_at is not None:
            return await Subscription.get(id=claim.subscription_id), False
    return None, cleared


async def _lapse_claim(claim: PlotClaim, *, now: datetime, conn: BaseDBAsyncClient) -> bool:
    """Release one lapsed reservation. The delete is conditional, so of two releasers only
    one wins, and a paid claim (no expiry) is never touched.

    The subscription is locked first, as a payment (`activate_paid`), a cancellation and a
    release lock it before its claim, and skipped when someone else holds it: that is a
    payment landing (or a cancellation) this very moment, which decides the claim's fate;
    waiting for it while holding a place row is how a payment and a releaser deadlocked."""
    if (
        await Subscription.filter(id=claim.subscription_id)
        .select_for_update(skip_locked=True, no_key=True)
        .using_db(conn)
        .only("id")
        .first()
    ) is None:
        return False
    gone = PlotClaim.filter(id=claim.id, expires_at__lte=now).using_db(conn).delete
    if not await places.give_back(conn, claim.plan_id, gone):
        return False
    await (
        Subscription.filter(id=claim.subscription_id, status=Status.PENDING_PAYMENT)
        .using_db(conn)
        .update(status=Status.CANCELLED, cancelled_at=now, cancel_reason="lapsed")
    )
    return True


async def _release_lapsed(*, now: datetime, plan_id: int | None = None) -> int:
    query = PlotClaim.filter(expires_at__lte=now)
    if plan_id is not None:
        query = query.filter(plan_id=plan_id)
    released = 0
    for claim in await query.only("id", "subscription_id", "plan_id"):
        async with in_transaction() as conn:
            released += await _lapse_claim(claim, now=now, conn=conn)
    return released


async def release_lapsed_reservations(*, now: datetime) -> int:
    """Free every plot whose reservation has lapsed. Safe to run anywhere, any number of times."""
    return await _release_lapsed(now=now)


async def activate_paid(*, subscription_id: int, now: datetime, conn: BaseDBAsyncClient) -> bool:
    """Turn a paid subscription active (idempotent), within the caller's transaction.

    False when the plot cannot be kept: the customer released it before the payment landed,
    or the reservation lapsed and the plot (or the plan's last place) went to someone else.
    The caller must then refund."""
    sub = await Subscription.select_for_update().using_db(conn).get(id=subscription_id)
    if sub.status == Status.ACTIVE:
        return True
    lapsed = sub.status == Status.CANCELLED and sub.cancel_reason == "lapsed"
    if sub.status != Status.PENDING_PAYMENT and not lapsed:
        return False
    claim = await PlotClaim.get_or_none(subscription_id=sub.id).using_db(conn)
    if claim is None:
        # The reservation lapsed and was released: take the plot back on the same terms as a
        # new reservation, if it is still free and the plan still has room. This may release
        # several lapsed claims, take a place and count again: the plan's place rows are all
        # locked first, in shard order, before any claim is deleted (farm/land/places.py).
        # Before them, as a release does, the subscriptions of the lapsed claims this may
        # release (the plot's, and the plan's for its place), waited for in id order: a
        # release job holding one is freeing a plot or a place this moment, and `_lapse_claim`
        # would skip it, leave its claim in the way and refund a payment that fits.
        in_the_way = await (
            PlotClaim.filter(
                Q(plan_id=sub.plan_id) | Q(season_id=sub.season_id, plot_id=sub.plot_id),
                expires_at__lte=now,
            )
            .using_db(conn)
            .values_list("subscription_id", flat=True)
        )  # at most the plan's max_plots and one: within PostgreSQL's parameters
        if in_the_way:  # one statement, rows locked in the order of their ids
            await (
                Subscription.filter(id__in=in_the_way)
                .select_for_update(no_key=True)
                .order_by("id")
                .using_db(conn)
                .only("id")
            )
        await places.lock_all(conn, sub.plan_id)
        for other in await PlotClaim.filter(
            season_id=sub.season_id, plot_id=sub.plot_id, expires_at__lte=now
        ).using_db(conn):
            await _lapse_claim(other, now=now, conn=conn)
        if (
            await PlotClaim.filter(season_id=sub.season_id, plot_id=sub.plot_id)
            .using_db(conn)
            .exists()
        ):
            return False
        if not await places.take_place(conn, sub.plan_id):
            # Full, or lapsed claims still count: release them, count again, and retry.
            for other in await PlotClaim.filter(plan_id=sub.plan_id, expires_at__lte=now).using_db(
                conn
            ):
                await _lapse_claim(other, now=now, conn=conn)
            await places.recount(conn, sub.plan_id)
            if not await places.take_place(conn, sub.plan_id):
                return False
        await PlotClaim.create(
            season_id=sub.season_id,
            plot_id=sub.plot_id,
            plan_id=sub.plan_id,
            customer_id=sub.customer_id,
            subscription_id=sub.id,
            expires_at=None,
            using_db=conn,
        )
    else:
        await PlotClaim.filter(id=claim.id).using_db(conn).update(expires_at=None)
    sub.status = Status.ACTIVE
    sub.activated_at = now
    sub.cancelled_at = None
    sub.cancel_reason = ""
    await sub.save(using_db=conn)
    return True


async def release_reservation(*, subscription_id: int, now: datetime) -> bool:
    """The customer lets go of an unpaid plot. False if it was paid meanwhile. The subscription
    is locked first, so a payment landing at the same moment either wins or finds it released
    (and is then refunded); never an active subscription without its plot."""
    async with in_transaction() as conn:
        sub = await Subscription.select_for_update().using_db(conn).get(id=subscription_id)
        if sub.status != Status.PENDING_PAYMENT:
            return False
        await places.give_back(
            conn,
            sub.plan_id,
            PlotClaim.filter(subscription_id=sub.id, expires_at__isnull=False)
            .using_db(conn)
            .delete,
        )
        sub.status = Status.CANCELLED
        sub.cancelled_at = now
        sub.cancel_reason = "customer"
        await sub.save(using_db=conn)
        await (
            Payment.filter(subscription_id=sub.id, status=PaymentStatus.REQUIRES_PAYMENT)
            .using_db(conn)
            .update(status=PaymentStatus.CANCELLED)
        )
    return True


async def own_subscription(*, customer: User, subscription_id: int) -> Subscription:
    """The customer's own subscription; anyone else's is 'not found'."""
    return await one_or_not_found(
        Subscription.filter(id=subscription_id, customer_id=customer.id),
        _("This subscription does not exist."),
    )


@dataclass(frozen=True)
class SubscriptionView:
    subscription: Subscription
    ship_days: list[date]
    cutoff_days: int
    payment: Payment | None
    reservation_expires_at: datetime | None
    refund: rules.RefundQuote | None

    @property
    def ended(self) -> bool:
        """Cancelled, lapsed, refunded or completed: nothing more leaves for it."""
        return self.subscription.status not in (Status.PENDING_PAYMENT, Status.ACTIVE)

    @property
    def cancellable(self) -> bool:
        """Active, paid, and something is still refundable: only then is there a cancel
        button (a demo subscription without a payment has none)."""
        return (
            self.subscription.status == Status.ACTIVE
            and self.refund is not None
            and self.payment is not None
            and self.payment.status == PaymentStatus.SUCCEEDED
        )


async def subscription_view(
    *, customer: User, subscription_id: int, today: date, not_sent_read: bool = True
) -> SubscriptionView:
    """The customer's own subscription. `not_sent_read=False`: the caller reads the ship days
    that sent nothing itself (the subscription page, with its boxes) and gives them to
    `with_not_sent` for the exact refund; until then the quote counts every ship day."""
    sub = await one_or_not_found(
        Subscription.filter(id=subscription_id, customer_id=customer.id).select_related(
            # the field's crop calendar: the page shows what the plot grows (farm.cropplans)
            # and its cooperative: the next box's transit days (farm.shipments.box)
            "season__cooperative",
            "plan",
            "plot__field__crop_calendar",
        ),
        _("This subscription does not exist."),
    )
    return (await _views([sub], today=today, not_sent_read=not_sent_read))[0]


def with_not_sent(view: SubscriptionView, not_sent: set[date], *, today: date) -> SubscriptionView:
    """The view with its refund quote leaving out the ship days that sent it nothing."""
    if view.refund is None or not not_sent:
        return view
    sub = view.subscription
    refund = rules.refund_quote(
        price_fen=sub.price_fen, starts_on=sub.season.starts_on, ends_on=sub.season.ends_on,
        ship_days=view.ship_days, cutoff_days=sub.season.cutoff_days, today=today,
        empty_days=not_sent,
    )  # fmt: skip
    return dataclasses.replace(view, refund=refund)


async def account_overview(*, customer: User, today: date) -> list[SubscriptionView]:
    subs = await (
        Subscription.filter(customer_id=customer.id)
        .select_related("season", "plan", "plot__field")
        .order_by("-reserved_at", "-id")
    )
    return await _views(list(subs), today=today)


async def _views(
    subs: list[Subscription], *, today: date, not_sent_read: bool = True
) -> list[SubscriptionView]:
    """The views of subscriptions fetched with their season, plan, plot and field: two more
    queries (payments, claims) however many there are."""
    if not subs:
        return []
    ids = [s.id for s in subs]
    payments: dict[int, Payment] = {}
    for p in await Payment.filter(subscription_id__in=ids).order_by("created_at", "id"):
        kept = payments.get(p.subscription_id)
        if kept is None or kept.status not in PAID:  # the paid one, else the latest attempt
            payments[p.subscription_id] = p
    pending = [s.id for s in subs if s.status == Status.PENDING_PAYMENT]
    expiries = (  # a hold's clock: only a reservation has one
        dict(
            await PlotClaim.filter(subscription_id__in=pending).values_list(
                "subscription_id", "expires_at"
            )
        )
        if pending
        else {}
    )
    empty: dict[int, set[date]] = {}
    active = [s.id for s in subs if s.status == Status.ACTIVE]
    if active and not_sent_read:  # ship days that had nothing for them: not counted
        conn = connections.get("default")
        marks = ", ".join(f"${i}" for i in range(1, len(active) + 1))
        rows = await select(
            conn,
            "SELECT subscription_id, ship_on FROM shipments "  # noqa: S608 (numbered marks)
            f"WHERE status IN ('empty', 'closed') AND subscription_id IN ({marks})",
            list(active),
        )
        for row in rows:
            ship_on = row["ship_on"]
            ship_on = date.fromisoformat(ship_on) if isinstance(ship_on, str) else ship_on
            empty.setdefault(row["subscription_id"], set()).add(ship_on)
    views = []
    for sub in subs:
        days = season_ship_days(sub.season)
        refund = None
        if sub.status == Status.ACTIVE:
            refund = rules.refund_quote(
                price_fen=sub.price_fen,
                starts_on=sub.season.starts_on,
                ends_on=sub.season.ends_on,
                ship_days=days,
                cutoff_days=sub.season.cutoff_days,
                today=today,
                empty_days=empty.get(sub.id, ()),
            )
        views.append(
            SubscriptionView(
                subscription=sub,
                ship_days=days,
                cutoff_days=sub.season.cutoff_days,
                payment=payments.get(sub.id),
                reservation_expires_at=expiries.get(sub.id),
                refund=refund,
            )
        )
    return views


async def update_address(
    *,
    customer: User,
    subscription_id: int,
    recipient: str,
    phone: str,
    province: str,
    city: str,
    address: str,
    today: date,
) -> Subscription:
    """Change the delivery address; refused while a box of an active subscription is being
    packed (after a ship day's cutoff, until that ship day has passed)."""
    sub = await own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status not in (Status.PENDING_PAYMENT, Status.ACTIVE):
        raise Conflict(_("This subscription has ended; its address can no longer be changed."))
    if sub.status == Status.ACTIVE:
        await sub.fetch_related("season")
        locked = rules.locked_ship_day(
            season_ship_days(sub.season), cutoff_days=sub.season.cutoff_days, today=today
        )
        if locked is not None:
            raise Conflict(
                _(
                    "The box for %(day)s is being packed (changes closed on %(cutoff)s). "
                    "You can change the address again after it ships on %(day)s."
                )
                % {
                    "day": locked.isoformat(),
                    "cutoff": land_rules.cutoff_for(locked, sub.season.cutoff_days).isoformat(),
                }
            )
    clean = rules.read_address(
        recipient=recipient, phone=phone, province=province, city=city, address=address
    )
    await Subscription.filter(id=sub.id).update(**clean)
    await sub.refresh_from_db()
    return sub


@dataclass(frozen=True)
class LapsedHold:
    """A checkout whose hold ran out before it was paid, and how to reserve again."""

    subscription: Subscription  # with its plan, season and plot
    on_sale: bool  # the plan can still be reserved
    plot_free: bool  # the same plot is free to hold again
    wait_until: datetime | None = None  # the same plot is theirs again only then (hoarding)


async def lapsed_hold(
    *, customer: User, subscription_id: int, today: date, now: datetime, relapse_minutes: int = 0
) -> LapsedHold | None:
    """The customer's checkout if its hold lapsed (released, or expired and not yet
    released), with whether the plan is still on sale and the same plot still free, and when
    the customer may hold that plot again (`relapse_minutes` after it lapsed: HoldRules);
    None for anything else."""
    sub = await one_or_not_found(
        Subscription.filter(id=subscription_id, customer_id=customer.id).select_related(
            "season", "plan", "plot"
        ),
        _("This subscription does not exist."),
    )
    claim = await PlotClaim.get_or_none(subscription_id=sub.id)
    released = sub.status == Status.CANCELLED and sub.cancel_reason == "lapsed"
    expired = sub.status == Status.PENDING_PAYMENT and (
        claim is None or rules.is_lapsed(expires_at=claim.expires_at, now=now)
    )
    if not (released or expired):
        return None
    season = sub.season
    on_sale = sub.plan.published and land_rules.is_on_sale(
        sale_starts_on=season.sale_starts_on, sale_ends_on=season.sale_ends_on, today=today
    )
    held_by_others = (
        await PlotClaim.filter(live_claims(now), season_id=sub.season_id, plot_id=sub.plot_id)
        .exclude(subscription_id=sub.id)
        .exists()
    )
    lapsed_at = sub.cancelled_at if released else (claim.expires_at if claim else None)
    wait_until = None
    if relapse_minutes and lapsed_at is not None:
        ends = rules.relapse_ends_at(lapsed_at=lapsed_at, minutes=relapse_minutes)
        wait_until = ends if ends > now else None
    return LapsedHold(sub, on_sale, not held_by_others, wait_until)


async def saved_address(*, customer: User, besides: int) -> tuple[str, dict[str, str]] | None:
    """The delivery address of the customer's most recent other subscription that has one
    (plot code, address fields), to offer at a second purchase; None if there is none."""
    last = await (
        Subscription.filter(customer_id=customer.id)
        .exclude(id=besides)
        .exclude(recipient="")
        .exclude(address="")
        .order_by("-reserved_at", "-id")
        .select_related("plot")
        .first()
    )
    if last is None:
        return None
    return last.plot.code, {name: getattr(last, name) for name in ADDRESS_FIELDS}


def has_address(sub: Subscription) -> bool:
    return bool(sub.recipient and sub.phone and sub.province and sub.city and sub.address)
