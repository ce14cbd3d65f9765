"""Giving a plot: the gift chosen at checkout, made claimable when its payment arrives, the
card its giver prints, the claim that moves the subscription to its recipient (once, even
when two claim at the same moment), the reminder to the giver, and the fall-back to the giver
of a gift nobody claimed before its first ship day.

Ownership is the subscription's `customer` (and its plot claim's): its boxes, vouchers, farm
stays and mail follow it, as every page of theirs reads them through it. The giver keeps only
the gift row: whether it was claimed, never the recipient's address or boxes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts import limits
from farm.accounts.models import User
from farm.errors import Conflict, FieldErrors
from farm.gifts import rules
from farm.gifts.models import Gift
from farm.i18n import _, localized
from farm.land.models import PlotClaim, Season
from farm.land.services import season_ship_days
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.sql import one_or_not_found
from farm.subscriptions import rules as subscription_rules
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from farm.vouchers import services as vouchers

log = logging.getLogger("farm.gifts")

ADDRESS_FIELDS = subscriptions.ADDRESS_FIELDS
MESSAGE_MAX = 300
CHUNK = 200  # gifts a job handles at a time


def claim_path(code: str = "") -> str:
    return f"/gift?code={code}" if code else "/gift"


def card_path(gift_id: int) -> str:
    return f"/account/gifts/{gift_id}"


def code_of(gift: Gift, *, secret: str) -> str:
    """The gift's claim code, as its card shows it."""
    return rules.derive_code(secret=secret, salt=gift.code_salt)


# ---- chosen at checkout ----


async def gift_of(subscription_id: int) -> Gift | None:
    return await Gift.get_or_none(subscription_id=subscription_id)


def read_choice(*, gift: str, recipient_name: str, message: str) -> dict:
    form = forms.Form()
    chosen = form.read("gift", forms.choice, gift, ("yes", "no"),
                       message=_("Choose whether the plot is a gift."))  # fmt: skip
    clean = {"gift": chosen == "yes", "recipient_name": "", "message": ""}
    if chosen == "yes":
        clean["recipient_name"] = form.read(
            "recipient_name", forms.text, recipient_name,
            limit=subscriptions.SIGN_NAME_MAX, required=True,
        ) or ""  # fmt: skip
        clean["message"] = form.read(
            "message", forms.text, message, limit=MESSAGE_MAX, one_line=False
        ) or ""  # fmt: skip
    form.check()
    return clean


async def save_choice(
    *, customer: User, subscription_id: int, gift: str, recipient_name: str, message: str,
    now: datetime,
) -> Gift | None:  # fmt: skip
    """At checkout, before payment: the plot is a gift for `recipient_name` (what its sign
    will read) with an optional message, or not a gift after all. FieldErrors beside each
    wrong field; only an unpaid reservation of the customer's own can change."""
    clean = read_choice(gift=gift, recipient_name=recipient_name, message=message)
    sub = await subscriptions.own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status != Status.PENDING_PAYMENT:
        raise Conflict(_("This subscription is not waiting for payment."))
    async with in_transaction() as conn:
        await Subscription.select_for_update().using_db(conn).get(id=sub.id)
        found = await Gift.get_or_none(subscription_id=sub.id).using_db(conn)
        if not clean["gift"]:
            if found is not None:
                await found.delete(using_db=conn)
            sign = customer.name[: subscriptions.SIGN_NAME_MAX]
            await Subscription.filter(id=sub.id).using_db(conn).update(sign_name=sign)
            return None
        if found is None:
            found = await Gift.create(
                subscription_id=sub.id, giver_id=customer.id, created_at=now,
                recipient_name=clean["recipient_name"], message=clean["message"], using_db=conn,
            )  # fmt: skip
        else:
            found.recipient_name = clean["recipient_name"]
            found.message = clean["message"]
            await found.save(using_db=conn)
        await (
            Subscription.filter(id=sub.id).using_db(conn).update(sign_name=clean["recipient_name"])
        )
    return found


async def on_paid(
    *, subscription_id: int, now: datetime, today: date, conn: BaseDBAsyncClient, secret: str,
    links: Links,
) -> Gift | None:  # fmt: skip
    """Within the activation's transaction: a gift's payment arrived. Its claim code is made,
    the day it must be claimed by set, the giver's address kept aside for a fall-back (the
    subscription has none until its recipient gives theirs, so no box is made for it), and
    the giver is mailed the card. Idempotent: a gift already paid is left as it is. The
    gift, or None when the subscription is not one."""
    gift = await Gift.get_or_none(subscription_id=subscription_id).using_db(conn)
    if gift is None or gift.paid_at is not None:
        return gift
    sub = await Subscription.get(id=subscription_id).using_db(conn)
    season = await Season.get(id=sub.season_id).using_db(conn)
    gift.claim_by = rules.claim_by(
        season_ship_days(season), paid_on=today, season_ends_on=season.ends_on
    )
    gift.remind_on = rules.remind_on(paid_on=today, claim_by=gift.claim_by)
    gift.paid_at = now
    gift.code_salt = secrets.token_hex(16)
    gift.code_hash = rules.code_hash(
        rules.normalize_code(rules.derive_code(secret=secret, salt=gift.code_salt)) or ""
    )
    for name in ADDRESS_FIELDS:
        setattr(gift, name, getattr(sub, name))
    await gift.save(using_db=conn)
    await Subscription.filter(id=sub.id).using_db(conn).update(**dict.fromkeys(ADDRESS_FIELDS, ""))
    giver = await User.get(id=gift.giver_id).using_db(conn)
    await queue_mail(
        user=giver, key=f"gift-ready:{gift.id}", now=now, conn=conn,
        render=_mail("gift_ready", gift, season, links.to(card_path(gift.id))),
        cooperative_id=season.cooperative_id,
    )  # fmt: skip
    return gift


async def refuse_address_change(subscription_id: int) -> None:
    """A gift waiting for its recipient has no address of its own: the recipient gives it
    when claiming, or the giver's comes back with a fall-back."""
    if await Gift.filter(
        subscription_id=subscription_id, paid_at__isnull=False, claimed_at__isnull=True,
        returned_at__isnull=True,
    ).exists():  # fmt: skip
        raise Conflict(
            _("This plot is a gift waiting to be claimed: its recipient gives the address.")
        )


# ---- the giver's ----


@dataclass(frozen=True)
class GiftView:
    gift: Gift  # with its subscription's plot and season
    state: str  # rules.state

    @property
    def claimable(self) -> bool:
        return self.state == "waiting" and self.gift.subscription.status == Status.ACTIVE


def _view(gift: Gift) -> GiftView:
    return GiftView(
        gift,
        rules.state(
            paid=gift.paid_at is not None,
            claimed=gift.claimed_at is not None,
            returned=gift.returned_at is not None,
        ),
    )


async def gifts_given(*, giver: User) -> list[GiftView]:
    """The gifts the customer paid for, newest first (the account page)."""
    gifts = await (
        Gift.filter(giver_id=giver.id, paid_at__isnull=False)
        .select_related("subscription__plot", "subscription__season")
        .order_by("-created_at", "-id")
        .limit(50)
    )
    return [_view(g) for g in gifts]


async def own_gift(*, giver: User, gift_id: int) -> GiftView:
    """A gift its giver paid for; to anyone else (its recipient included) 'not found'."""
    gift = await one_or_not_found(
        Gift.filter(id=gift_id, giver_id=giver.id, paid_at__isnull=False).select_related(
            "subscription__plot__field", "subscription__season__cooperative", "subscription__plan"
        ),
        _("This gift does not exist."),
    )
    return _view(gift)


# ---- claimed by its recipient ----

CLAIM_LIMIT = limits.GIFT_CODE_ADDRESS


def _wrong_code() -> FieldErrors:
    return FieldErrors(
        {"code": _("This code is not a gift's claim code. Check it on the card and try again.")}
    )


async def find_gift(*, code: str, client: str, now: datetime) -> Gift:
    """The gift a claim code opens (with its plot, season and giver). Each code of the right
    shape is counted against the client's address (a wrong one stays counted: codes are
    guessed; one that opens a gift is taken back); what cannot be a code is refused
    uncounted, as it guesses nothing. FieldErrors beside the code when it opens nothing;
    429 past the limit."""
    normalized = rules.normalize_code(code)
    if normalized is None:
        raise _wrong_code()
    taken = await limits.take(CLAIM_LIMIT, client, now=now)
    gift = await Gift.get_or_none(code_hash=rules.code_hash(normalized)).select_related(
        "subscription__plot", "subscription__season__cooperative", "giver"
    )
    if gift is None:
        raise _wrong_code()
    await limits.forgive(taken)
    return gift


def refusal(gift: Gift, *, customer: User | None) -> str:
    """Why this gift cannot be claimed (by this customer), or ''."""
    if gift.claimed_at is not None:
        return _("This gift has already been claimed.")
    if gift.returned_at is not None or gift.subscription.status != Status.ACTIVE:
        return _("This gift can no longer be claimed: it went back to the person who gave it.")
    if customer is not None and customer.id == gift.giver_id:
        return _("This is your own gift: give the card to the person it is for.")
    return ""


async def claim_gift(
    *, customer: User, code: str, client: str, now: datetime, links: Links, **address: str
) -> Subscription:
    """The recipient claims the gift with its code and their delivery address: the
    subscription, its plot claim, and with them its boxes, vouchers and stays become theirs.
    Once: a conditional UPDATE on the unclaimed gift decides between two claims at the same
    moment (the loser gets a 409), under the subscription's row lock (the lock order
    everywhere). The giver is told it was claimed, and nothing more."""
    gift = await find_gift(code=code, client=client, now=now)
    clean = subscription_rules.read_address(**{n: address.get(n, "") for n in ADDRESS_FIELDS})
    problem = refusal(gift, customer=customer)
    if problem:
        raise Conflict(problem)
    async with in_transaction() as conn:
        sub = await Subscription.select_for_update().using_db(conn).get(id=gift.subscription_id)
        if sub.status != Status.ACTIVE:
            raise Conflict(refusal(gift, customer=None) or _("This gift can no longer be claimed."))
        won = await (
            Gift.filter(id=gift.id, claimed_at__isnull=True, returned_at__isnull=True)
            .using_db(conn)
            .update(claimed_at=now, claimed_by_id=customer.id)
        )
        if not won:
            await gift.refresh_from_db(using_db=conn)
            raise Conflict(refusal(gift, customer=None) or _("This gift has already been claimed."))
        await Subscription.filter(id=sub.id).using_db(conn).update(customer_id=customer.id, **clean)
        await (
            PlotClaim.filter(subscription_id=sub.id).using_db(conn).update(customer_id=customer.id)
        )
        await vouchers.queue_vouchers_mail(
            subscription_id=sub.id, now=now, conn=conn, links=links
        )  # now the recipient's, in their language
        giver = await User.get(id=gift.giver_id).using_db(conn)
        season = gift.subscription.season
        await queue_mail(
            user=giver, key=f"gift-claimed:{gift.id}", now=now, conn=conn,
            render=_mail("gift_claimed", gift, season, links.to(card_path(gift.id))),
            cooperative_id=season.cooperative_id,
        )  # fmt: skip
    await sub.refresh_from_db()
    return sub


# ---- the scheduler's ----


def _unclaimed():
    return Gift.filter(
        paid_at__isnull=False, claimed_at__isnull=True, returned_at__isnull=True,
        subscription__status=Status.ACTIVE,
    )  # fmt: skip


async def remind_givers(*, today: date, now: datetime, links: Links) -> int:
    """Remind, once, the giver of each gift still unclaimed on its reminder day (and before
    it falls back). The conditional UPDATE on `reminded_at` and the mail's key make a rerun,
    or a second scheduler, send nothing more."""
    due = _unclaimed().filter(remind_on__lte=today, claim_by__gt=today, reminded_at__isnull=True)
    # each gift handled leaves the query: reminded, claimed or ended
    return await _each(due, partial(_remind, now=now, links=links))


async def _each(due: QuerySet[Gift], handle: Callable[[int], Awaitable[bool]]) -> int:
    """`handle` each gift `due` finds, a chunk at a time, until it finds none (a gift handled
    must leave it); how many `handle` said it did."""
    done = 0
    while ids := await due.order_by("id").limit(CHUNK).values_list("id", flat=True):
        for gift_id in ids:
            done += await handle(gift_id)
    return done


async def _remind(gift_id: int, *, now: datetime, links: Links) -> bool:
    async with in_transaction() as conn:
        won = await (
            Gift.filter(id=gift_id, reminded_at__isnull=True, claimed_at__isnull=True)
            .using_db(conn)
            .update(reminded_at=now)
        )
        if not won:
            return False
        gift = await (
            Gift.filter(id=gift_id).using_db(conn)
            .select_related("giver", "subscription__season").get()
        )  # fmt: skip
        season = gift.subscription.season
        return await queue_mail(
            user=gift.giver, key=f"gift-reminder:{gift.id}", now=now, conn=conn,
            render=_mail("gift_reminder", gift, season, links.to(card_path(gift.id))),
            cooperative_id=season.cooperative_id,
        )  # fmt: skip


async def return_unclaimed(*, today: date, now: datetime, links: Links) -> int:
    """A gift not claimed by its day (the first ship day after it was paid) falls back to
    its giver: the subscription is theirs, with the address they gave at checkout, and the
    sign reads their name again; they are told by mail. Decided by a conditional UPDATE, so
    a claim at the same moment or a second scheduler makes it happen once."""
    due = _unclaimed().filter(claim_by__lte=today)
    # each gift handled leaves the query: returned, claimed or ended
    return await _each(due, partial(_return, now=now, links=links))


async def _return(gift_id: int, *, now: datetime, links: Links) -> bool:
    async with in_transaction() as conn:
        gift = await Gift.filter(id=gift_id).using_db(conn).select_related("giver").get()
        sub = await Subscription.select_for_update().using_db(conn).get(id=gift.subscription_id)
        won = await (
            Gift.filter(id=gift_id, claimed_at__isnull=True, returned_at__isnull=True)
            .using_db(conn)
            .update(returned_at=now)
        )
        if not won or sub.status != Status.ACTIVE:
            return False
        address = {name: getattr(gift, name) for name in ADDRESS_FIELDS}
        await (
            Subscription.filter(id=sub.id)
            .using_db(conn)
            .update(**address, sign_name=gift.giver.name[: subscriptions.SIGN_NAME_MAX])
        )
        season = await Season.get(id=sub.season_id).using_db(conn)
        await queue_mail(
            user=gift.giver, key=f"gift-returned:{gift.id}", now=now, conn=conn,
            render=_mail("gift_returned", gift, season, links.subscription(sub.id)),
            cooperative_id=season.cooperative_id,
        )  # fmt: skip
        return True


# ---- mail ----

_SUBJECTS = {
    "gift_ready": lambda: _("Your gift of a plot is ready: print its card"),
    "gift_reminder": lambda: _("Your gift of a plot has not been claimed yet"),
    "gift_claimed": lambda: _("Your gift of a plot has been claimed"),
    "gift_returned": lambda: _("Your gift was not claimed: the plot is now yours"),
}


def _mail(kind: str, gift: Gift, season: Season, link: str):
    def render() -> Letter:
        return Letter(kind, _SUBJECTS[kind](), {
            "name": gift.recipient_name, "season": localized(season.name, season.name_en),
            "claim_by": gift.claim_by.isoformat() if gift.claim_by else "", "link": link,
        })  # fmt: skip

    return render
