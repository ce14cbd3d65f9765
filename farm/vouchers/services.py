"""Voucher use cases: issue a plan's perks when a subscription turns active, catch up on any
missed, void them on cancellation, show them to their owner.

Issuing is idempotent: each (subscription, perk, seq) is issued once, checked under the
subscription's row lock and guarded by the unique index."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import RawSQL
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import NotFound
from farm.i18n import N_, _, localized
from farm.land.models import PerkKind, PlanPerk, Season
from farm.land.services import season_ship_days
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.sql import id_chunks, one_or_not_found
from farm.subscriptions.models import Status, Subscription
from farm.vouchers import rules
from farm.vouchers.models import Voucher, VoucherStatus

log = logging.getLogger("farm.vouchers")

CODE_TRIES = 5  # a collision among 31**12 codes is already unheard of
CATCH_UP_CHUNK = 200
FIRST_SHIP_DAYS = 3  # how many the activation mail lists

KIND_LABELS = {
    PerkKind.SCENIC_TICKET: N_("Scenic-spot ticket"),
    PerkKind.FARM_STAY_NIGHT: N_("Farm-stay night"),
}

# Perks the plan promises less the vouchers the subscription has, per subscription row: lets
# the catch-up find the few subscriptions missing some in one query, however many there are.
_LACKING = RawSQL(
    '(SELECT COALESCE(SUM(pp."count"), 0) FROM "plan_perks" pp'
    ' WHERE pp."plan_id" = "subscriptions"."plan_id")'
    ' - (SELECT COUNT(*) FROM "vouchers" v WHERE v."subscription_id" = "subscriptions"."id")'
)


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(PerkKind(kind), kind))


# ---- issuing ----


async def issue_vouchers(
    *, subscription_id: int, now: datetime, conn: BaseDBAsyncClient
) -> list[Voucher]:
    """Issue, within the caller's transaction, the vouchers an active subscription's plan
    promises and it does not have yet: one per perk and count (seq 1..count), valid for the
    season. Returns those issued now; nothing when all exist or it is not active.

    The subscription row is locked first (the lock order everywhere), so two issuers of the
    same subscription take turns and the second finds the vouchers made."""
    sub = await Subscription.select_for_update().using_db(conn).get(id=subscription_id)
    if sub.status != Status.ACTIVE:
        return []
    perks = await PlanPerk.filter(plan_id=sub.plan_id).using_db(conn).order_by("id")
    existing = await (
        Voucher.filter(subscription_id=sub.id).using_db(conn).values_list("perk_id", "seq")
    )
    missing = rules.missing_vouchers([(p.id, p.count) for p in perks], existing)
    if not missing:
        return []
    season = await Season.get(id=sub.season_id).using_db(conn)
    valid_from, valid_until = rules.validity(
        season_starts_on=season.starts_on, season_ends_on=season.ends_on
    )
    by_id = {p.id: p for p in perks}
    issued = []
    for perk_id, seq in missing:
        perk = by_id[perk_id]
        issued.append(
            await _create_with_fresh_code(
                conn,
                subscription_id=sub.id,
                perk_id=perk.id,
                seq=seq,
                kind=perk.kind,
                partner_id=perk.partner_id,
                valid_from=valid_from,
                valid_until=valid_until,
                issued_at=now,
            )
        )
    return issued


async def _create_with_fresh_code(conn: BaseDBAsyncClient, **values: object) -> Voucher:
    """Insert a voucher under a new random code. The insert runs in a savepoint, so that on
    PostgreSQL a collision on the code rolls back only that insert and a fresh code can be
    tried without aborting the caller's transaction."""
    for _attempt in range(CODE_TRIES):
        code = rules.new_code()
        if await _code_taken(code, conn):
            continue
        try:
            async with in_transaction() as savepoint:
                return await Voucher.create(code=code, **values, using_db=savepoint)
        except IntegrityError:
            # The code, taken at this very moment; or the (subscription, perk, seq) itself,
            # which the subscription lock rules out. Either way a fresh code is safe to try.
            if await (
                Voucher.filter(
                    subscription_id=values["subscription_id"],
                    perk_id=values["perk_id"],
                    seq=values["seq"],
                )
                .using_db(conn)
                .exists()
            ):
                raise
    raise RuntimeError("no free voucher code found")  # pragma: no cover - 31**12 codes


async def _code_taken(code: str, conn: BaseDBAsyncClient) -> bool:
    return await Voucher.filter(code=code).using_db(conn).exists()


async def on_activated(
    *, subscription_id: int, now: datetime, conn: BaseDBAsyncClient, links: Links,
    mail_vouchers: bool = True,
) -> list[Voucher]:  # fmt: skip
    """What follows a subscription turning active, in the transaction that activated it:
    its vouchers are issued, and the activation and vouchers mails queued (once per key,
    however often this runs), their links made with the runtime's `links`. Returns the
    vouchers issued now."""
    issued = await issue_vouchers(subscription_id=subscription_id, now=now, conn=conn)
    sub = await (
        Subscription.get(id=subscription_id)
        .using_db(conn)
        .prefetch_related("customer", "plot", "season")
    )
    if sub.status != Status.ACTIVE:
        return issued
    await _queue_activated_mail(sub, now=now, conn=conn, links=links)
    if mail_vouchers:  # a gift's go to its recipient when claimed (queue_vouchers_mail)
        await _queue_vouchers_mail(sub, now=now, conn=conn, links=links)
    return issued


async def queue_vouchers_mail(
    *, subscription_id: int, now: datetime, conn: BaseDBAsyncClient, links: Links
) -> None:
    """Mail the subscription's customer its vouchers (once: the mail's key), within the
    caller's transaction: a gift's, to the recipient who just claimed it."""
    sub = await (
        Subscription.get(id=subscription_id)
        .using_db(conn)
        .prefetch_related("customer", "plot", "season")
    )
    await _queue_vouchers_mail(sub, now=now, conn=conn, links=links)


async def issue_missing_vouchers(*, today: date, now: datetime, links: Links) -> int:
    """The catch-up job: issue the vouchers that active subscriptions of seasons not yet over
    lack (activation that did not issue them, a failure, a perk added), each subscription in
    its own transaction, and mail them. Returns how many vouchers were issued."""
    made = 0
    lacking = (
        Subscription.filter(status=Status.ACTIVE, season__ends_on__gt=today)
        .annotate(lacking=_LACKING)
        .filter(lacking__gt=0)
    )
    async for ids in id_chunks(
        lacking, CATCH_UP_CHUNK, lambda chunk: chunk.values_list("id", flat=True), id_of=int
    ):
        for sub_id in ids:
            try:
                async with in_transaction() as conn:
                    issued = await issue_vouchers(subscription_id=sub_id, now=now, conn=conn)
                    if issued:
                        await queue_vouchers_mail(
                            subscription_id=sub_id, now=now, conn=conn, links=links
                        )
            except IntegrityError:
                # Issued by another copy of the scheduler at the same moment: nothing is lost.
                log.warning("vouchers of subscription %s were being issued elsewhere", sub_id)
                continue
            made += len(issued)
    return made


# ---- ending ----


async def void_vouchers(*, subscription_id: int, now: datetime, conn: BaseDBAsyncClient) -> int:
    """Void a cancelled subscription's unused vouchers, within the caller's transaction.
    Redeemed ones stay redeemed."""
    return await (
        Voucher.filter(subscription_id=subscription_id, status=VoucherStatus.ISSUED)
        .using_db(conn)
        .update(status=VoucherStatus.VOID, ended_at=now)
    )


# ---- what the customer sees ----


@dataclass(frozen=True)
class VoucherView:
    voucher: Voucher
    state: rules.VoucherState

    @property
    def display_code(self) -> str:
        return rules.format_code(self.voucher.code)

    @property
    def last_day(self) -> date:
        return self.voucher.valid_until - timedelta(days=1)

    @property
    def shows_qr(self) -> bool:
        return rules.shows_qr(self.state)


def _view(voucher: Voucher, today: date) -> VoucherView:
    state = rules.voucher_state(
        status=voucher.status,
        valid_from=voucher.valid_from,
        valid_until=voucher.valid_until,
        today=today,
    )
    return VoucherView(voucher, state)


async def subscription_vouchers(
    *, customer: User, subscription_id: int, today: date
) -> tuple[Subscription, list[VoucherView]]:
    """One of the customer's own subscriptions and its vouchers; anyone else's is 404."""
    sub = await one_or_not_found(
        Subscription.filter(id=subscription_id, customer_id=customer.id).select_related(
            "plot", "season", "plan"
        ),
        _("This subscription does not exist."),
    )
    vouchers = await (
        Voucher.filter(subscription_id=sub.id)
        .order_by("kind", "perk_id", "seq")
        .select_related("partner")
    )
    return sub, [_view(v, today) for v in vouchers]


async def own_voucher(*, customer: User, code: str, today: date) -> VoucherView:
    """One of the customer's own vouchers by its code (any way of writing it); anyone else's,
    and anything that is not a code, is 404."""
    normalized = rules.normalize_code(code)
    voucher = None
    if normalized is not None:
        voucher = await (
            Voucher.filter(code=normalized, subscription__customer_id=customer.id)
            .select_related("partner", "subscription__plot", "subscription__season")
            .first()
        )
    if voucher is None:
        raise NotFound(_("This voucher does not exist."))
    return _view(voucher, today)


# ---- mail ----


async def _queue_activated_mail(
    sub: Subscription, *, now: datetime, conn: BaseDBAsyncClient, links: Links
) -> None:
    customer: User = sub.customer
    season: Season = sub.season
    days = [d for d in season_ship_days(season) if d >= now.date()][:FIRST_SHIP_DAYS]
    link = links.subscription(sub.id)

    def render() -> Letter:
        subject = _("Plot %(code)s is yours for the season") % {"code": sub.plot.code}
        return Letter("activated", subject, {
            "name": customer.name, "code": sub.plot.code,
            "season": localized(season.name, season.name_en), "start": season.starts_on,
            "end": season.ends_on - timedelta(days=1), "sign": sub.sign_name,
            "days": [d.isoformat() for d in days], "link": link,
        })  # fmt: skip

    await queue_mail(
        user=customer, key=f"activated:{sub.id}", render=render, now=now, conn=conn,
        cooperative_id=season.cooperative_id,
    )  # fmt: skip


async def _queue_vouchers_mail(
    sub: Subscription, *, now: datetime, conn: BaseDBAsyncClient, links: Links
) -> None:
    vouchers = await (
        Voucher.filter(subscription_id=sub.id, status=VoucherStatus.ISSUED)
        .using_db(conn)
        .order_by("kind", "perk_id", "seq")
        .prefetch_related("partner")
    )
    if not vouchers:
        return
    customer: User = sub.customer
    link = links.subscription(sub.id, "vouchers")

    def render() -> Letter:
        subject = _("Your vouchers for plot %(code)s") % {"code": sub.plot.code}
        listed = [
            {
                "label": kind_label(v.kind),
                "partner": v.partner.name if v.partner else "",
                "code": rules.format_code(v.code),
                "scan_url": links.voucher_scan(v.code),
                "valid_until": v.valid_until - timedelta(days=1),
            }  # fmt: skip
            for v in vouchers
        ]
        context = {"name": customer.name, "vouchers": listed, "link": link}
        return Letter("vouchers", subject, context)

    await queue_mail(
        user=customer, key=f"vouchers:{sub.id}", render=render, now=now, conn=conn,
        cooperative_id=sub.season.cooperative_id,
    )  # fmt: skip
