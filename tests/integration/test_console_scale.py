"""The console at Jutudi's scale on PostgreSQL, which refuses a query of more than 32,767
parameters: reports over more harvested plots than that still answer (they sum in the
database; no query carries one parameter per row). Rows are seeded in bulk."""

import csv
import io
from datetime import date

import pytest
from tortoise import connections

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.fieldwork import reports
from farm.fieldwork.models import HarvestLot
from farm.land.models import Plot
from farm.sql import insert_rows
from tests.support import NOW, log_in_client, make_crop, make_season

pytestmark = pytest.mark.postgres

PLOTS = 33_500  # past PostgreSQL's 32,767 parameters in one query


async def a_season_with_a_lot_on_every_plot():
    plan = await make_season(plots=1, starts_on=date(2026, 3, 1), ends_on=date(2027, 3, 1))
    await plan.fetch_related("field")
    coop_id = plan.field.cooperative_id
    manager = await sign_up(email="li@coop.cn", name="李经理", password="correct horse",
                            language="zh_CN", role=Role.MANAGER, cooperative_id=coop_id)  # fmt: skip
    crop = await make_crop(coop_id)
    conn = connections.get("default")
    await insert_rows(conn, Plot, [
        {"field_id": plan.field_id, "code": f"B{i:05d}", "area_m2": "66.67", "x_m": "0",
         "y_m": "0", "w_m": "10", "h_m": "6.67"}
        for i in range(PLOTS)
    ])  # fmt: skip
    plot_ids = await Plot.filter(field_id=plan.field_id).values_list("id", flat=True)
    await insert_rows(conn, HarvestLot, [
        {"cooperative_id": coop_id, "code": f"S{plot_id:08d}", "crop_id": crop.id,
         "field_id": plan.field_id, "plot_id": plot_id, "harvested_on": date(2026, 7, 1),
         "weight_g": 1000, "settled_g": 0, "logged_by_id": manager.id, "created_at": NOW}
        for plot_id in plot_ids
    ])  # fmt: skip
    return plan, len(plot_ids)


async def test_the_yield_report_over_more_plots_than_postgres_takes_parameters_answers(client):
    plan, plots = await a_season_with_a_lot_on_every_plot()
    assert plots > 32_767
    report = await reports.yield_report(
        cooperative_id=(await plan.field).cooperative_id, season_id=plan.season_id
    )
    assert report.total.weight_g == plots * 1000 and report.total.lots == plots
    assert report.plots.total == plots and len(report.by_plot) == reports.PLOTS_PER_PAGE

    await log_in_client(client, "li@coop.cn")
    page = await client.get("/manage/reports", params={"season": plan.season_id, "page": 335})
    assert page.status_code == 200
    assert "B33499" in page.text  # the last page of the plots

    r = await client.get("/manage/reports/yields.csv", params={"season": plan.season_id})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    by_plot = [row for row in rows[1:] if row[3]]
    assert len(by_plot) == plots and by_plot[0][3] == "B00000" and by_plot[-2][3] == "B33499"
    assert rows[-1][4:6] == [str(plots), f"{plots}.00"]

    households = await client.get(
        "/manage/reports/households.csv", params={"season": plan.season_id}
    )
    assert households.status_code == 200
