"""A flash sale over HTTP: the real reservation route against the yardstick, in one run.

    .venv/bin/python bench/sale.py [--fields 4] [--requests 4000] [--connections 64]
                                   [--history 100000]

Seeds a temporary PostgreSQL database (127.0.0.1:5432, dropped afterwards) with a season on
sale today, `--fields` fields of 4,650 one-fen plots (one plan of 4,650 plots each),
`--history` completed subscriptions of earlier seasons (a service that has sold before: the
planner's statistics as Jutudi's would be), and a few thousand customers, each with a signed
session cookie minted with the app's secret (user id, password stamp, CSRF token: what a
login leaves in the session, without 8,000 argon2 logins).
Then serves the app with its production command (`farm web --workers 2`, FARM_ENV=production)
and drives it at `--connections` keep-alive connections, `--requests` reservations for each
way of picking ("reserve this plot", each buyer a different plot; "pick one for me"), each
buyer once. The yardstick (bench/yardstick.py: lock one free row, mark it held) is served the
same way by the same uvicorn with 2 workers and driven with the same requests.

Prints requests/s, p50 and p99 for both, the ratio, the load generator's own CPU share, and
checks the database: claims equal the successful answers, no plot twice, no plan over its
max_plots, each plan's places (farm/land/places.py) equal to its claims. Exits non-zero if a
check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from itsdangerous import TimestampSigner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._seed import COUNT_PLACES  # noqa: E402
from farm import db  # noqa: E402
from farm.accounts import sessions  # noqa: E402
from farm.settings import Settings  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
PLOTS_PER_FIELD = 4650  # 465 mu cut into one-fen plots
COLUMNS = 75  # 75 x 62 plots of 10 m x 6.67 m
PLOT_AREA = Decimal("66.67")
PASSWORD_HASH = "x-bench-password-hash"  # nobody logs in: the buyers' sessions are seeded
WARMUP = 256


@dataclass
class Result:
    name: str
    answered: int = 0
    ok: int = 0
    conflicts: int = 0
    other: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    generator_cpu: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU: the server's processes (its workers)
    database_cpu: float = 0.0  # seconds of CPU: PostgreSQL's backends serving this database

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


# --- seeding -----------------------------------------------------------------------------


# Earlier seasons' families: Jutudi had about 9,000 subscribers a season.
HISTORY_FAMILIES = 9000

# Earlier seasons (ids from 2, a year apart, all over), each with a plan per field and a
# completed subscription with its paid claim on every plot, until `$1` subscriptions: a sale
# opens on a service that has sold before, with its tables (and the planner's statistics)
# that size. $2: the buyers (their ids come first), $3: fields, $4: plots per field, $5:
# today.
HISTORY = f"""
WITH past AS (
    SELECT n, (n - 1) / ($3::int * $4::int) + 2 AS season_id,
           ((n - 1) % ($3::int * $4::int)) + 1 AS plot_id
    FROM generate_series(1, $1::int) n
), seasons_made AS (
    INSERT INTO seasons (id, name, name_en, starts_on, ends_on, sale_starts_on, sale_ends_on,
                         ship_days_of_month, cutoff_days, ship_day_moves, cooperative_id)
    SELECT k, '往季' || k, 'Past season ' || k, $5::date - 365 * k, $5::date - 365 * (k - 1) - 30,
           $5::date - 365 * k - 60, $5::date - 365 * k, '1,16', 2, '', 1
    FROM generate_series(2, (SELECT max(season_id) FROM past)) k
    RETURNING id
), plans_made AS (
    INSERT INTO plans (id, name, name_en, plot_area_m2, care_mode, crop_plan, crop_plan_en,
                       price_fen, max_plots, field_id, season_id)
    SELECT 1000 * s.id + f, '一分地', '1 fen', 66.67, 'managed', '', '', 58000, $4, f, s.id
    FROM seasons_made s, generate_series(1, $3) f
    RETURNING id
), subs AS (
    INSERT INTO subscriptions (id, customer_id, season_id, plan_id, plot_id, status, price_fen,
                               sign_name, reserved_at, activated_at, cancel_reason,
                               refunded_fen, recipient, phone, province, city, address)
    SELECT 1000000 + p.n, $2 + 1 + p.n % {HISTORY_FAMILIES}, p.season_id,
           1000 * p.season_id + (p.plot_id - 1) / $4 + 1, p.plot_id, 'completed', 58000, '往户',
           now() - interval '1 year', now() - interval '1 year', '', 0, '往户', '13800138000',
           '安徽', '合肥', '人民路 1 号'
    FROM past p
    WHERE EXISTS (SELECT 1 FROM plans_made)
    RETURNING id, customer_id, season_id, plan_id, plot_id
)
INSERT INTO plot_claims (season_id, plot_id, plan_id, customer_id, subscription_id, expires_at)
SELECT season_id, plot_id, plan_id, customer_id, id, NULL FROM subs
"""  # noqa: S608  (constants only)


async def seed(
    dsn: str, *, fields: int, customers: int, today: date, history: int = 0
) -> list[list[int]]:
    """Bulk rows in one transaction; returns each plan's plot ids (plan ids are 1..fields).
    With `history`, that many completed subscriptions of earlier seasons (HISTORY), of
    HISTORY_FAMILIES families more."""
    plots = []
    by_plan: list[list[int]] = []
    for f in range(1, fields + 1):
        ids = []
        for i in range(PLOTS_PER_FIELD):
            plot_id = (f - 1) * PLOTS_PER_FIELD + i + 1
            x, y = Decimal(10 * (i % COLUMNS)), Decimal("6.67") * (i // COLUMNS)
            plots.append((plot_id, f"{chr(64 + f)}{i + 1:04d}", PLOT_AREA, x, y, Decimal(10),
                          Decimal("6.67"), f))  # fmt: skip
            ids.append(plot_id)
        by_plan.append(ids)
    created = datetime.now(UTC)
    users = customers + (HISTORY_FAMILIES if history else 0)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            rows = {
                "cooperatives": (("id", "name", "name_en", "village", "province"),
                                 [(1, "聚土地合作社", "Sale cooperative", "压测村", "安徽")]),
                "fields": (("id", "name", "width_m", "height_m", "cooperative_id"),
                           [(f, f"田{f}", Decimal(10 * COLUMNS),
                             Decimal("6.67") * (PLOTS_PER_FIELD // COLUMNS), 1)
                            for f in range(1, fields + 1)]),
                "plots": (("id", "code", "area_m2", "x_m", "y_m", "w_m", "h_m", "field_id"),
                          plots),
                "seasons": (("id", "name", "name_en", "starts_on", "ends_on", "sale_starts_on",
                             "sale_ends_on", "ship_days_of_month", "cutoff_days",
                             "cooperative_id"),
                            [(1, "抢购季", "Flash sale season", today + timedelta(days=30),
                              today + timedelta(days=395), today - timedelta(days=1),
                              today + timedelta(days=30), "1,16", 2, 1)]),
                "plans": (("id", "name", "name_en", "plot_area_m2", "care_mode", "crop_plan",
                           "crop_plan_en", "price_fen", "max_plots", "field_id", "season_id"),
                          [(f, f"一分地 {f}", f"1 fen {f}", PLOT_AREA, "managed", "", "", 58000,
                            PLOTS_PER_FIELD, f, 1) for f in range(1, fields + 1)]),
                "users": (("id", "email", "name", "phone", "password_hash", "role", "language",
                           "created_at", "email_confirmed_at"),
                          [(u, f"b{u}@sale.bench", f"买家{u}", "", PASSWORD_HASH,
                            "customer", "zh_CN", created, created)
                           for u in range(1, users + 1)]),
                "sessions": (("id", "token_hash", "user_id", "created_at", "last_seen_at",
                              "expires_at", "user_agent"),
                             [(u, sessions.token_hash(session_token(u)), u, created, created,
                               created + timedelta(days=1), "bench")
                              for u in range(1, customers + 1)]),
            }  # fmt: skip
            for table, (columns, records) in rows.items():
                await conn.copy_records_to_table(table, records=records, columns=list(columns))
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
            if history:
                await conn.execute(HISTORY, history, customers, fields, PLOTS_PER_FIELD, today)
                # Their plans' places count their claims (before migration 0042, the
                # plans' own counter: this bench also measures the code before it).
                if await conn.fetchval("SELECT to_regclass('plan_places') IS NOT NULL"):
                    await conn.execute(COUNT_PLACES)
                else:
                    await conn.execute(
                        "UPDATE plans p SET held = (SELECT count(*) FROM plot_claims c "
                        "WHERE c.plan_id = p.id)"
                    )
                for table in ("seasons", "plans"):  # the sale's new rows come after these
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f'(SELECT max(id) FROM "{table}"))'
                    )
            # The yardstick's own table: the same plots and plans.
            await conn.execute(YARD_SCHEMA)
            await conn.copy_records_to_table(
                "yard_plots",
                records=[(p[0], p[7], None) for p in plots],
                columns=["id", "plan_id", "buyer"],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return by_plan


def session_token(user_id: int) -> str:
    """The seeded session of this buyer (farm.accounts.sessions keeps only its hash)."""
    return f"bench-session-{user_id:08d}-{'x' * 24}"


def session_cookie(secret: str, user_id: int) -> str:
    """What Starlette's SessionMiddleware would have set after this user logged in: the
    server-side session's token and nothing else."""
    data = {"sid": session_token(user_id)}
    payload = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(secret).sign(payload).decode()


# --- load generator ------------------------------------------------------------------------


def build_request(port: int, plan_id: int, plot: str, buyer: int, cookie: str, csrf: str) -> bytes:
    body = f"csrf_token={csrf}&plot_id={plot}".encode()
    head = (
        f"POST /plans/{plan_id}/reserve HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: farm_session={cookie}\r\nX-Buyer: {buyer}\r\n"
        # each family from its own address (the proxy's header), as reservations per address
        # are limited (FARM_RESERVATIONS_PER_ADDRESS)
        f"X-Forwarded-For: 10.{buyer >> 16 & 255}.{buyer >> 8 & 255}.{buyer & 255}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Origin: http://127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


async def drive(name: str, port: int, requests: list[bytes], connections: int) -> Result:
    """Send every request once over `connections` keep-alive connections; time each."""
    result = Result(name)
    queue = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for raw in queue:
                started = time.perf_counter()
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                match = _LENGTH.search(head)
                if match:
                    await reader.readexactly(int(match.group(1)))
                result.latencies.append(time.perf_counter() - started)
                status = int(head[9:12])
                result.answered += 1
                if status == 303:
                    result.ok += 1
                elif status == 409:
                    result.conflicts += 1
                else:
                    result.other[status] = result.other.get(status, 0) + 1
                if b"connection: close" in head.lower():
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    result.generator_cpu = used / result.seconds
    return result


# --- CPU per request, from /proc ----------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_tree(root: int) -> list[int]:
    """The process and its descendants (uvicorn's workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (0 for any that is gone, or off Linux)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


async def backends_of(dsn: str, database: str) -> list[int]:
    """The PostgreSQL server processes connected to this database (the server's pools, once
    warm), other than the asking connection."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


# --- servers -------------------------------------------------------------------------------


async def wait_ready(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} exited ({proc.returncode})")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            if head[9:12] in (b"200", b"404", b"405"):
                return
        except OSError:
            pass
        await asyncio.sleep(0.3)
    raise SystemExit(f"the server on port {port} did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- checks --------------------------------------------------------------------------------


async def check_farm(dsn: str, successes: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        claims = await conn.fetchval("SELECT count(*) FROM plot_claims WHERE season_id = 1")
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT plot_id FROM plot_claims WHERE season_id = 1 "
            "GROUP BY plot_id HAVING count(*) > 1) t"
        )
        over = await conn.fetchval(
            "SELECT count(*) FROM plans p WHERE p.max_plots < "
            "(SELECT count(*) FROM plot_claims c WHERE c.plan_id = p.id)"
        )
        miscounted = 0
        if await conn.fetchval("SELECT to_regclass('plan_places') IS NOT NULL"):  # since 0042
            miscounted = await conn.fetchval(  # each plan's places count its claims
                "SELECT count(*) FROM plans p WHERE (SELECT sum(held) FROM plan_places s "
                "WHERE s.plan_id = p.id) <> (SELECT count(*) FROM plot_claims c "
                "WHERE c.plan_id = p.id)"
            )
        unpaid = await conn.fetchval(
            "SELECT count(*) FROM (SELECT customer_id FROM subscriptions WHERE season_id = 1 "
            "AND status = 'pending_payment' GROUP BY customer_id HAVING count(*) > 1) t"
        )
    finally:
        await conn.close()
    problems = []
    if claims != successes:
        problems.append(f"{claims} claims but {successes} successful answers")
    if twice:
        problems.append(f"{twice} plots held twice")
    if over:
        problems.append(f"{over} plans over max_plots")
    if miscounted:
        problems.append(f"{miscounted} plans whose places do not count their claims")
    if unpaid:
        problems.append(f"{unpaid} customers with two unpaid reservations")
    print(f"  database: {claims} claims = {successes} answered 303; plots twice: {twice}; "
          f"plans over max_plots: {over}; places miscounted: {miscounted}; "
          f"customers with 2 unpaid: {unpaid}")  # fmt: skip
    return problems


async def check_yardstick(dsn: str, successes: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        held = await conn.fetchval("SELECT count(*) FROM yard_plots WHERE buyer IS NOT NULL")
    finally:
        await conn.close()
    print(f"  database: {held} yard plots held = {successes} answered 303")
    return [] if held == successes else [f"yardstick: {held} held but {successes} answered"]


# --- the run -------------------------------------------------------------------------------


YARD_SCHEMA = """
CREATE TABLE yard_plots (id INT PRIMARY KEY, plan_id INT NOT NULL, buyer INT);
CREATE INDEX yard_plots_free ON yard_plots (plan_id, id) WHERE buyer IS NULL;
"""


def workload(
    by_plan: list[list[int]], port: int, secret: str, n: int, picks: int, *, first_buyer: int
) -> dict[str, list[bytes]]:
    """Warm-up, "reserve this plot" and "pick one for me", each buyer in exactly one request.
    Chosen plots are spread over every plan, each buyer a different plot."""
    plans = len(by_plan)
    buyer = first_buyer
    phases: dict[str, list[bytes]] = {}
    for phase, count in (("warm-up", WARMUP), ("chosen", n), ("pick", picks)):
        reqs = []
        for j in range(count):
            csrf = sessions.csrf_secret(session_token(buyer), secret=secret)
            cookie = session_cookie(secret, buyer)
            plan = j % plans
            # Warm-up holds plots from the start of each field, "chosen" from the end: no
            # buyer of either ever wants a plot someone else holds.
            if phase == "pick":
                plot = "auto"
            else:
                plot = str(by_plan[plan][j // plans if phase == "warm-up" else -1 - j // plans])
            reqs.append(build_request(port, plan + 1, plot, buyer, cookie, csrf))
            buyer += 1
        phases[phase] = reqs
    return phases


def report(pairs: list[tuple[str, Result, Result]], connections: int) -> None:
    print()
    print(f"{'':26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'303':>7}{'409':>6}{'other':>7}"
          f"{'gen CPU':>9}")  # fmt: skip
    for label, real, yard in pairs:
        for r in (real, yard):
            other = sum(r.other.values())
            print(f"{label + ' ' + r.name:26}{r.rate:8.0f}{r.percentile(0.5):9.1f}"
                  f"{r.percentile(0.99):9.1f}{r.ok:7}{r.conflicts:6}{other:7}"
                  f"{r.generator_cpu:8.0%}")  # fmt: skip
        ratio = real.rate / yard.rate if yard.rate else 0.0
        print(f"{label:26}ratio {ratio:.2f}x of the yardstick, at {connections} connections")
    print("\nCPU per request (ms; /proc: the server's processes, PostgreSQL's backends of the "
          "database, the load generator)")  # fmt: skip
    for label, real, yard in pairs:
        for r in (real, yard):
            n = max(r.answered, 1)
            generator = r.generator_cpu * r.seconds
            print(f"{label + ' ' + r.name:26}app {r.server_cpu / n * 1000:5.2f}  "
                  f"PostgreSQL {r.database_cpu / n * 1000:5.2f}  "
                  f"generator {generator / n * 1000:5.2f}")  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    name = f"sale_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{PG}/{name}"
    secret = secrets.token_urlsafe(48)
    procs: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await db.migrate(Settings(database_url=dsn.replace("postgresql", "postgres"),
                                      data_dir=Path(tmp)))  # fmt: skip
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
            picks = args.pick_requests or args.requests
            customers = WARMUP + args.requests + picks
            t0 = time.perf_counter()
            by_plan = await seed(
                dsn, fields=args.fields, customers=customers, today=today, history=args.history
            )
            print(f"seeded {args.fields} fields x {PLOTS_PER_FIELD} plots, {customers} customers "
                  f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
            env = {
                **os.environ,
                "FARM_ENV": "production",
                "FARM_DATABASE_URL": dsn.replace("postgresql", "postgres"),
                "FARM_SECRET_KEY": secret,
                "FARM_BASE_URL": f"http://127.0.0.1:{args.port}",
                "FARM_DATA_DIR": tmp,
                # Production refuses keys that ship in the repository: random ones of the
                # right shape (Stripe itself is never called by a reservation).
                "FARM_STRIPE_SECRET_KEY": f"sk_test_{secrets.token_urlsafe(32)}",
                "FARM_STRIPE_PUBLISHABLE_KEY": f"pk_test_{secrets.token_urlsafe(32)}",
                "FARM_STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_urlsafe(32)}",
                "FARM_STRIPE_API_BASE": "http://127.0.0.1:9",  # never called by a reservation
                "FARM_SMTP_HOST": "127.0.0.1",
                "FARM_DB_POOL_SIZE": str(args.pool),
                "YARDSTICK_DATABASE_URL": dsn,
                "YARDSTICK_POOL_SIZE": str(args.pool),
            }
            bin_dir = Path(sys.executable).parent
            farm_requests = workload(
                by_plan, args.port, secret, args.requests, picks, first_buyer=1
            )
            yard_requests = workload(
                by_plan, args.port + 1, secret, args.requests, picks, first_buyer=1
            )
            results: dict[str, dict[str, Result]] = {"farm": {}, "yardstick": {}}
            problems: list[str] = []
            servers = {
                "farm": [str(bin_dir / "farm"), "web", "--workers", "2", "--port", str(args.port)],
                "yardstick": [str(bin_dir / "uvicorn"), "bench.yardstick:app", "--workers", "2",
                              "--port", str(args.port + 1), "--no-access-log",
                              "--log-level", "warning"],
            }  # fmt: skip
            for server, command in servers.items():
                port = args.port if server == "farm" else args.port + 1
                log = open(Path(tmp) / f"{server}.log", "wb")  # noqa: SIM115, ASYNC230
                proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: ASYNC220
                procs.append(proc)
                await wait_ready(port, proc)
                requests = farm_requests if server == "farm" else yard_requests
                successes = 0
                for phase, reqs in requests.items():
                    servers_pids = process_tree(proc.pid)
                    backends = await backends_of(dsn, name) if phase != "warm-up" else []
                    before = cpu_seconds(servers_pids), cpu_seconds(backends)
                    result = await drive(server, port, reqs, args.connections)
                    result.server_cpu = cpu_seconds(servers_pids) - before[0]
                    result.database_cpu = cpu_seconds(backends) - before[1]
                    successes += result.ok
                    results[server][phase] = result
                stop(proc)
                procs.remove(proc)
                log.close()
                errors = (Path(tmp) / f"{server}.log").read_text(errors="replace")
                if "Traceback" in errors:
                    print(errors[-3000:])
                print(f"{server}:")
                if server == "farm":
                    problems += await check_farm(dsn, successes)
                else:
                    problems += await check_yardstick(dsn, successes)
            print(
                f"\n{args.fields} fields x {PLOTS_PER_FIELD} plots, {args.requests}/{picks} "
                f"buyers (chosen/pick), {args.connections} connections, 2 workers each"
            )
            report(
                [
                    ("reserve this plot", results["farm"]["chosen"],
                     results["yardstick"]["chosen"]),
                    ("pick one for me", results["farm"]["pick"], results["yardstick"]["pick"]),
                ],
                args.connections,
            )  # fmt: skip
            for phase in ("chosen", "pick"):
                other = results["farm"][phase].other
                if other:
                    problems.append(f"farm {phase}: unexpected answers {other}")
            if problems:
                print("FAILED: " + "; ".join(problems))
                return 1
            return 0
    finally:
        for proc in procs:
            stop(proc)
        if not args.keep:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--fields", type=int, default=4)
    parser.add_argument("--requests", type=int, default=4000, help="buyers per way of picking")
    parser.add_argument(
        "--pick-requests", type=int, default=0, help="buyers for 'pick one for me' (--requests)"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--history", type=int, default=100_000,
        help="completed subscriptions of earlier seasons already in the database",
    )  # fmt: skip
    parser.add_argument("--pool", type=int, default=16, help="database connections per worker")
    parser.add_argument("--port", type=int, default=8100, help="the app; the yardstick on +1")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
