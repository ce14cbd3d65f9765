"""The scheduled jobs. Each is one service call, safe to run twice or on two machines."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from farm.subscriptions.services import release_lapsed_reservations

log = logging.getLogger("farm.scheduler")


async def release_lapsed() -> int:
    released = await release_lapsed_reservations(now=datetime.now(UTC))
    if released:
        log.info("released %d lapsed reservation(s)", released)
    return released


# (job function, seconds between runs)
JOBS = [(release_lapsed, 60)]
