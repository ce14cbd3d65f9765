"""Two managers saving one household's land at the same moment: the household's row is locked
(read FOR UPDATE, then written) before its land is read, so the second edit reads the first's
and corrects it, instead of both ending the same transfer and starting two of one field on one
day. On PostgreSQL (SQLite serialises writers, so it proves less there)."""

import asyncio
from datetime import date

import pytest

from farm.fieldwork import services
from farm.fieldwork.models import LandTransfer
from farm.fieldwork.services import save_household
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
