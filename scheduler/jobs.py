"""The scheduled jobs. Each is one service call, safe to run twice or on two machines, and
each takes the day it runs for, so `farm scheduler run-due --today` can replay any day, and
the runtime farm.bootstrap built (gateway, mailer, base URL, paper)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from farm.accounts import counters, limits, sessions
from farm.bootstrap import Runtime
from farm.cropplans import choosing as crop_choosing
from farm.gifts import services as gifts
from farm.lifecycle.completion import expire_vouchers as expire_ended_vouchers
from farm.mail import sender_domain
from farm.notifications.services import deliver_pending
from farm.payments.services import refund_due_payments
from farm.renewals import services as renewals
from farm.seasons import ship_days
from farm.shipments.batches import make_due_batches
from farm.shipments.closing import close_ended_seasons
from farm.shipments.documents import make_due_documents
from farm.subscriptions.services import release_lapsed_reservations
from farm.vouchers.services import issue_missing_vouchers

log = logging.getLogger("farm.scheduler")


async def release_lapsed(runtime: Runtime, *, today: date, now: datetime) -> int:
    released = await release_lapsed_reservations(now=now)
    if released:
        log.info("released %d lapsed reservation(s)", released)
    return released


async def retry_refunds(runtime: Runtime, *, today: date, now: datetime) -> int:
    made = await refund_due_payments(now=now, gateway=runtime.gateway)
    if made:
        log.info("made %d refund(s) that were due", made)
    return made


async def return_unclaimed_gifts(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Gifts not claimed by their first ship day become their givers' (before its boxes)."""
    returned = await gifts.return_unclaimed(today=today, now=now, links=runtime.links)
    if returned:
        log.info("%d unclaimed gift(s) went back to their givers", returned)
    return returned


async def remind_gift_givers(runtime: Runtime, *, today: date, now: datetime) -> int:
    reminded = await gifts.remind_givers(today=today, now=now, links=runtime.links)
    if reminded:
        log.info("reminded %d giver(s) of an unclaimed gift", reminded)
    return reminded


async def make_ship_days(runtime: Runtime, *, today: date, now: datetime) -> int:
    results = await make_due_batches(today=today, now=now)
    for r in results:
        log.info(
            "ship day %s, cooperative %d: %d shipment(s), %d field(s) run, %d busy%s",
            r.ship_on, r.cooperative_id, r.shipments, r.fields_run, r.fields_busy,
            ", complete" if r.completed else "",
        )  # fmt: skip
    return sum(r.shipments for r in results)


async def make_documents(runtime: Runtime, *, today: date, now: datetime) -> int:
    if runtime.paper is None:
        return 0
    made = await make_due_documents(
        paper=runtime.paper, today=today, now=now, workers=runtime.document_workers
    )
    if made.made:
        log.info("made %d document part(s), %d planned", made.made, made.planned)
    return made.made


async def close_seasons(runtime: Runtime, *, today: date, now: datetime) -> int:
    closed = await close_ended_seasons(today=today, now=now)
    if closed.completed or closed.unclaimed_g:
        log.info(
            "closed seasons: %d subscription(s) completed, %d g unclaimed",
            closed.completed, closed.unclaimed_g,
        )  # fmt: skip
    return closed.completed


async def issue_vouchers(runtime: Runtime, *, today: date, now: datetime) -> int:
    issued = await issue_missing_vouchers(today=today, now=now, links=runtime.links)
    if issued:
        log.info("issued %d missing voucher(s)", issued)
    return issued


async def expire_vouchers(runtime: Runtime, *, today: date, now: datetime) -> int:
    expired = await expire_ended_vouchers(today=today, now=now)
    if expired:
        log.info("expired %d voucher(s)", expired)
    return expired


async def tell_ship_day_changes(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Mail the subscribers of ship days skipped or moved since the last run."""
    queued = await ship_days.tell_ship_day_changes(links=runtime.links, now=now)
    if queued:
        log.info("queued %d mail(s) about changed ship days", queued)
    return queued


async def open_renewals(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Hold their plots for the families of seasons whose renewal window opened, and mail
    them; in a window's last days, remind those who have not renewed yet."""
    opened = await renewals.open_renewals(
        today=today, now=now, timezone=runtime.settings.timezone, links=runtime.links
    )
    reminded = await renewals.remind_renewals(today=today, now=now, links=runtime.links)
    if opened or reminded:
        log.info("renewals: %d opened, %d reminded", opened, reminded)
    return opened + reminded


async def settle_crop_plans(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Before a crop calendar's cut-off, remind the families who have not chosen (once each);
    from the cut-off on, give those without a plan the cooperative's default plan."""
    reminded = await crop_choosing.remind_choosers(today=today, now=now, links=runtime.links)
    given = await crop_choosing.give_default_plans(today=today, now=now, links=runtime.links)
    if reminded or given:
        log.info("crop plans: %d reminded, %d default plan(s) given", reminded, given)
    return reminded + given


async def send_mail(runtime: Runtime, *, today: date, now: datetime) -> int:
    return await deliver_pending(
        mailer=runtime.mailer, now=now, domain=sender_domain(runtime.settings)
    )


async def purge_attempts(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Old attempts at the limits and counts of past windows, and sessions that expired or
    ended."""
    purged = await limits.purge(now=now) + await sessions.purge(now=now)
    return purged + await counters.purge(now=now, older_than=timedelta(hours=2))


Job = Callable[..., Awaitable[int]]

# (job, seconds between runs), in the order run-due runs them: ship days before seasons
# close, and mail last so it carries what the others queued.
JOBS: list[tuple[Job, int]] = [
    (release_lapsed, 60),
    (retry_refunds, 300),
    (return_unclaimed_gifts, 600),  # before the ship day's boxes: a returned gift gets one
    (remind_gift_givers, 3600),
    (make_ship_days, 600),
    (make_documents, 60),
    (close_seasons, 3600),
    (issue_vouchers, 600),
    (expire_vouchers, 3600),
    (tell_ship_day_changes, 60),
    (open_renewals, 300),
    (settle_crop_plans, 3600),
    (send_mail, 30),
    (purge_attempts, 3600),
]


async def run_due(runtime: Runtime, *, today: date, now: datetime) -> dict[str, int]:
    """Run every job once for a day: what `farm scheduler run-due` and the scheduler's
    start-up catch-up do."""
    return {job.__name__: await job(runtime, today=today, now=now) for job, _s in JOBS}
