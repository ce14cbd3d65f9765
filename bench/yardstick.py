"""The yardstick for bench/sale.py: the least a reservation can cost, as a minimal Starlette +
asyncpg app doing the essential work of the real route and nothing else (no session, no CSRF,
no templates, no rules): lock one free plot row and mark it held.

    YARDSTICK_DATABASE_URL=postgresql://... uvicorn bench.yardstick:app --workers 2

bench/sale.py seeds its table (`yard_plots`) and serves it with the same uvicorn as the real
app. POST /plans/{plan_id}/reserve with `plot_id=<id>` holds that plot, `plot_id=auto` picks a
free one; 303 when held, 409 when not.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

POOL_SIZE = int(os.environ.get("YARDSTICK_POOL_SIZE", "16"))

SCHEMA = """
CREATE TABLE IF NOT EXISTS yard_plots (
    id INT PRIMARY KEY,
    plan_id INT NOT NULL,
    buyer INT
);
CREATE INDEX IF NOT EXISTS yard_plots_free ON yard_plots (plan_id, id) WHERE buyer IS NULL;
"""

HOLD_CHOSEN = "UPDATE yard_plots SET buyer = $3 WHERE id = $2 AND plan_id = $1 AND buyer IS NULL"
HOLD_ANY = """
UPDATE yard_plots SET buyer = $2 WHERE id = (
    SELECT id FROM yard_plots WHERE plan_id = $1 AND buyer IS NULL
    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING id
"""


async def reserve(request: Request) -> Response:
    plan_id = int(request.path_params["plan_id"])
    form = parse_qs((await request.body()).decode())
    plot = form.get("plot_id", ["auto"])[0]
    buyer = int(request.headers.get("x-buyer", "0"))
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        if plot == "auto":
            held = await conn.fetchval(HOLD_ANY, plan_id, buyer)
        else:
            status = await conn.execute(HOLD_CHOSEN, plan_id, int(plot), buyer)
            held = int(plot) if status == "UPDATE 1" else None
    if held is None:
        return PlainTextResponse("taken", status_code=409)
    return RedirectResponse(f"/checkout/{held}", status_code=303)


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Like the app's pool (farm.db.PooledConnection): no reset query on release."""


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["YARDSTICK_DATABASE_URL"], min_size=1, max_size=POOL_SIZE, reset=_no_reset
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[Route("/plans/{plan_id}/reserve", reserve, methods=["POST"])], lifespan=lifespan
)
