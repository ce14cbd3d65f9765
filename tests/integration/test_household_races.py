"""Two managers saving one household's land at the same moment: the household's row is locked
(read FOR UPDATE, then written) before its land is read, so the second edit reads the first's
and corrects it, instead of both ending the same transfer and starting two of one field on one
day. Two households taking the last free area of a field at the same moment, or one taking it
while the field is made smaller: the field's row is locked before its land is counted, so the
second counts the first's. On PostgreSQL (SQLite serialises writers, so it proves less there)."""

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from farm.errors import FieldErrors
from farm.fieldwork import services
from farm.fieldwork.models import Household, LandTransfer
from farm.fieldwork.services import in_force_on, save_household
from farm.land import console
from farm.land.console import FieldInput
from farm.land.models import Field
from farm.units import plain_number
from tests.integration.test_ledger import household_form, land_of, transfers_of
from tests.integration.test_reports import a_farm, manager_of

pytestmark = pytest.mark.postgres


async def test_two_managers_changing_one_households_land_at_once_leave_one_history(
    app, monkeypatch
):
    change_land = services._change_land

    async def slowly(*args, **kwargs):  # both edits read the land before either writes
        await asyncio.sleep(0.3)
        return await change_land(*args, **kwargs)

    monkeypatch.setattr(services, "_change_land", slowly)
    farm = await a_farm()
    household = await land_of(farm, "300")
    first = await manager_of(farm.coop)
    second = await manager_of(farm.coop, "zhang@coop.cn")
    today = date(2026, 9, 1)
    results = await asyncio.gather(
        *(
            save_household(
                manager=manager,
                household_id=household.id,
                today=today,
                data=household_form(farm, {farm.field.id: area}),
            )  # fmt: skip
            for manager, area in ((first, "100"), (second, "200"))
        ),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    history = await transfers_of(household)
    assert history[0] == (farm.field.id, "300.00", date(2025, 1, 1), today)
    assert len(history) == 2 and history[1][1] in ("100.00", "200.00")
    assert history[1][2:] == (today, None)
    assert await LandTransfer.filter(household=household, ends_on=None).count() == 1


async def test_two_households_saving_a_fields_last_free_area_at_once_never_over_fill_it(
    app, monkeypatch
):
    change_land = services._change_land

    async def slowly(*args, **kwargs):  # both counted the field before either writes
        await asyncio.sleep(0.3)
        return await change_land(*args, **kwargs)

    monkeypatch.setattr(services, "_change_land", slowly)
    farm = await a_farm()
    size = Decimal(farm.field.width_m) * Decimal(farm.field.height_m)
    await land_of(farm, str(size - 100))  # 100 m² left
    manager = await manager_of(farm.coop)
    households = [
        await Household.create(cooperative=farm.coop, name=name, rent_fen_per_mu_year=90000)
        for name in ("张家", "李家")
    ]
    today = date(2026, 9, 1)
    results = await asyncio.gather(
        *(
            save_household(
                manager=manager,
                household_id=h.id,
                today=today,
                data=household_form(farm, {farm.field.id: "100"}),
            )  # fmt: skip
            for h in households
        ),
        return_exceptions=True,
    )
    saved = [r for r in results if isinstance(r, Household)]
    refused = [r for r in results if isinstance(r, FieldErrors)]
    assert len(saved) == 1 and len(refused) == 1, results
    said = refused[0].errors[f"land_{farm.field.id}"]  # the capacity error, in Chinese
    assert f"其他农户已流转 {plain_number(size)} 平方米：最多还剩 0 平方米" in said
    held = await LandTransfer.filter(in_force_on(today), field_id=farm.field.id).values_list(
        "area_m2", flat=True
    )
    assert sum(Decimal(a) for a in held) == size


async def test_a_field_resized_while_a_household_takes_its_last_area_is_never_over_filled(
    app, monkeypatch
):
    change_land = services._change_land

    async def slowly(*args, **kwargs):  # the household's land counted, not yet written
        await asyncio.sleep(0.3)
        return await change_land(*args, **kwargs)

    async def check_then_wait(conn, **kwargs):  # the resize counted, not yet written
        problem = await services.field_resize_problem(conn, **kwargs)
        await asyncio.sleep(0.3)
        return problem

    monkeypatch.setattr(services, "_change_land", slowly)
    farm = await a_farm()  # 试验田: 40 m × 10 m, its plots 6.667 m deep
    await land_of(farm, "300")
    manager = await manager_of(farm.coop)
    newcomer = await Household.create(cooperative=farm.coop, name="张家")
    today = date(2026, 9, 1)
    results = await asyncio.gather(
        save_household(
            manager=manager, household_id=newcomer.id, today=today,
            data=household_form(farm, {farm.field.id: "100"}),
        ),  # 400 m² held: what the field has now
        console.update_field(
            manager=manager, field_id=farm.field.id, today=today, resize_check=check_then_wait,
            data=FieldInput(name="试验田", width_m="40", height_m="7.5"),
        ),  # 300 m²: what was held before
        return_exceptions=True,
    )  # fmt: skip
    refused = [r for r in results if isinstance(r, FieldErrors)]
    assert len(refused) == 1 and len(results) == 2, results
    field = await Field.get(id=farm.field.id)
    held = await LandTransfer.filter(in_force_on(today), field_id=field.id).values_list(
        "area_m2", flat=True
    )
    assert sum(Decimal(a) for a in held) <= field.width_m * field.height_m
