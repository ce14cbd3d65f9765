"""The `farm` command for operators: migrate, load the demo, create staff accounts, run the
web server, run the scheduler, or all of it at once for development (`farm dev`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
from datetime import date

from farm import db
from farm.settings import (
    DEV_PUBLISHABLE_KEY,
    DEV_SECRET_KEY,
    DEV_WEBHOOK_SECRET,
    Settings,
    SettingsError,
    load_settings,
)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        sys.exit(f"farm: {exc}")


async def _with_db(settings: Settings, coro_fn):
    await db.connect(settings)
    try:
        return await coro_fn()
    finally:
        await db.close()


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings()
    asyncio.run(db.migrate(settings))
    print("migrations applied")


def cmd_demo(args: argparse.Namespace) -> None:
    from farm.bootstrap import Clock
    from farm.demo import load_demo
    from farm.fieldwork.photos import PhotoStore
    from farm.storage import storage_for

    settings = _settings()
    today = Clock(settings).today()
    store = PhotoStore(storage_for(settings))
    coop = asyncio.run(
        _with_db(
            settings,
            lambda: load_demo(today=today, with_accounts=settings.is_development, store=store),
        )
    )
    print("demo loaded" if coop else "the database already has a cooperative: demo skipped")


def cmd_create_user(args: argparse.Namespace) -> None:
    from farm.accounts.models import Role
    from farm.accounts.services import sign_up
    from farm.errors import DomainError, FieldErrors
    from farm.land.models import Cooperative
    from farm.partners.models import Partner

    settings = _settings()
    password = args.password or os.environ.get("FARM_NEW_USER_PASSWORD") or getpass.getpass()

    async def create():
        if args.role == "manager" and not await Cooperative.exists(id=args.cooperative or 0):
            raise DomainError(f"no cooperative with id {args.cooperative}")
        if args.role == "partner_staff" and not await Partner.exists(id=args.partner or 0):
            raise DomainError(f"no partner with id {args.partner}")
        return await sign_up(
            email=args.email,
            name=args.name,
            password=password,
            language=args.language,
            role=Role(args.role),
            cooperative_id=args.cooperative,
            partner_id=args.partner,
        )

    try:
        user = asyncio.run(_with_db(settings, create))
    except FieldErrors as exc:
        sys.exit("farm: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
    except DomainError as exc:
        sys.exit(f"farm: {exc.message}")
    print(f"created {user.role} {user.email} (id {user.id})")


def _uvicorn(host: str, port: int, workers: int = 1, *, access_log: bool = True) -> None:
    import uvicorn

    uvicorn.run(
        "farm.main:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=access_log,
    )


def _check_pool_budget(settings: Settings, workers: int) -> None:
    """Warn, before serving, when the workers' pools together exceed PostgreSQL's limit."""
    url = settings.pooled_db_url
    if not url.startswith(("postgres://", "postgresql://")):
        return
    try:
        limit, reserved = asyncio.run(db.server_connection_limits(url))
    except Exception as exc:  # unreachable now: uvicorn's own start will say so
        print(f"farm: could not read PostgreSQL's connection limit: {exc!r}", file=sys.stderr)
        return
    problem = db.pool_budget_problem(workers, db.pool_size_of(url), limit, reserved)
    if problem:
        print(f"farm: warning: {problem}", file=sys.stderr)


def _serve_links_on(host: str, port: int) -> None:
    """In development, unless FARM_BASE_URL says otherwise, mailed links and QR codes (the
    scheduler's too: it inherits the variable) point at the port actually served."""
    if os.environ.get("FARM_ENV") in ("development", "test"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - read, not bound
        os.environ.setdefault("FARM_BASE_URL", f"http://{shown}:{port}")


def cmd_web(args: argparse.Namespace) -> None:
    _serve_links_on(args.host, args.port)
    settings = _settings()  # fail fast on bad settings
    _check_pool_budget(settings, args.workers)
    _uvicorn(args.host, args.port, args.workers, access_log=settings.access_log)


def cmd_scheduler(args: argparse.Namespace) -> None:
    from scheduler.__main__ import main as scheduler_main

    _settings()
    scheduler_main()


# run-due's exit status when a ship day's batch is still incomplete after the run (a field
# held by another scheduler at that moment): sysexits' "temporary failure, try again".
EX_TEMPFAIL = 75


def cmd_run_due(args: argparse.Namespace) -> None:
    """Run every job once for the given day: backfills, operators and tests. Exits with
    EX_TEMPFAIL when a batch due by that day is still not complete."""
    from farm.bootstrap import Clock, bootstrap
    from farm.shipments.batches import due_batches
    from scheduler.jobs import run_due

    settings = _settings()
    local_today = Clock(settings).today()
    if args.today > local_today and not args.force:
        sys.exit(
            f"--today {args.today} is after today ({local_today}): that would make future ship "
            "days, close their holds, and end seasons early. Add --force if that is meant."
        )

    async def go():
        runtime = bootstrap(settings)
        try:
            done = await run_due(runtime, today=args.today, now=runtime.clock.now())
            return done, await due_batches(today=args.today)
        finally:
            await runtime.aclose()

    done, left = asyncio.run(_with_db(settings, go))
    for name, count in done.items():
        print(f"{name}: {count}")
    if left:  # another scheduler is running one of its fields: not done, try again later
        days = ", ".join(f"{b.ship_on} (cooperative {b.cooperative_id})" for b in left)
        print(f"incomplete: {len(left)} ship day batch(es) not complete: {days}", file=sys.stderr)
        sys.exit(EX_TEMPFAIL)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_dev(args: argparse.Namespace) -> None:
    """Everything a newcomer needs, on 127.0.0.1: migrations, the demo, the Stripe emulator
    (when no Stripe key is set), the scheduler and the web server."""
    from farm.payments import emulator

    os.environ.setdefault("FARM_ENV", "development")
    _serve_links_on("127.0.0.1", args.port)
    settings = _settings()
    children: list[subprocess.Popen[bytes]] = []
    # A SIGTERM at any moment, even while the emulator starts, becomes SystemExit and reaches
    # the `finally` below, which stops the children started so far (uvicorn, too, re-raises
    # the SIGTERM it stopped on once it is done).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not str(settings.stripe_secret_key):
            port = args.stripe_port
            children.append(emulator.start_process(port))
            base = f"http://127.0.0.1:{port}"
            os.environ.update(
                FARM_STRIPE_SECRET_KEY=DEV_SECRET_KEY,
                FARM_STRIPE_PUBLISHABLE_KEY=DEV_PUBLISHABLE_KEY,
                FARM_STRIPE_WEBHOOK_SECRET=DEV_WEBHOOK_SECRET,
                FARM_STRIPE_API_BASE=base,
                FARM_STRIPE_JS_URL=f"{base}/js.stripe.com/v3/",
            )
            emulator.register_webhook(
                port=port,
                url=f"http://127.0.0.1:{args.port}/stripe/webhook",
                secret=DEV_WEBHOOK_SECRET,
            )
            print(f"Stripe emulator (localstripe) on {base}; test card 4242 4242 4242 4242")
        asyncio.run(db.migrate(settings))
        cmd_demo(args)
        children.append(subprocess.Popen([sys.executable, "-m", "scheduler"]))
        print(f"Open http://127.0.0.1:{args.port}  (mail outbox: /dev/outbox)")
        _uvicorn("127.0.0.1", args.port)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="farm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo cooperative if the database is empty").set_defaults(
        func=cmd_demo
    )

    user = sub.add_parser("create-user", help="create a manager, partner-staff or admin account")
    user.add_argument(
        "--role", required=True, choices=["manager", "partner_staff", "admin", "customer"]
    )
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--password", help="default: $FARM_NEW_USER_PASSWORD, else asked")
    user.add_argument("--cooperative", type=int, help="the manager's cooperative id")
    user.add_argument("--partner", type=int, help="the partner-staff member's partner id")
    user.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    user.set_defaults(func=cmd_create_user)

    web = sub.add_parser("web", help="run the web server")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--workers", type=int, default=1)
    web.set_defaults(func=cmd_web)

    sched = sub.add_parser("scheduler", help="run the scheduler process, or one day's jobs")
    sched.set_defaults(func=cmd_scheduler)
    sched_sub = sched.add_subparsers(dest="scheduler_command")
    sched_sub.add_parser("run", help="run the scheduler process (the default)").set_defaults(
        func=cmd_scheduler
    )
    due = sched_sub.add_parser("run-due", help="run every job due up to a day, once, and exit")
    due.add_argument("--today", type=_day, required=True, metavar="YYYY-MM-DD")
    due.add_argument("--force", action="store_true", help="allow a day after today")
    due.set_defaults(func=cmd_run_due)

    dev = sub.add_parser("dev", help="development: migrate, demo, emulator, scheduler, web")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--stripe-port", type=int, default=8420)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("stripe", "httpx", "apscheduler"):  # a line per call or run drowns the log
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
