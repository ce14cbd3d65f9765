"""python -m scheduler: run the scheduler process until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from farm import db
from farm.bootstrap import Runtime, bootstrap
from farm.settings import Settings, load_settings
from scheduler.jobs import JOBS, Job, run_due

log = logging.getLogger("farm.scheduler")


async def _tick(job: Job, runtime: Runtime) -> None:
    now = runtime.clock.now()
    try:
        await job(runtime, today=runtime.clock.today(now), now=now)
    except Exception:  # one failing run must not stop the process; the next run retries
        log.exception("job %s failed", job.__name__)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    await db.connect(settings)
    runtime = bootstrap(settings)
    scheduler = AsyncIOScheduler(timezone="UTC")  # memory job store: the database is the truth
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        # Catch up first: whatever ship days, vouchers or closings were missed while down.
        now = runtime.clock.now()
        await run_due(runtime, today=runtime.clock.today(now), now=now)
        for job, seconds in JOBS:
            scheduler.add_job(
                _tick,
                "interval",
                args=[job, runtime],
                seconds=seconds,
                id=job.__name__,
                max_instances=1,
                coalesce=True,
            )
        scheduler.start()
        log.info("scheduler started with %d job(s)", len(JOBS))
        await stop.wait()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await runtime.aclose()
        await db.close()
        log.info("scheduler stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("stripe", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run(load_settings()))


if __name__ == "__main__":
    main()
