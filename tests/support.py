"""Helpers shared by the tests: databases, the Stripe emulator, a live server, factories."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from starlette.datastructures import Secret
from tortoise import connections

from farm.land import places
from farm.land.models import CareMode, Cooperative, Field, Plan, Plot, Season
from farm.settings import DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, DEV_WEBHOOK_SECRET, Settings

PG_ADMIN_URL = os.environ.get("FARM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


def backend() -> str:
    return os.environ.get("FARM_TEST_DB", "sqlite")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_reachable() -> bool:
    async def ping() -> bool:
        try:
            conn = await asyncpg.connect(
                PG_ADMIN_URL.replace("postgres://", "postgresql://"), timeout=3
            )
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(ping())


@dataclass
class TestDatabase:
    url: str
    name: str = ""

    def create(self) -> None:
        if self.url.startswith("postgres"):
            asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        if self.url.startswith("postgres"):
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def new_database(tmp: Path) -> TestDatabase:
    if backend() == "postgres":
        name = f"farm_test_{uuid.uuid4().hex[:12]}"
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return TestDatabase(url=f"{base}/{name}?maxsize=30", name=name)
    return TestDatabase(url=f"sqlite://{tmp / 'test.sqlite3'}")


async def wipe(settings: Settings) -> None:
    """Empty every table between tests (faster than a new database each time)."""
    from tortoise import Tortoise, connections

    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["farm"].values()]
    if settings.db_url.startswith("postgres"):
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys = OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys = ON;"
        )


def test_settings(*, data_dir: Path, db_url: str, stripe_port: int) -> Settings:
    base = f"http://127.0.0.1:{stripe_port}"
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=db_url,
        secret_key=Secret("t" * 40),
        # Each test is its own Stripe account: Stripe scopes idempotency keys to the account,
        # and a test database restarts its ids, which would replay another test's requests.
        stripe_secret_key=Secret(f"{DEV_SECRET_KEY}_{secrets.token_hex(6)}"),
        stripe_publishable_key=DEV_PUBLISHABLE_KEY,
        stripe_webhook_secret=Secret(DEV_WEBHOOK_SECRET),
        stripe_api_base=base,
        stripe_js_url=f"{base}/js.stripe.com/v3/",
        # The emulator cannot deliver webhooks to an app served in the test's process: each
        # poll asks it (tests of the interval set their own).
        stripe_poll_seconds=0,
    )


def settings_environ(settings: Settings) -> dict[str, str]:
    """The same settings as FARM_* variables, for a server in a child process."""
    return {
        "FARM_ENV": settings.environment,
        "FARM_DATA_DIR": str(settings.data_dir),
        "FARM_DATABASE_URL": settings.database_url,
        "FARM_SECRET_KEY": str(settings.secret_key),
        "FARM_STRIPE_SECRET_KEY": str(settings.stripe_secret_key),
        "FARM_STRIPE_PUBLISHABLE_KEY": settings.stripe_publishable_key,
        "FARM_STRIPE_WEBHOOK_SECRET": str(settings.stripe_webhook_secret),
        "FARM_STRIPE_API_BASE": settings.stripe_api_base,
        "FARM_STRIPE_JS_URL": settings.stripe_js_url,
        "FARM_STRIPE_POLL_SECONDS": str(settings.stripe_poll_seconds),
        "FARM_REQUIRE_EMAIL_CONFIRMATION": ""
        if settings.require_email_confirmation is None
        else str(settings.require_email_confirmation).lower(),
        "FARM_RESERVATIONS_PER_ADDRESS": str(settings.reservations_per_address),
        "FARM_RELAPSE_MINUTES": str(settings.relapse_minutes),
    }


class LiveServer:
    """`farm web` in a child process, on a free port."""

    def __init__(self, settings: Settings, *, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **settings_environ(settings), "PYTHONWARNINGS": "ignore"}
        env["FARM_BASE_URL"] = self.url  # Stripe sends customers back here (return_url)
        # Every worker opens its own pool: share 40 connections among them, so the
        # server and the test's own pool stay under PostgreSQL's max_connections (100).
        per_worker = str(max(2, 40 // workers))
        env["FARM_DATABASE_URL"] = re.sub(
            r"maxsize=\d+", f"maxsize={per_worker}", env["FARM_DATABASE_URL"]
        )
        env["FARM_DB_POOL_SIZE"] = per_worker
        command = [sys.executable, "-m", "farm.cli", "web", "--port", str(self.port)]
        self.proc = subprocess.Popen([*command, "--workers", str(workers)], env=env)
        deadline = time.monotonic() + 90  # workers start slowly on a busy machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the live server exited")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the live server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---- factories: plain async functions ----

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


async def make_season(
    *,
    plots: int = 4,
    price_fen: int = 58000,
    max_plots: int | None = None,
    starts_on: date = date(2027, 3, 1),
    ends_on: date = date(2028, 3, 1),
    sale_starts_on: date = date(2026, 11, 1),
    sale_ends_on: date = date(2027, 3, 1),
    cutoff_days: int = 2,
) -> Plan:
    coop = await Cooperative.create(name="测试合作社", name_en="Test cooperative")
    field = await Field.create(cooperative=coop, name="试验田", width_m=10 * plots, height_m=10)
    for i in range(plots):
        await Plot.create(
            field=field, code=f"T{i + 1:02d}", area_m2=Decimal("66.67"),
            x_m=10 * i, y_m=0, w_m=10, h_m="6.667",
        )  # fmt: skip
    season = await Season.create(
        cooperative=coop,
        name="测试季",
        name_en="Test season",
        starts_on=starts_on,
        ends_on=ends_on,
        sale_starts_on=sale_starts_on,
        sale_ends_on=sale_ends_on,
        cutoff_days=cutoff_days,
    )
    return await Plan.create(
        season=season,
        field=field,
        name="一分地",
        name_en="One fen",
        plot_area_m2=Decimal("66.67"),
        care_mode=CareMode.MANAGED,
        price_fen=price_fen,
        max_plots=max_plots if max_plots is not None else plots,
    )


async def make_customer(email: str = "wang@example.com", name: str = "王小明"):
    from farm.accounts.services import sign_up

    return await sign_up(email=email, name=name, password="correct horse", language="zh_CN")


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_of(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    found = CSRF_RE.search(response.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def log_in_client(client: httpx.AsyncClient, email: str, password: str = "correct horse"):
    token = await csrf_of(client)
    response = await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return await csrf_of(client, "/")  # logging in starts a new session, with a new token


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


ADDRESS = {
    "recipient": "王小明",
    "phone": "13800138000",
    "province": "上海",
    "city": "上海市",
    "address": "浦东新区世纪大道 100 号",
}


async def card_id(stripe_port: int, number: str = "4242424242424242") -> str:
    """What Stripe.js does in the browser: turn a card into a token (here, at the emulator)."""
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"http://127.0.0.1:{stripe_port}/v1/tokens",
            data={
                "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
                "card[cvc]": "123", "key": DEV_PUBLISHABLE_KEY,
            },
        )  # fmt: skip
    r.raise_for_status()
    return r.json()["card"]["id"]


async def confirm_card_at_stripe(gateway, intent_id: str, stripe_port: int,
                                 number: str = "4242424242424242"):  # fmt: skip
    """Confirm an intent with a card straight at Stripe, as the checkout does."""
    from farm.payments.gateway import new_idempotency_key
    from tests.emulator_support import payment_method

    return await gateway.confirm(
        intent_id=intent_id, method="card", payment_method=payment_method(stripe_port, number),
        return_url=f"{gateway.base_url}/checkout/0/return", idempotency_key=new_idempotency_key(),
    )  # fmt: skip


def signed_event(payload: dict, secret: str = DEV_WEBHOOK_SECRET, timestamp: int | None = None):
    """A webhook body and its Stripe-Signature header, as Stripe signs them."""
    import hashlib
    import hmac
    import json

    body = json.dumps(payload).encode()
    ts = timestamp if timestamp is not None else int(time.time())
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={ts},v1={sig}"


# ---- ship days: active subscriptions and harvests ----

SHIP_SEASON = {  # a season running since September: ship days 1 and 16 of each month
    "starts_on": date(2026, 9, 1),
    "ends_on": date(2027, 9, 1),
    "sale_starts_on": date(2026, 8, 1),
    "sale_ends_on": date(2027, 3, 1),
}


async def make_active_subscription(
    plan: Plan,
    plot: Plot,
    *,
    customer=None,
    province: str = "上海",
    activated_at: datetime = datetime(2026, 8, 20, tzinfo=UTC),
):
    """A paid subscription holding its plot, with a delivery address."""
    from farm.land.models import PlotClaim
    from farm.subscriptions.models import Status, Subscription

    if customer is None:  # no password hashing: these customers never log in
        from farm.accounts.models import User

        customer = await User.create(
            email=f"c{plot.id}-{uuid.uuid4().hex[:6]}@example.com", name="王小明",
            password_hash="x",
        )  # fmt: skip
    sub = await Subscription.create(
        customer=customer, season_id=plan.season_id, plan=plan, plot=plot, status=Status.ACTIVE,
        price_fen=plan.price_fen, sign_name=customer.name, reserved_at=activated_at,
        activated_at=activated_at, recipient=customer.name, phone="13800138000",
        province=province, city="市区", address="人民路 1 号",
    )  # fmt: skip
    await PlotClaim.create(
        season_id=plan.season_id, plot=plot, plan=plan, subscription=sub, customer=customer
    )
    await count_places(plan)
    return sub


async def count_places(plan: Plan) -> None:
    """Claims written by hand: the plan's places (farm/land/places.py) count them, as the sale
    keeps them."""
    await places.recount(connections.get("default"), plan.id)


async def places_held(plan: Plan) -> int:
    """The claims the plan's places count."""
    return (await places.held(connections.get("default"), [plan.id]))[plan.id]


async def make_crop(cooperative_id: int, name: str = "大米", *, shelf_life_days: int = 180,
                    leafy: bool = False):  # fmt: skip
    from farm.fieldwork.models import Crop

    return await Crop.create(
        cooperative_id=cooperative_id, name=name, name_en=name, shelf_life_days=shelf_life_days,
        leafy=leafy,
    )  # fmt: skip


async def make_lot(crop, *, field_id: int, plot_id: int | None, grams: int, harvested_on: date):
    from farm.accounts.models import Role, User
    from farm.fieldwork.models import HarvestLot

    manager = await User.filter(role=Role.MANAGER, cooperative_id=crop.cooperative_id).first()
    if manager is None:
        manager = await User.create(
            email=f"m{crop.cooperative_id}-{uuid.uuid4().hex[:6]}@example.com", name="经理",
            password_hash="x", role=Role.MANAGER, cooperative_id=crop.cooperative_id,
        )  # fmt: skip
    return await HarvestLot.create(
        cooperative_id=crop.cooperative_id, code=uuid.uuid4().hex[:8].upper(), crop=crop,
        field_id=field_id, plot_id=plot_id, harvested_on=harvested_on, weight_g=grams,
        logged_by=manager, created_at=NOW,
    )  # fmt: skip


async def accounting_problems() -> list[str]:
    """Every gram of every lot in exactly one place: the lot's allocations sum to its settled
    grams, never more than the lot, and each shipped allocation is in a shipment of its own
    subscription on its own ship day. Empty when all holds."""
    from farm.fieldwork.models import HarvestLot
    from farm.shipments.models import Allocation, AllocationState, Shipment

    problems = []
    sums: dict[int, int] = {}
    for lot_id, grams in await Allocation.all().values_list("lot_id", "grams"):
        if grams <= 0:
            problems.append(f"lot {lot_id}: allocation of {grams} g")
        sums[lot_id] = sums.get(lot_id, 0) + grams
    for lot in await HarvestLot.all():
        if sums.get(lot.id, 0) != lot.settled_g or lot.settled_g > lot.weight_g:
            problems.append(
                f"lot {lot.id}: {lot.weight_g} g, settled {lot.settled_g}, "
                f"allocated {sums.get(lot.id, 0)}"
            )
    shipments = {s.id: s for s in await Shipment.all()}
    for a in await Allocation.all():
        if (a.state == AllocationState.SHIPPED) != (a.shipment_id is not None):
            problems.append(f"allocation {a.id}: {a.state} with shipment {a.shipment_id}")
        if a.shipment_id is not None:
            s = shipments[a.shipment_id]
            if s.subscription_id != a.subscription_id or s.ship_on != a.ship_on:
                problems.append(f"allocation {a.id} in someone else's box")
        if a.state == AllocationState.DIVERTED and a.reason is None:
            problems.append(f"allocation {a.id}: diverted without a reason")
    return problems


# ---- counting the SQL a piece of code sends ----

_EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_many",
    "execute_script",
)


@dataclass
class QueryLog:
    """The SQL statements sent while a `count_queries()` block ran, with their parameters."""

    statements: list[tuple[str, list]]

    @property
    def count(self) -> int:
        return len(self.statements)


def _client_classes():
    from tortoise.backends.base.client import BaseDBAsyncClient

    seen, todo = [], [BaseDBAsyncClient]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


@contextlib.contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Record every SQL statement sent through tortoise's clients (pooled connections and
    transactions, every engine) while the block runs: `with count_queries() as q: ...;
    q.count`. A statement is counted once, however the client's methods call each other."""
    import contextvars
    import functools

    log = QueryLog(statements=[])
    inside = contextvars.ContextVar("inside_execute", default=False)

    def recording(original):
        @functools.wraps(original)
        async def execute(self, query, *args, **kwargs):
            if inside.get():
                return await original(self, query, *args, **kwargs)
            values = args[0] if args else kwargs.get("values")
            log.statements.append((query, list(values) if values else []))
            token = inside.set(True)
            try:
                return await original(self, query, *args, **kwargs)
            finally:
                inside.reset(token)

        return execute

    patched = []
    for cls in _client_classes():
        for name in _EXECUTE_METHODS:
            if name in vars(cls):
                original = vars(cls)[name]
                patched.append((cls, name, original))
                setattr(cls, name, recording(original))
    try:
        yield log
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)
