"""What every page's head and the plan page's map carry for search engines, browsers and
people who cannot see colour: a description (each plan its own), an icon that exists, a skip
link, and plots told apart by more than colour."""

from __future__ import annotations

import re
from html import unescape

from tests.support import make_active_subscription, make_season

EN = {"accept-language": "en"}


def description(html: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]*)">', html)
    assert found, "no meta description"
    return unescape(found.group(1))


async def test_every_page_has_a_description_and_the_plan_page_describes_its_plan(client):
    plan = await make_season()
    home = (await client.get("/", headers=EN)).text
    login = (await client.get("/login", headers=EN)).text
    plan_page = (await client.get(f"/plans/{plan.id}", headers=EN)).text
    assert "harvest twice a month" in description(home)
    assert description(login).startswith("Rent a plot of village farmland")
    assert plan.name_en in description(plan_page) or plan.name in description(plan_page)
    assert "¥580" in description(plan_page)
    assert len({description(home), description(login), description(plan_page)}) == 3


async def test_the_icon_is_linked_and_favicon_ico_answers_with_it(client):
    html = (await client.get("/")).text
    icon = re.search(r'<link rel="icon" href="(/static/favicon\.[0-9a-f]+\.svg)"', html)
    assert icon, "no fingerprinted icon link"
    for path in ("/favicon.ico", "/static/favicon.svg", icon.group(1)):
        r = await client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert r.content.startswith(b"<svg")


async def test_every_page_starts_with_a_skip_link_to_its_content(client):
    html = (await client.get("/login")).text
    body = html[html.index("<body>") :]
    first_link = re.search(r'<a class="skip" href="#(\w+)">', body)
    assert first_link and body.index(first_link.group(0)) < body.index("<header")
    assert f'id="{first_link.group(1)}"' in html


async def test_the_map_strips_taken_plots_ticks_the_chosen_and_lists_the_free(client):
    plan = await make_season(plots=4)
    await plan.fetch_related("field")
    plots = await plan.field.plots.all().order_by("code")
    await make_active_subscription(plan, plots[0])
    html = (await client.get(f"/plans/{plan.id}?plot={plots[1].id}", headers=EN)).text
    assert '<pattern id="hatch"' in html  # taken plots are filled with it (site.css)
    taken = re.search(rf'<g class="plot taken" data-code="{plots[0].code}">', html)
    assert taken
    assert re.search(rf">✓ {plots[1].code}</text>", html)  # the chosen plot is ticked
    free_list = html[html.index('<details class="free-list">') :]
    free_list = free_list[: free_list.index("</details>")]
    listed = re.findall(r'\?plot=\d+#pick"[^>]*>(\w+)</a>', free_list)
    assert listed == [p.code for p in plots[1:]]
