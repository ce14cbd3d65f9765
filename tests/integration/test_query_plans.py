"""Every query of the customer's pages uses an index on PostgreSQL once the tables are large:
20,000 subscriptions with their plots, claims, payments, vouchers, boxes, harvest lots, work
entries and stays are copied in, ANALYZEd, and each statement the pages send is EXPLAINed with
its parameters. A Seq Scan of a table of more than 10,000 rows fails, naming the statement: so
dropping an index the pages rely on fails here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise import connections

from farm import web
from farm.accounts.services import hasher
from tests.support import NOW, SHIP_SEASON, count_queries, log_in_client

pytestmark = pytest.mark.postgres

N = 20_000
PLOTS_PER_FIELD = 500
LARGE = 10_000
EMAIL = "wang@example.com"  # user 1, holding subscription 1
DIVERTED_ON = date(2026, 11, 1)
SHIPPED_ON = date(2026, 11, 16)


def code(n: int) -> str:
    """A well-formed voucher code for voucher n (codes use no 0 or 1)."""
    return "V" + str(n).zfill(11).translate(str.maketrans("0123456789", "23456789AB"))


def _rows(password_hash: str) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    at = datetime(2026, 8, 20, tzinfo=UTC)
    fields = N // PLOTS_PER_FIELD
    starts, ends = SHIP_SEASON["starts_on"], SHIP_SEASON["ends_on"]

    def field_of(i: int) -> int:
        return (i - 1) // PLOTS_PER_FIELD + 1

    def day(i: int) -> date:  # spread over the season so far
        return starts + timedelta(days=i % 80)

    return {
        "cooperatives": (("id", "name", "name_en", "village", "province"),
                         [(1, "合作社", "Co-op", "村", "安徽")]),
        "fields": (("id", "name", "width_m", "height_m", "cooperative_id"),
                   [(f, f"田{f}", Decimal(250), Decimal(134), 1) for f in range(1, fields + 1)]),
        "plots": (("id", "code", "area_m2", "x_m", "y_m", "w_m", "h_m", "field_id"),
                  [(i, f"P{i}", Decimal("66.67"), Decimal(0), Decimal(0), Decimal(10),
                    Decimal("6.67"), field_of(i)) for i in range(1, N + 1)]),
        "seasons": (("id", "name", "name_en", "starts_on", "ends_on", "sale_starts_on",
                     "sale_ends_on", "ship_days_of_month", "cutoff_days", "cooperative_id"),
                    [(1, "季", "Season", starts, ends, SHIP_SEASON["sale_starts_on"],
                      SHIP_SEASON["sale_ends_on"], "1,16", 2, 1)]),
        "plans": (("id", "name", "name_en", "plot_area_m2", "care_mode", "crop_plan",
                   "crop_plan_en", "price_fen", "max_plots", "field_id", "season_id"),
                  [(f, "一分地", "1 fen", Decimal("66.67"), "self_tended", "水稻", "Rice", 58000,
                    PLOTS_PER_FIELD, f, 1) for f in range(1, fields + 1)]),
        "users": (("id", "email", "name", "phone", "password_hash", "role", "language",
                   "created_at", "cooperative_id"),
                  [(i, EMAIL if i == 1 else f"c{i}@example.com", f"用户{i}", "", password_hash,
                    "customer", "zh_CN", at, None) for i in range(1, N + 1)]
                  + [(N + 1, "m@example.com", "经理", "", "x", "manager", "zh_CN", at, 1)]),
        "subscriptions": (("id", "status", "price_fen", "sign_name", "reserved_at",
                           "activated_at", "cancel_reason", "refunded_fen", "recipient", "phone",
                           "province", "city", "address", "customer_id", "plan_id", "plot_id",
                           "season_id"),
                          [(i, "active", 58000, "王", at, at, "", 0, "王", "13800138000", "上海",
                            "上海市", "路 1 号", i, field_of(i), i, 1) for i in range(1, N + 1)]),
        "plot_claims": (("id", "expires_at", "plan_id", "plot_id", "season_id",
                         "subscription_id"),
                        [(i, None, field_of(i), i, 1, i) for i in range(1, N + 1)]),
        "payments": (("id", "intent_id", "client_secret", "amount_fen", "currency", "status",
                      "card_last4", "failure_message", "created_at", "paid_at", "refund_id",
                      "refunded_fen", "subscription_id"),
                     [(i, f"pi_{i}", "s", 58000, "cny", "succeeded", "4242", "", at, at, "", 0, i)
                      for i in range(1, N + 1)]),
        "crops": (("id", "name", "name_en", "shelf_life_days", "leafy", "cooperative_id"),
                  [(1, "青菜", "Greens", 3, True, 1)]),
        "harvest_lots": (("id", "code", "harvested_on", "weight_g", "created_at",
                          "cooperative_id", "crop_id", "field_id", "logged_by_id", "plot_id",
                          "settled_g"),
                         [(i, f"L{i:07d}", day(i), 1000, at, 1, 1, field_of(i), N + 1, i, 1000)
                          for i in range(1, N + 1)]
                         + [(N + f, f"F{f:07d}", day(f), 9000, at, 1, 1, f, N + 1, None, 0)
                            for f in range(1, fields + 1)]),
        "batches": (("id", "ship_on", "created_at", "completed_at", "cooperative_id"),
                    [(1, DIVERTED_ON, at, at, 1), (2, SHIPPED_ON, at, at, 1)]),
        "field_runs": (("id", "ship_on", "shipments", "done_at", "batch_id", "field_id"),
                       [(f + k * fields, d, PLOTS_PER_FIELD, at, k + 1, f)
                        for k, d in enumerate((DIVERTED_ON, SHIPPED_ON))
                        for f in range(1, fields + 1)]),
        "shipments": (("id", "ship_on", "status", "recipient", "phone", "province", "city",
                       "address", "transit_days", "courier", "tracking_no", "created_at",
                       "batch_id", "subscription_id"),
                      [(i, SHIPPED_ON, "shipped", "王", "13800138000", "上海", "上海市", "路",
                        2, "顺丰", f"SF{i}", at, 2, i) for i in range(1, N + 1)]),
        "lot_allocations": (("id", "grams", "state", "reason", "ship_on", "note", "decided_at",
                             "lot_id", "shipment_id", "subscription_id"),
                            [(i, 1000, "shipped", None, SHIPPED_ON, "", at, i, i, i)
                             for i in range(1, N + 1)]
                            + [(N + 1, 500, "diverted", "shelf_life", DIVERTED_ON, "", at, N + 1,
                                None, 1)]),
        "partners": (("id", "kind", "name", "address", "cooperative_id", "opening_hours",
                      "phone"), [(1, "guesthouse", "青山民宿", "村东", 1, "", "")]),
        "rooms": (("id", "name", "capacity", "active", "partner_id"),
                  [(1, "竹间", 2, True, 1), (2, "大通铺", 4, True, 1)]),
        "plan_perks": (("id", "kind", "count", "partner_id", "plan_id"),
                       [(f, "farm_stay_night", 2, None, f) for f in range(1, fields + 1)]),
        "vouchers": (("id", "seq", "kind", "code", "status", "valid_from", "valid_until",
                      "issued_at", "perk_id", "subscription_id"),
                     [(2 * i - 1 + k, 1 + k, "farm_stay_night", code(2 * i - 1 + k),
                       "issued", starts, ends, at, field_of(i), i)
                      for i in range(1, N + 1) for k in (0, 1)]),
        "bookings": (("id", "first_night", "nights", "guests", "status", "created_at",
                      "partner_id", "room_id", "subscription_id"),
                     [(i, date(2026, 12, 1) + timedelta(days=i % 200), 1, 2, "booked", at, 1,
                       1 + i % 2, i) for i in range(1, N + 1)]),
        "booking_nights": (("id", "night", "booking_id", "room_id", "voucher_id"),
                           [(1, date(2026, 12, 2), 1, 2, 2)]),
        "work_entries": (("id", "activity", "worked_on", "notes", "whole_field", "created_at",
                          "cooperative_id", "field_id", "logged_by_id"),
                         [(i, "weeding", day(i), "", i % 5 == 0, at, 1, field_of(i), N + 1)
                          for i in range(1, N + 1)]),
        "work_entry_plots": (("id", "entry_id", "plot_id"),
                             [(i, i, i) for i in range(1, N + 1) if i % 5]),
        "work_inputs": (("id", "name", "organic", "dose", "entry_id"),
                        [(i, "有机肥", True, "2 kg", i) for i in range(1, N + 1)]),
        "photos": (("id", "file_name", "width", "height", "entry_id"),
                   [(i, f"{i}.jpg", 800, 600, i) for i in range(1, N + 1)]),
    }  # fmt: skip


async def seed_large_tables() -> None:
    client = connections.get("default")
    rows = _rows(hasher.hash("correct horse"))
    async with client.acquire_connection() as pg:
        async with pg.transaction():
            for table, (columns, records) in rows.items():
                await pg.copy_records_to_table(table, records=records, columns=list(columns))
                await pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
            # Every plot of each plan is sold: its places, made by the plans' trigger, say so.
            await pg.execute("UPDATE plan_places SET held = cap")
        await pg.execute("ANALYZE")


def seq_scans(plan: dict, large: set[str]) -> list[str]:
    found = [plan["Relation Name"]] if plan.get("Node Type") == "Seq Scan" else []
    found = [t for t in found if t in large]
    for child in plan.get("Plans", []):
        found += seq_scans(child, large)
    return found


async def test_every_query_of_the_customer_pages_uses_an_index_on_large_tables(client, monkeypatch):
    await seed_large_tables()
    monkeypatch.setattr(web, "now", lambda: NOW)
    await log_in_client(client, EMAIL)
    voucher = code(1)
    statements: dict[str, tuple[list, str]] = {}
    for path in ("/account", "/account/subscriptions/1", "/account/subscriptions/1/deliveries",
                 "/account/subscriptions/1/vouchers", f"/account/vouchers/{voucher}",
                 "/account/subscriptions/1/plot", "/account/subscriptions/1/stays"):  # fmt: skip
        with count_queries() as queries:
            response = await client.get(path)
        assert response.status_code == 200, path
        for sql, params in queries.statements:
            statements.setdefault(sql, (params, path))
    page = (await client.get("/account/subscriptions/1/deliveries")).text
    assert "SF1" in page and "2026-11-01" in page  # the box and the diverted day are shown
    stays = (await client.get("/account/subscriptions/1/stays")).text
    assert "青山民宿" in stays

    async with connections.get("default").acquire_connection() as pg:
        large = {
            name
            for (name,) in await pg.fetch(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > $1 "
                "AND relnamespace = 'public'::regnamespace",
                LARGE,
            )
        }
        assert {"subscriptions", "harvest_lots", "payments", "bookings", "photos"} <= large
        problems = []
        for sql, (params, path) in statements.items():
            raw = await pg.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params)
            plan = json.loads(raw)[0]["Plan"]
            problems += [f"Seq Scan on {t} for {path}: {sql}" for t in seq_scans(plan, large)]
    assert len(statements) >= 20
    assert not problems, "\n".join(problems)


async def test_the_offer_of_a_season_on_sale_reads_no_paid_claim_however_many_are_sold(
    client, monkeypatch
):
    """The season here is still on sale with 20,000 paid claims: what is left to sell comes
    from each plan's places held and the index of unpaid ones, so the home and plan
    pages read no more claims when more plots are sold. (They count the plots on sale,
    which is the offer itself.)"""
    await seed_large_tables()
    monkeypatch.setattr(web, "now", lambda: NOW)
    statements: dict[str, tuple[list, str]] = {}
    for path in ("/", "/plans/1"):
        with count_queries() as queries:
            response = await client.get(path)
        assert response.status_code == 200, path
        for sql, params in queries.statements:
            statements.setdefault(sql, (params, path))
    assert "已售罄" in (await client.get("/plans/1")).text  # every plot of field 1 is sold
    async with connections.get("default").acquire_connection() as pg:
        problems = []
        for sql, (params, path) in statements.items():
            raw = await pg.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params)
            plan = json.loads(raw)[0]["Plan"]
            problems += [f"Seq Scan on {t} for {path}: {sql}"
                         for t in seq_scans(plan, {"plot_claims", "subscriptions"})]  # fmt: skip
    assert not problems, "\n".join(problems)
