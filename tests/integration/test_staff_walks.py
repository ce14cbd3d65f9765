"""Role walks over the onboarding pages, on the demo: a deactivated account is refused on every
page (its open session ends, it cannot log in again), and /admin is closed to everyone but
admins. The routes are read from the app, so a new page is walked without asking."""

from datetime import UTC, datetime

import pytest
from starlette.routing import Route

from farm.accounts.models import User
from farm.land.models import Cooperative
from farm.subscriptions.models import Subscription
from tests.support import csrf_of, log_in_client
from tests.walks import PEOPLE, demo_world, route_paths

NOT_PAGES = ("/logout", "/lang/{code}")


@pytest.fixture(autouse=True)
def in_english(client):
    client.cookies.set("lang", "en")


@pytest.mark.parametrize("who", [w for w, email in PEOPLE.items() if email])
async def test_a_deactivated_account_is_refused_on_every_page_and_at_login(client, app, who):
    ids = await demo_world(datetime.now(UTC))
    email = PEOPLE[who]
    await log_in_client(client, email)
    assert "Log out" in (await client.get("/")).text
    await User.filter(email=email).update(is_active=False)
    for path in route_paths(app.routes, ids, method="GET", skip=NOT_PAGES):
        r = await client.get(path)
        assert r.status_code != 500, path
        assert "Log out" not in r.text, (who, path)  # nobody is signed in any more
        if path.startswith(("/manage", "/admin", "/partner", "/account")):
            assert r.status_code in (303, 404), (who, path, r.status_code)
    token = await csrf_of(client)
    r = await client.post(
        "/login", data={"email": email, "password": "correct horse", "csrf_token": token}
    )
    assert r.status_code == 400 and "Wrong email or password." in r.text


async def test_a_deactivated_customers_open_session_reserves_nothing(client, app):
    """On PostgreSQL the reservation checks the session's user in its own statement: that
    check refuses a deactivated account too."""
    ids = await demo_world(datetime.now(UTC))
    customer = await User.get(email=PEOPLE["customer"])
    token = await log_in_client(client, customer.email)
    before = await Subscription.filter(customer=customer).count()
    await User.filter(id=customer.id).update(is_active=False)
    r = await client.post(
        f"/plans/{ids['plan_id']}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert await Subscription.filter(customer=customer).count() == before


@pytest.mark.parametrize("who", [w for w in PEOPLE if w != "admin"])
async def test_admin_pages_are_closed_to_everyone_but_admins(client, app, who):
    ids = await demo_world(datetime.now(UTC))
    email = PEOPLE[who]
    token = await (log_in_client(client, email) if email else csrf_of(client))
    admin_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/admin")]
    assert len(admin_routes) >= 5
    before = (await Cooperative.all().count(), await User.filter(is_active=True).count())
    for method in ("GET", "POST"):
        for path in route_paths(admin_routes, ids, method=method):
            if method == "GET":
                r = await client.get(path)
            else:
                r = await client.post(
                    path, data={"csrf_token": token, "name": "入侵", "active": "0"}
                )
            if email is None:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
            else:
                assert r.status_code == 404, (who, method, path, r.status_code)
    assert (await Cooperative.all().count(), await User.filter(is_active=True).count()) == before


async def test_the_admin_opens_every_admin_page(client, app):
    ids = await demo_world(datetime.now(UTC))
    await log_in_client(client, PEOPLE["admin"])
    admin_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/admin")]
    for path in route_paths(admin_routes, ids, method="GET"):
        assert (await client.get(path)).status_code == 200, path
