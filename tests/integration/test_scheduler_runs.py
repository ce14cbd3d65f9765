"""The scheduler as operators run it (`farm scheduler run-due`): twice for a day, after a gap,
four at once, and killed in the middle of a batch. Each time: exactly one shipment per
subscription and ship day, and every gram accounted for."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from farm.cli import EX_TEMPFAIL
from farm.land.models import Field, Plan, Plot, Season
from farm.shipments.models import Batch, DocumentPart, DocumentStatus, FieldRun, Shipment
from farm.sql import try_advisory_lock
from tests.support import (
    SHIP_SEASON,
    accounting_problems,
    make_active_subscription,
    make_crop,
    make_lot,
    make_season,
    settings_environ,
)

SHIP_DAYS_TO_NOV_23 = [date(2026, m, d) for m in (9, 10, 11) for d in (1, 16)]


async def many_fields(*, fields: int, plots: int) -> tuple[Season, list]:
    """One season over several fields, every plot subscribed, lots on plots and fields."""
    first = await make_season(plots=plots, **SHIP_SEASON)
    season = await Season.get(id=first.season_id)
    rice = await make_crop(season.cooperative_id, shelf_life_days=180)
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    plans = [first]
    for n in range(1, fields):
        field = await Field.create(cooperative_id=season.cooperative_id, name=f"田{n}",
                                   width_m=10 * plots, height_m=10)  # fmt: skip
        for i in range(plots):
            await Plot.create(field=field, code=f"F{n}-{i:02d}", area_m2=Decimal("66.67"),
                              x_m=10 * i, y_m=0, w_m=10, h_m="6.667")  # fmt: skip
        plans.append(await Plan.create(
            season=season, field=field, name=f"计划{n}", plot_area_m2=Decimal("66.67"),
            care_mode=first.care_mode, price_fen=58000, max_plots=plots,
        ))  # fmt: skip
    subs = []
    for plan in plans:
        for plot in await Plot.filter(field_id=plan.field_id).order_by("code"):
            subs.append(await make_active_subscription(plan, plot))
            for day in (date(2026, 10, 20), date(2026, 11, 14)):
                await make_lot(rice, field_id=plan.field_id, plot_id=plot.id, grams=2345,
                               harvested_on=day)  # fmt: skip
                await make_lot(greens, field_id=plan.field_id, plot_id=plot.id, grams=678,
                               harvested_on=day)  # fmt: skip
        await make_lot(rice, field_id=plan.field_id, plot_id=None, grams=10_007,
                       harvested_on=date(2026, 11, 3))  # fmt: skip
    return season, subs


async def run_due(settings, today: date) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "farm.cli", "scheduler", "run-due", "--today", today.isoformat(),
        env={**os.environ, **settings_environ(settings)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def finished(proc: asyncio.subprocess.Process, *, allowed: tuple[int, ...] = (0,)) -> str:
    output = (await proc.communicate())[0].decode()
    assert proc.returncode in allowed, output
    return output


async def assert_one_box_per_subscription_and_day(subs, days) -> None:
    boxes = await Shipment.all().values_list("subscription_id", "ship_on")
    assert len(boxes) == len(set(boxes)), "a subscription got two boxes on one ship day"
    assert set(boxes) == {(s.id, d) for s in subs for d in days}
    assert await accounting_problems() == []


async def test_run_due_twice_for_the_same_day_changes_nothing_the_second_time(conn, settings):
    _season, subs = await many_fields(fields=2, plots=3)
    output = await finished(await run_due(settings, date(2026, 11, 23)))
    assert "make_ship_days: 36" in output  # 6 subscriptions x 6 ship days
    snapshot = sorted(await Shipment.all().values_list("id", "subscription_id", "ship_on"))
    output = await finished(await run_due(settings, date(2026, 11, 23)))
    assert "make_ship_days: 0" in output
    assert sorted(await Shipment.all().values_list("id", "subscription_id", "ship_on")) == snapshot
    await assert_one_box_per_subscription_and_day(subs, SHIP_DAYS_TO_NOV_23)


async def test_run_due_after_a_gap_of_three_ship_days_makes_each_missed_day(conn, settings):
    _season, subs = await many_fields(fields=2, plots=3)
    await finished(await run_due(settings, date(2026, 10, 2)))
    assert {d for (d,) in await Batch.all().values_list("ship_on")} == set(SHIP_DAYS_TO_NOV_23[:3])
    # Down over 16 Oct, 1 Nov and 16 Nov.
    await finished(await run_due(settings, date(2026, 11, 23)))
    await assert_one_box_per_subscription_and_day(subs, SHIP_DAYS_TO_NOV_23)
    assert await Batch.filter(completed_at__isnull=True).count() == 0


@pytest.mark.postgres
async def test_four_schedulers_at_once_make_each_box_exactly_once(conn, settings):
    _season, subs = await many_fields(fields=6, plots=5)
    procs = [await run_due(settings, date(2026, 11, 23)) for _ in range(4)]
    # One that found a field held by another may end before that one is done: "try again".
    outputs = await asyncio.gather(*(finished(p, allowed=(0, EX_TEMPFAIL)) for p in procs))
    made = sum(int(line.split(": ")[1]) for out in outputs for line in out.splitlines()
               if line.startswith("make_ship_days: "))  # fmt: skip
    assert made == len(subs) * 6  # shared out between them, never made twice
    await assert_one_box_per_subscription_and_day(subs, SHIP_DAYS_TO_NOV_23)
    assert await FieldRun.all().count() == 6 * 6


@pytest.mark.postgres
async def test_run_due_exits_75_while_a_field_of_the_day_is_held_and_0_once_it_is_done(
    conn, settings
):
    season, subs = await many_fields(fields=2, plots=3)
    field_id = (await Plan.filter(season_id=season.id).order_by("id").first()).field_id
    day = date(2026, 9, 1)
    async with in_transaction() as held:  # another scheduler, running that field right now
        assert await try_advisory_lock(held, "ship", day, field_id)
        proc = await run_due(settings, day)
        output = await finished(proc, allowed=(EX_TEMPFAIL,))
    assert "incomplete: 1 ship day batch(es) not complete: 2026-09-01" in output
    assert await Batch.filter(ship_on=day, completed_at__isnull=True).exists()
    await finished(await run_due(settings, day))
    assert await Batch.filter(ship_on=day, completed_at__isnull=True).count() == 0
    assert len(subs) == 6


@pytest.mark.postgres
async def test_a_scheduler_killed_in_the_middle_of_a_batch_loses_and_duplicates_nothing(
    conn, settings
):
    _season, subs = await many_fields(fields=12, plots=8)
    total = 12 * 6
    proc = await run_due(settings, date(2026, 11, 23))
    done = 0
    for _ in range(2000):
        done = await FieldRun.all().count()
        if done >= 3:
            break
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.communicate()
    done = await FieldRun.all().count()
    assert 0 < done < total, f"the kill should land mid-run, it landed after {done} of {total}"
    # What was committed is whole: the finished fields' boxes, and their lots settled.
    assert await accounting_problems() == []
    assert await Batch.filter(completed_at__isnull=True).exists()
    await finished(await run_due(settings, date(2026, 11, 23)))
    await assert_one_box_per_subscription_and_day(subs, SHIP_DAYS_TO_NOV_23)
    assert await FieldRun.all().count() == total


async def test_run_due_refuses_a_day_after_today_unless_forced(conn, settings):
    proc = await run_due(settings, date.today() + timedelta(days=30))
    output = (await proc.communicate())[0].decode()
    assert proc.returncode != 0 and "--force" in output
    assert not await Batch.exists()


# ---- the documents job: packing lists and labels ----


def job_total(outputs: list[str], job: str) -> int:
    return sum(int(line.split(": ")[1]) for out in outputs for line in out.splitlines()
               if line.startswith(f"{job}: "))  # fmt: skip


def document_files(settings) -> list[str]:
    folder = settings.data_dir / "documents"
    return sorted(p.name for p in folder.rglob("*.pdf")) if folder.exists() else []


async def test_run_due_twice_makes_each_document_part_once(conn, settings):
    await many_fields(fields=2, plots=3)
    first = await finished(await run_due(settings, date(2026, 11, 23)))
    # The ship days of the last month (1 and 16 November): per field a packing list and
    # labels, and each batch's summary.
    parts = await DocumentPart.all()
    assert len(parts) == 2 * (2 * 2 + 1) and job_total([first], "make_documents") == len(parts)
    assert all(p.status == DocumentStatus.DONE for p in parts)
    assert len(document_files(settings)) == len(parts)
    second = await finished(await run_due(settings, date(2026, 11, 23)))
    assert job_total([second], "make_documents") == 0
    assert await DocumentPart.all().values_list("id", "file", "done_at") == [
        (p.id, p.file, p.done_at) for p in parts
    ]


@pytest.mark.postgres
async def test_two_schedulers_at_once_never_make_the_same_document_part_twice(conn, settings):
    await many_fields(fields=6, plots=5)
    procs = [await run_due(settings, date(2026, 11, 23)) for _ in range(2)]
    outputs = await asyncio.gather(*(finished(p) for p in procs))
    parts = await DocumentPart.all()
    assert len(parts) == 2 * (6 * 2 + 1)
    assert all(p.status == DocumentStatus.DONE for p in parts)
    assert job_total(outputs, "make_documents") == len(parts)  # shared, never made twice
    assert len(document_files(settings)) == len(parts)  # no file of a part made twice


@pytest.mark.postgres
async def test_a_scheduler_killed_while_making_documents_leaves_only_unfinished_parts(
    conn, settings
):
    from farm.shipments.documents import LEASE, Paper, make_due_documents
    from farm.storage import LocalStorage

    await many_fields(fields=12, plots=8)
    await finished(await run_due(settings, date(2026, 11, 16)))  # the batches, and paper
    await DocumentPart.all().delete()  # start the paper again, and kill it on the way
    proc = await run_due(settings, date(2026, 11, 23))
    for _ in range(4000):
        if await DocumentPart.filter(status=DocumentStatus.DONE).count() >= 3:
            break
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.communicate()
    total = await DocumentPart.all().count()
    done = {p.id: (p.file, p.done_at) for p in await DocumentPart.filter(status="done")}
    assert 0 < len(done) < total, f"the kill should land mid-way, after {len(done)} of {total}"
    paper = Paper(storage=LocalStorage(settings.data_dir), secret=str(settings.secret_key),
                  base_url=settings.base_url, language="zh_CN", timezone="Asia/Shanghai")  # fmt: skip
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)  # the dead one's leases ran out
    rerun = await make_due_documents(paper=paper, today=date(2026, 11, 23), now=later)
    assert rerun.made == total - len(done)  # only what was unfinished
    assert await DocumentPart.filter(status=DocumentStatus.DONE).count() == total
    for part_id, (file, done_at) in done.items():
        part = await DocumentPart.get(id=part_id)
        assert (part.file, part.done_at) == (file, done_at)
