"""The offer and the field map at Jutudi's scale: the home page's queries do not grow with the
number of plans, plots left are counted in SQL as before, a big field is shown by sections a
phone can read, and HTML is sent compressed while downloads are not."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from farm.app import GZIP_MINIMUM_BYTES, GZIP_SKIPPED_TYPES
from farm.land import sections
from farm.land.models import CareMode, Field, PerkKind, Plan, PlanPerk, Plot, PlotClaim, PlotSize
from farm.land.services import open_offers
from farm.partners.models import Partner, PartnerKind
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    NOW,
    TODAY,
    count_places,
    count_queries,
    make_active_subscription,
    make_season,
)

EN = {"accept-language": "en"}
ON_SALE = {"sale_starts_on": TODAY - timedelta(days=1), "sale_ends_on": TODAY + timedelta(days=90)}


async def add_plan(season_id: int, field_id: int, *, price_fen: int, max_plots: int = 100):
    return await Plan.create(
        season_id=season_id, field_id=field_id, name="一分地", name_en="One fen",
        plot_area_m2=Decimal("66.67"), care_mode=CareMode.MANAGED, price_fen=price_fen,
        max_plots=max_plots,
    )  # fmt: skip


async def big_field(coop_id: int, *, columns: int, rows: int) -> Field:
    """A field of columns x rows one-fen plots of 10 m x 6.67 m, codes B0001..."""
    field = await Field.create(
        cooperative_id=coop_id, name="大田", width_m=10 * columns, height_m=Decimal("6.67") * rows
    )
    await Plot.bulk_create(
        [
            Plot(
                field=field,
                code=f"B{i + 1:04d}",
                area_m2=Decimal("66.67"),
                x_m=10 * (i % columns),
                y_m=Decimal("6.67") * (i // columns),
                w_m=10,
                h_m=Decimal("6.67"),
            )  # fmt: skip
            for i in range(columns * rows)
        ]
    )
    return field


async def reservation(plan: Plan, plot: Plot, *, expires_in_minutes: int) -> None:
    """An unpaid reservation holding its plot until NOW + minutes (lapsed if negative)."""
    from farm.accounts.models import User

    customer = await User.create(email=f"r{plot.id}@example.com", name="赵", password_hash="x")
    sub = await Subscription.create(
        customer=customer, season_id=plan.season_id, plan=plan, plot=plot,
        status=Status.PENDING_PAYMENT, price_fen=plan.price_fen, reserved_at=NOW,
    )  # fmt: skip
    await PlotClaim.create(
        season_id=plan.season_id, plot=plot, plan=plan, subscription=sub,
        expires_at=NOW + timedelta(minutes=expires_in_minutes),
    )  # fmt: skip
    await count_places(plan)  # written by hand


async def test_the_home_page_makes_as_many_queries_for_30_plans_as_for_2(client):
    plan = await make_season(plots=6, **ON_SALE)
    other = await make_season(plots=4, **ON_SALE)  # a second season on sale, its own field
    partner = await Partner.create(
        cooperative_id=(await plan.season).cooperative_id, kind=PartnerKind.SCENIC_SPOT,
        name="八公山",
    )  # fmt: skip
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")

    async def plans_with_perks_and_claims(count: int, start: int) -> None:
        for i in range(count):
            season = plan if i % 2 else other
            p = await add_plan(season.season_id, season.field_id, price_fen=start + i)
            await PlanPerk.create(plan=p, kind=PerkKind.SCENIC_TICKET, partner=partner, count=2)

    await PlanPerk.create(plan=plan, kind=PerkKind.SCENIC_TICKET, partner=partner, count=2)
    await make_active_subscription(plan, plots[0])
    with count_queries() as two:
        r = await client.get("/", headers=EN)
    assert r.status_code == 200 and r.text.count('class="card plan"') == 2

    await plans_with_perks_and_claims(28, start=60000)
    await make_active_subscription(plan, plots[1])
    with count_queries() as thirty:
        r = await client.get("/", headers=EN)
    assert r.text.count('class="card plan"') == 30
    assert r.text.count("scenic-spot tickets") == 29  # all but the second season's first
    assert thirty.count == two.count, (two.statements, thirty.statements)
    assert thirty.count <= 4


async def test_plots_left_are_the_plans_free_plots_of_its_size_less_live_claims_within_its_limit(
    conn,
):
    plan = await make_season(plots=6, max_plots=10, **ON_SALE)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    plots[5].area_m2 = Decimal("333.33")  # another size: never this plan's
    await plots[5].save()
    await make_active_subscription(plan, plots[0])  # paid: holds
    await reservation(plan, plots[1], expires_in_minutes=5)  # reserved: holds
    await reservation(plan, plots[2], expires_in_minutes=-5)  # lapsed: free again
    small = await add_plan(plan.season_id, plan.field_id, price_fen=1, max_plots=2)

    left = {o.plan.id: o.plots_left for o in await open_offers(today=TODAY, now=NOW)}
    assert left[plan.id] == 3  # plots 3, 4 and 5 of the five of its size
    assert left[small.id] == 2  # three free, but it may sell only two

    await make_active_subscription(small, plots[3])
    await make_active_subscription(small, plots[4])
    left = {o.plan.id: o.plots_left for o in await open_offers(today=TODAY, now=NOW)}
    assert left == {plan.id: 1, small.id: 0}


async def test_the_stored_count_of_plots_per_field_and_size_follows_every_insert_change_and_delete(
    conn,
):
    async def stored() -> dict[tuple[int, Decimal], int]:
        return {(s.field_id, s.area_m2): s.plots for s in await PlotSize.all() if s.plots}

    async def counted() -> dict[tuple[int, Decimal], int]:
        found: dict[tuple[int, Decimal], int] = {}
        for p in await Plot.all():
            found[(p.field_id, p.area_m2)] = found.get((p.field_id, p.area_m2), 0) + 1
        return found

    plan = await make_season(plots=6, **ON_SALE)  # one plot at a time
    field = await big_field((await plan.season).cooperative_id, columns=4, rows=3)  # in bulk
    assert await stored() == await counted() == {
        (plan.field_id, Decimal("66.67")): 6, (field.id, Decimal("66.67")): 12,
    }  # fmt: skip

    plots = await Plot.filter(field_id=field.id).order_by("code")
    await Plot.filter(id__in=[plots[0].id, plots[1].id]).update(area_m2=Decimal("133.33"))
    await Plot.filter(id=plots[2].id).update(field_id=plan.field_id)
    await Plot.filter(id__in=[plots[3].id, plots[4].id, plots[5].id]).delete()
    assert (
        await stored()
        == await counted()
        == {
            (plan.field_id, Decimal("66.67")): 7,
            (field.id, Decimal("66.67")): 6,
            (field.id, Decimal("133.33")): 2,
        }
    )


def section_links(html: str) -> list[tuple[int, int, int]]:
    """(section, free, plots) of every section link of an English overview."""
    found = re.findall(r'aria-label="Section (\d+): (\d+) of (\d+) plots free"', html)
    return [tuple(map(int, f)) for f in found]


async def test_a_big_field_shows_sections_with_their_free_plots_and_each_section_readably(client):
    plan = await make_season(plots=1, **ON_SALE)
    field = await big_field((await plan.season).cooperative_id, columns=20, rows=30)
    await Plan.filter(id=plan.id).update(field_id=field.id, max_plots=600)
    plots = await Plot.filter(field_id=field.id).order_by("code")
    for p in plots[:3]:  # the first three of the top row: section 1
        await make_active_subscription(plan, p)

    page = await client.get(f"/plans/{plan.id}", headers=EN)
    assert page.status_code == 200
    assert 'class="plot free"' not in page.text  # no plot at all: the overview
    links = section_links(page.text)
    assert [n for n, _free, _plots in links] == list(range(1, 7))  # 3 across, 2 down
    assert sum(total for _n, _free, total in links) == 600
    assert sum(free for _n, free, _total in links) == 597
    assert links[0][1:] == (102, 105)  # 7 plots across, 15 down; 3 of them taken
    assert f'href="/plans/{plan.id}?section=1#map"' in page.text

    one = await client.get(f"/plans/{plan.id}?section=1", headers=EN)
    assert one.text.count('class="plot free"') == 102
    assert one.text.count('class="plot taken"') == 3
    assert "Section 1 of 6" in one.text and "B0001" in one.text and "B0008" not in one.text
    # drawn at least TAP_PX a plot: 6.67 m high at >= 32 px a plot, i.e. >= 4.8 px a metre
    width = int(re.search(r"min-width: (\d+)px", one.text.split("<body>", 1)[1]).group(1))
    assert width >= (70 + 2) * sections.TAP_PX / 6.67 - 1
    assert f'href="/plans/{plan.id}?section=2#map"' in one.text  # the section to the right
    assert f'href="/plans/{plan.id}?section=4#map"' in one.text  # and the one below

    last = await client.get(f"/plans/{plan.id}?section=6", headers=EN)
    assert last.text.count('class="plot free"') == 6 * 15  # what is left: 6 across


async def test_choosing_a_plot_opens_its_section_and_the_pick_panel_also_as_a_fragment(client):
    plan = await make_season(plots=1, **ON_SALE)
    field = await big_field((await plan.season).cooperative_id, columns=20, rows=30)
    await Plan.filter(id=plan.id).update(field_id=field.id, max_plots=600)
    taken, plot = await Plot.filter(field_id=field.id, code__in=["B0599", "B0600"]).order_by("code")
    await make_active_subscription(plan, taken)

    page = await client.get(f"/plans/{plan.id}?plot={plot.id}", headers=EN)
    assert "Section 6 of 6" in page.text and 'class="plot chosen"' in page.text
    assert "Plot B0600" in page.text and "<html" in page.text

    fragment = await client.get(f"/plans/{plan.id}/map?plot={plot.id}", headers=EN)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Section 6 of 6" in fragment.text and "Plot B0600" in fragment.text
    assert f"/signup?next=/plans/{plan.id}%3Fplot%3D{plot.id}" in fragment.text

    # a taken plot, or one of another field, is not chosen: the section shows, nothing chosen
    for other in (taken.id, (await Plot.filter(field_id=plan.field_id).first()).id):
        r = await client.get(f"/plans/{plan.id}/map?plot={other}", headers=EN)
        assert r.status_code == 200 and 'class="plot chosen"' not in r.text
    for bad in ("section=99", "section=0", "section=x", "plot=abc"):
        r = await client.get(f"/plans/{plan.id}/map?{bad}", headers=EN)
        assert r.status_code == 200 and "Section 1:" in r.text  # the overview


async def test_a_4650_plot_field_is_a_small_page_whatever_is_shown(client):
    plan = await make_season(plots=1, **ON_SALE)
    field = await big_field((await plan.season).cooperative_id, columns=75, rows=62)
    await Plan.filter(id=plan.id).update(field_id=field.id, max_plots=4650)
    chosen = await Plot.get(field_id=field.id, code="B2345")
    for path in ("", "?section=12", f"?plot={chosen.id}"):
        r = await client.get(f"/plans/{plan.id}{path}", headers={**EN, "accept-encoding": "gzip"})
        assert r.status_code == 200
        plots_drawn = r.text.count('<g class="plot ')
        assert plots_drawn <= sections.SECTION_PLOTS, path
        assert len(r.content) < 150_000 and r.num_bytes_downloaded < 30_000, path
        assert r.headers["content-encoding"] == "gzip"
    assert len(section_links((await client.get(f"/plans/{plan.id}", headers=EN)).text)) == 33


async def test_html_is_compressed_while_downloads_and_json_pass_through_unchanged():
    csv_rows = [f"{i},王小明,{i * 7}\n".encode() for i in range(2000)]
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40

    async def page(request):
        return HTMLResponse("<p>田</p>" * 500)

    async def export(request):
        async def rows():
            for row in csv_rows:
                yield row

        return StreamingResponse(rows(), media_type="text/csv; charset=utf-8")

    async def document(request):
        return Response(pdf, media_type="application/pdf")

    async def webhook(request):
        return Response(b'{"received": true}' * 100, media_type="application/json")

    app = Starlette(
        routes=[Route(p, f) for p, f in (("/", page), ("/x.csv", export), ("/x.pdf", document),
                                         ("/hook", webhook))],
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES,
                               exclude_content_types=GZIP_SKIPPED_TYPES)],
    )  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        headers = {"accept-encoding": "gzip"}
        r = await c.get("/", headers=headers)
        assert r.headers["content-encoding"] == "gzip" and r.num_bytes_downloaded < 1000
        assert r.text == "<p>田</p>" * 500
        async with c.stream("GET", "/x.csv", headers=headers) as r:
            assert "content-encoding" not in r.headers
            assert b"".join([chunk async for chunk in r.aiter_raw()]) == b"".join(csv_rows)
        for path, body in (("/x.pdf", pdf), ("/hook", b'{"received": true}' * 100)):
            r = await c.get(path, headers=headers)
            assert "content-encoding" not in r.headers and r.content == body, path
