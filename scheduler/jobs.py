"""The scheduled jobs. Each is one service call, safe to run twice or on two machines."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from farm.payments.gateway import Gateway
from farm.payments.services import refund_due_payments
from farm.subscriptions.services import release_lapsed_reservations

log = logging.getLogger("farm.scheduler")


@dataclass(frozen=True)
class Runtime:
    gateway: Gateway


async def release_lapsed(runtime: Runtime) -> int:
    released = await release_lapsed_reservations(now=datetime.now(UTC))
    if released:
        log.info("released %d lapsed reservation(s)", released)
    return released


async def retry_refunds(runtime: Runtime) -> int:
    made = await refund_due_payments(now=datetime.now(UTC), gateway=runtime.gateway)
    if made:
        log.info("made %d refund(s) that were due", made)
    return made


# (job, seconds between runs)
JOBS = [(release_lapsed, 60), (retry_refunds, 300)]
