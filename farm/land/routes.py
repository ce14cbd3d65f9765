"""The customer's view of the land: the season's offer and a plan's field map."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.land import services
from farm.land.models import PerkKind
from farm.web import int_param, now, parse_id, render, today


async def home(request: Request) -> Response:
    offers = await services.open_offers(today=today(request), now=now())
    seasons: dict[int, list[services.PlanOffer]] = {}
    for offer in offers:
        seasons.setdefault(offer.season.id, []).append(offer)
    return render(request, "land/home.html", {"seasons": list(seasons.values())})


async def plan_page(request: Request) -> Response:
    plan_id = int_param(request, "plan_id")
    offer, field, plots = await services.plan_offer(plan_id=plan_id, now=now())
    chosen = None
    plot_id = parse_id(request.query_params.get("plot"))
    if plot_id is not None:
        chosen = next((m for m in plots if m.plot.id == plot_id and m.free), None)
    return render(
        request,
        "land/plan.html",
        {
            "offer": offer,
            "field": field,
            "plots": plots,
            "chosen": chosen,
            "PerkKind": PerkKind,
            "on_sale": offer.season.sale_starts_on <= today(request) < offer.season.sale_ends_on,
        },
    )


routes = [
    Route("/", home, name="home"),
    Route("/plans/{plan_id}", plan_page, name="plan"),
]
