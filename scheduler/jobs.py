"""The scheduled jobs. Each is one service call, safe to run twice or on two machines, and
each takes the day it runs for, so `farm scheduler run-due --today` can replay any day."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from farm.lifecycle.completion import expire_vouchers as expire_ended_vouchers
from farm.mail import Mailer, make_mailer
from farm.notifications.services import deliver_pending
from farm.payments.gateway import Gateway, StripeGateway
from farm.payments.services import refund_due_payments
from farm.settings import Settings
from farm.shipments.batches import make_due_batches
from farm.shipments.closing import close_ended_seasons
from farm.shipments.documents import Paper, make_due_documents
from farm.subscriptions.services import release_lapsed_reservations
from farm.vouchers.services import issue_missing_vouchers

log = logging.getLogger("farm.scheduler")


@dataclass(frozen=True)
class Runtime:
    gateway: Gateway
    mailer: Mailer
    base_url: str = ""  # the public address, for links in mail
    paper: Paper | None = None  # where and how packing lists and labels are made
    document_workers: int = 1  # processes drawing them


def make_runtime(settings: Settings) -> Runtime:
    """What the jobs need, from the settings: the one way the scheduler and the CLI build it."""
    paper = Paper(
        data_dir=settings.data_dir,
        secret=str(settings.secret_key),
        base_url=settings.base_url,
        language=settings.default_language,
        timezone=settings.timezone,
    )
    return Runtime(
        gateway=StripeGateway(settings),
        mailer=make_mailer(settings),
        base_url=settings.base_url,
        paper=paper,
        document_workers=os.cpu_count() or 1,  # drawing is CPU work: one process a core
    )


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
    issued = await issue_missing_vouchers(today=today, now=now, base_url=runtime.base_url)
    if issued:
        log.info("issued %d missing voucher(s)", issued)
    return issued


async def expire_vouchers(runtime: Runtime, *, today: date, now: datetime) -> int:
    expired = await expire_ended_vouchers(today=today, now=now)
    if expired:
        log.info("expired %d voucher(s)", expired)
    return expired


async def send_mail(runtime: Runtime, *, today: date, now: datetime) -> int:
    return await deliver_pending(mailer=runtime.mailer, now=now)


Job = Callable[..., Awaitable[int]]

# (job, seconds between runs), in the order run-due runs them: ship days before seasons
# close, and mail last so it carries what the others queued.
JOBS: list[tuple[Job, int]] = [
    (release_lapsed, 60),
    (retry_refunds, 300),
    (make_ship_days, 600),
    (make_documents, 60),
    (close_seasons, 3600),
    (issue_vouchers, 600),
    (expire_vouchers, 3600),
    (send_mail, 30),
]


async def run_due(runtime: Runtime, *, today: date, now: datetime) -> dict[str, int]:
    """Run every job once for a day: what `farm scheduler run-due` and the scheduler's
    start-up catch-up do."""
    return {job.__name__: await job(runtime, today=today, now=now) for job, _s in JOBS}
