"""Every customer page, walked by every kind of visitor: only the owner gets in."""

import pytest

from farm.accounts.models import Role
from farm.accounts.services import sign_up, verify_password
from farm.gifts.models import Gift
from farm.land.models import Cooperative
from farm.partners.models import Partner, PartnerKind
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import ADDRESS, NOW, csrf_of, log_in_client, make_customer, make_season

GET_ROUTES = [
    "/checkout/{id}",
    "/checkout/{id}/return",
    "/account/subscriptions/{id}",
    "/account/subscriptions/{id}/cancel",
    "/account/subscriptions/{id}/crops",
]
POST_ROUTES = [
    "/checkout/{id}/address", "/checkout/{id}/pay", "/checkout/{id}/gift",
    "/account/subscriptions/{id}/cancel", "/account/subscriptions/{id}/crops",
]  # fmt: skip


async def owners_subscription():
    plan = await make_season()
    owner = await make_customer("owner@example.com", "主人")
    sub = await services.reserve_plot(
        customer=owner,
        plan_id=plan.id,
        plot_id=None,
        today=NOW.date(),
        now=NOW,
        minutes=60 * 24 * 365,
    )
    await services.update_address(
        customer=owner, subscription_id=sub.id, **ADDRESS, today=NOW.date()
    )
    return plan, sub


async def log_in_as(client, role: str):
    if role == "visitor":
        return await csrf_of(client, "/login")
    coop = await Cooperative.first()
    if role == "customer":
        await make_customer("other@example.com", "别人")
    elif role == "manager":
        await sign_up(
            email="m@example.com",
            name="经理",
            password="correct horse",
            language="zh_CN",
            role=Role.MANAGER,
            cooperative_id=coop.id,
        )
    elif role == "partner_staff":
        partner = await Partner.create(cooperative=coop, kind=PartnerKind.SCENIC_SPOT, name="景区")
        await sign_up(
            email="p@example.com",
            name="检票",
            password="correct horse",
            language="zh_CN",
            role=Role.PARTNER_STAFF,
            partner_id=partner.id,
        )
    elif role == "admin":
        await sign_up(
            email="a@example.com",
            name="管理员",
            password="correct horse",
            language="zh_CN",
            role=Role.ADMIN,
        )
    email = {
        "customer": "other@example.com",
        "manager": "m@example.com",
        "partner_staff": "p@example.com",
        "admin": "a@example.com",
    }[role]
    return await log_in_client(client, email)


@pytest.mark.parametrize("role", ["visitor", "customer", "manager", "partner_staff", "admin"])
async def test_no_one_but_the_owner_sees_or_changes_a_subscription(client, role):
    _, sub = await owners_subscription()
    token = await log_in_as(client, role)
    for path in GET_ROUTES:
        r = await client.get(path.format(id=sub.id))
        if role == "visitor":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        else:
            assert r.status_code == 404, (role, path, r.status_code)
            assert "主人" not in r.text and "13800138000" not in r.text
    for path in POST_ROUTES:
        r = await client.post(
            path.format(id=sub.id),
            data={**ADDRESS, "phone": "13900000000", "card_id": "card_x", "csrf_token": token},
        )
        assert r.status_code in (303, 404, 401), (role, path, r.status_code)
        if role == "visitor":
            assert r.status_code in (303, 401)
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT and sub.phone == "13800138000"
    assert sub.sign_name == "主人" and not await Gift.exists()


@pytest.mark.parametrize("role", ["visitor", "customer", "manager", "partner_staff", "admin"])
async def test_no_one_but_the_giver_sees_a_gifts_card_or_its_pdf(client, role):
    _, sub = await owners_subscription()
    gift = await Gift.create(
        subscription=sub, giver_id=sub.customer_id, recipient_name="小红", message="秘密留言",
        created_at=NOW, paid_at=NOW, code_salt="1" * 32, code_hash="h" * 64,
    )  # fmt: skip
    await log_in_as(client, role)
    for path in (f"/account/gifts/{gift.id}", f"/account/gifts/{gift.id}/card.pdf"):
        r = await client.get(path)
        if role == "visitor":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        else:
            assert r.status_code == 404, (role, path, r.status_code)
            assert "秘密留言" not in r.text
    # the claim page is a customer's or a visitor's: staff get 'not found'
    claim = await client.get("/gift")
    assert claim.status_code == (200 if role in ("visitor", "customer") else 404)


@pytest.mark.parametrize("role", ["visitor", "customer", "manager", "partner_staff", "admin"])
async def test_every_signed_in_role_changes_only_its_own_password_and_a_visitor_logs_in(
    client, role
):
    _, sub = await owners_subscription()
    token = await log_in_as(client, role)
    page = await client.get("/account/password")
    data = {"current": "correct horse", "password": "a brand new one", "confirm": "a brand new one"}
    r = await client.post("/account/password", data={**data, "csrf_token": token})
    owner = await sub.customer
    assert await verify_password(owner.password_hash, "correct horse")  # never the owner's
    if role == "visitor":
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert r.status_code in (303, 401)
        return
    assert page.status_code == 200 and "主人" not in page.text
    assert r.status_code == 303 and r.headers["location"] == "/account/password?changed=1"


async def test_unknown_subscription_ids_are_404_for_their_owner_too(client):
    await owners_subscription()
    await log_in_client(client, "owner@example.com")
    for path in GET_ROUTES:
        for bad in ("999999", "abc", "0", "-5", "1" * 30):
            assert (await client.get(path.format(id=bad))).status_code == 404


async def test_the_account_page_lists_only_the_customers_own_plots(client):
    _, sub = await owners_subscription()
    await log_in_as(client, "customer")
    page = await client.get("/account")
    assert page.status_code == 200 and f"/account/subscriptions/{sub.id}" not in page.text


async def test_staff_cannot_reserve_plots(client):
    plan, _ = await owners_subscription()
    token = await log_in_as(client, "manager")
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    assert r.status_code == 404
    assert await Subscription.all().count() == 1


async def test_reserving_needs_a_login_and_a_visitor_is_sent_to_log_in(client):
    plan, _ = await owners_subscription()
    token = await csrf_of(client, "/login")
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_a_session_ended_elsewhere_reserves_nothing(client):
    """The reservation checks the session in its own statement: a session ended elsewhere (a
    password reset, a deactivation, "end all other sessions") is sent to log in, and holds no
    plot."""
    plan, _ = await owners_subscription()
    buyer = await make_customer("buyer@example.com", "买家")
    token = await log_in_client(client, "buyer@example.com")
    from farm.accounts import sessions

    await sessions.end_sessions_of(buyer.id, now=NOW)
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert await Subscription.filter(customer_id=buyer.id).count() == 0
    assert (await client.get("/account")).status_code == 303  # the session was ended


async def test_a_reservation_with_a_wrong_csrf_token_is_refused_and_holds_nothing(client):
    plan, _ = await owners_subscription()
    buyer = await make_customer("buyer@example.com", "买家")
    await log_in_client(client, "buyer@example.com")
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": "forged"}
    )
    assert r.status_code == 403
    assert await Subscription.filter(customer_id=buyer.id).count() == 0


async def test_a_customer_reserving_through_the_page_gets_a_checkout_and_a_double_click_the_same(
    client,
):
    plan, _ = await owners_subscription()
    buyer = await make_customer("buyer@example.com", "买家买家买家")
    token = await log_in_client(client, "buyer@example.com")
    first = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    again = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    sub = await Subscription.get(customer_id=buyer.id)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/checkout/{sub.id}"
    assert sub.sign_name == "买家买家买家" and sub.status == Status.PENDING_PAYMENT


@pytest.mark.parametrize("plot_id", ["", "abc", "-1", "99999999999999999999", "1 OR 1=1"])
async def test_a_malformed_plot_choice_is_a_clear_4xx_and_writes_nothing(client, plot_id):
    plan, _ = await owners_subscription()
    await make_customer("buyer@example.com", "买家")
    token = await log_in_client(client, "buyer@example.com")
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": plot_id, "csrf_token": token}
    )
    if plot_id == "":  # empty means: let the service pick
        assert r.status_code == 303
    else:
        assert r.status_code == 404
        assert await Subscription.all().count() == 1


async def test_a_non_ascii_csrf_token_is_refused_not_an_error(client):
    await client.get("/login")
    r = await client.post("/login", data={"email": "a@b.cn", "password": "x", "csrf_token": "é"})
    assert r.status_code == 403


async def test_a_nul_byte_in_a_form_is_refused_and_nothing_is_written(client):
    from farm.accounts.models import User

    token = await csrf_of(client, "/signup")
    r = await client.post(
        "/signup",
        data={
            "name": "王\x00",
            "email": "n@example.com",
            "password": "long enough",
            "csrf_token": token,
        },
    )
    assert r.status_code == 400
    assert not await User.exists()


@pytest.mark.parametrize("path", ["/plans/²", "/plans/" + "9" * 5000, "/account/subscriptions/١٢"])
async def test_odd_digits_in_ids_are_404_not_errors(client, path):
    await make_customer()
    await log_in_client(client, "wang@example.com")
    assert (await client.get(path)).status_code == 404
