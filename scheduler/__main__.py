"""python -m scheduler: run the scheduler process until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from farm import db
from farm.payments.gateway import StripeGateway
from farm.settings import Settings, load_settings
from scheduler.jobs import JOBS, Runtime

log = logging.getLogger("farm.scheduler")


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    await db.connect(settings)
    runtime = Runtime(gateway=StripeGateway(settings))
    scheduler = AsyncIOScheduler(timezone="UTC")  # memory job store
    for job, seconds in JOBS:
        scheduler.add_job(
            job,
            "interval",
            args=[runtime],
            seconds=seconds,
            id=job.__name__,
            max_instances=1,
            coalesce=True,
        )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    log.info("scheduler started with %d job(s)", len(JOBS))
    try:
        for job, _seconds in JOBS:  # catch up at once rather than after the first interval
            await job(runtime)
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await runtime.gateway.aclose()
        await db.close()
        log.info("scheduler stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("stripe", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run(load_settings()))


if __name__ == "__main__":
    main()
