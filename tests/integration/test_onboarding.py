"""Onboarding on a real database: an admin creates cooperatives with their profiles and invites
their managers by a queued mail with a single-use link; a manager edits their own cooperative's
profile and invites managers too; staff accounts are deactivated and reactivated, and a
deactivated account can neither log in nor keep a session. Nobody reaches another
cooperative's records, and only admins reach /admin."""

import asyncio
import re

import pytest

from farm.accounts import invitations
from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.admin import services
from farm.errors import Conflict, FieldErrors, NotFound
from farm.land.models import Cooperative
from farm.links import Links
from farm.notifications.models import Notification
from farm.notifications.services import queue_mail
from farm.partners.models import Partner, PartnerKind
from tests.integration.test_operators import farm
from tests.support import NOW, csrf_of, log_in_client, make_customer

SECRET = "test-secret"
LINKS = Links("https://farm.example")
PROFILE = {
    "name": "青山村合作社",
    "name_en": "Qingshan Cooperative",
    "village": "青山村",
    "province": "安徽",
    "phone": "0551-6543 2100",
    "description": "山里的稻田和菜地。\n欢迎来看看。",
}
LINK_RE = re.compile(r"/invitation/([A-Za-z0-9._-]+)")


@pytest.fixture(autouse=True)
def in_english(request):
    from farm import i18n

    i18n.set_language("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.set("lang", "en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


async def staff(email: str, role: Role, **scope) -> User:
    return await sign_up(email=email, name=email.split("@")[0], password="correct horse",
                         language="en", role=role, **scope)  # fmt: skip


async def world():
    """Two cooperatives, each with a manager and a partner with a staff member; one admin."""
    admin = await staff("root@farm.example", Role.ADMIN)
    coops, managers, gates = [], [], []
    for n in (1, 2):
        coop = await Cooperative.create(name=f"合作社{n}")
        partner = await Partner.create(
            cooperative=coop, kind=PartnerKind.GUESTHOUSE, name=f"民宿{n}"
        )
        coops.append(coop)
        managers.append(await staff(f"m{n}@coop.example", Role.MANAGER, cooperative_id=coop.id))
        gates.append(await staff(f"g{n}@stay.example", Role.PARTNER_STAFF, partner_id=partner.id))
    return admin, coops, managers, gates


async def invite(user: User, coop_id: int, email: str = "new@coop.example") -> str:
    await services.invite_manager(
        user=user, cooperative_id=coop_id, data=services.InvitationInput(email=email),
        language="en", secret=SECRET, links=LINKS, now=NOW, queue_mail=queue_mail,
    )  # fmt: skip
    mail = await Notification.get(to=email)
    found = LINK_RE.search(mail.body)
    assert found, mail.body
    return found.group(1)


# ---- services ----


async def test_an_admin_creates_a_cooperative_with_its_whole_profile(conn):
    admin = await staff("root@farm.example", Role.ADMIN)
    coop = await services.create_cooperative(admin=admin, data=services.ProfileInput(**PROFILE))
    saved = await Cooperative.get(id=coop.id)
    assert (saved.name, saved.name_en, saved.village, saved.province) == (
        "青山村合作社", "Qingshan Cooperative", "青山村", "安徽",
    )  # fmt: skip
    assert saved.phone == "0551-6543 2100" and "欢迎" in saved.description


async def test_a_profile_without_a_name_or_with_a_bad_phone_is_refused_and_nothing_is_written(conn):
    admin = await staff("root@farm.example", Role.ADMIN)
    bad = services.ProfileInput(**{**PROFILE, "name": " ", "phone": "call me"})
    with pytest.raises(FieldErrors) as refused:
        await services.create_cooperative(admin=admin, data=bad)
    assert set(refused.value.errors) == {"name", "phone"}
    assert not await Cooperative.exists()


async def test_only_an_admin_creates_cooperatives(conn):
    _admin, coops, managers, _gates = await world()
    with pytest.raises(NotFound):
        await services.create_cooperative(admin=managers[0], data=services.ProfileInput(**PROFILE))
    assert await Cooperative.all().count() == 2


async def test_an_invitation_is_queued_and_lets_its_owner_choose_name_and_password_once(conn):
    admin, coops, _managers, _gates = await world()
    token = await invite(admin, coops[1].id)
    invited = await User.get(email="new@coop.example")
    assert invited.role == Role.MANAGER and invited.cooperative_id == coops[1].id
    joined = await invitations.accept_invitation(
        token=token, secret=SECRET, name="新经理", password="a good password"
    )
    assert joined.id == invited.id and joined.name == "新经理"
    with pytest.raises(NotFound):  # spent
        await invitations.accept_invitation(
            token=token, secret=SECRET, name="Someone", password="another password"
        )
    assert (await User.get(id=invited.id)).name == "新经理"


async def test_an_invitation_to_an_address_with_an_account_is_refused(conn):
    admin, coops, managers, _gates = await world()
    with pytest.raises(FieldErrors) as refused:
        await invite(admin, coops[0].id, email=managers[1].email)
    assert "email" in refused.value.errors
    assert not await Notification.exists()


async def test_an_invitation_not_yet_accepted_is_sent_again_with_a_new_link_the_old_one_dead(
    conn, monkeypatch
):
    admin, coops, _managers, _gates = await world()
    first = await invite(admin, coops[0].id)
    monkeypatch.setattr(invitations, "MAX_AGE_S", -1)  # the first link has expired
    with pytest.raises(NotFound):
        await invitations.invited_user(token=first, secret=SECRET)
    monkeypatch.undo()
    await Notification.all().delete()
    second = await invite(admin, coops[0].id)  # the account exists: sent again, not refused
    assert second != first and await User.filter(email="new@coop.example").count() == 1
    with pytest.raises(NotFound):  # the old link is dead, though it would still be fresh
        await invitations.accept_invitation(token=first, secret=SECRET, name="X",
                                            password="a good password")  # fmt: skip
    await invitations.accept_invitation(token=second, secret=SECRET, name="新经理",
                                        password="a good password")  # fmt: skip
    with pytest.raises(FieldErrors):  # joined: no invitation any more
        await invite(admin, coops[0].id)
    with pytest.raises(FieldErrors):  # pending, but for another cooperative: refused
        await Notification.all().delete()
        await invite(admin, coops[1].id, email="other@coop.example")
        await invite(admin, coops[0].id, email="other@coop.example")


async def test_an_invitation_reads_its_form_like_every_form_and_refuses_a_blank_name(conn):
    admin, coops, _managers, _gates = await world()
    token = await invite(admin, coops[0].id)
    with pytest.raises(FieldErrors) as refused:
        await invitations.accept_invitation(token=token, secret=SECRET, name="  ",
                                            password="short")  # fmt: skip
    assert set(refused.value.errors) == {"name", "password"}
    await invitations.invited_user(token=token, secret=SECRET)  # still good


@pytest.mark.postgres
async def test_one_invitation_accepted_twice_at_the_same_moment_joins_once(conn):
    admin, coops, _managers, _gates = await world()
    token = await invite(admin, coops[0].id)
    results = await asyncio.gather(
        *(invitations.accept_invitation(token=token, secret=SECRET, name=f"经理{n}",
                                        password=f"password number {n}")
          for n in range(4)),
        return_exceptions=True,
    )  # fmt: skip
    joined = [r for r in results if isinstance(r, User)]
    assert len(joined) == 1, results
    assert all(isinstance(r, NotFound) for r in results if r not in joined)
    assert (await User.get(email="new@coop.example")).name == joined[0].name


async def test_a_manager_cannot_reactivate_an_account_an_admin_deactivated(conn):
    admin, coops, managers, gates = await world()
    await services.set_active(user=admin, staff_id=gates[0].id, active=False)
    assert (await User.get(id=gates[0].id)).deactivated_by_id == admin.id
    with pytest.raises(Conflict):
        await services.set_active(user=managers[0], staff_id=gates[0].id, active=True)
    assert not (await User.get(id=gates[0].id)).is_active
    await services.set_active(user=admin, staff_id=gates[0].id, active=True)
    # One a manager deactivated, a manager reactivates.
    await services.set_active(user=managers[0], staff_id=gates[0].id, active=False)
    await services.set_active(user=managers[0], staff_id=gates[0].id, active=True)
    assert (await User.get(id=gates[0].id)).deactivated_by_id is None


async def test_a_forged_or_foreign_token_opens_no_invitation(conn):
    admin, coops, _managers, _gates = await world()
    token = await invite(admin, coops[0].id)
    for bad in (token + "x", "nonsense", token.replace(".", "-", 1)):
        with pytest.raises(NotFound):
            await invitations.invited_user(token=bad, secret=SECRET)
    with pytest.raises(NotFound):
        await invitations.invited_user(token=token, secret="another-secret")


async def test_a_manager_invites_only_to_their_own_cooperative(conn):
    _admin, coops, managers, _gates = await world()
    with pytest.raises(NotFound):
        await invite(managers[0], coops[1].id)
    assert not await User.exists(email="new@coop.example")
    await invite(managers[0], coops[0].id)
    assert (await User.get(email="new@coop.example")).cooperative_id == coops[0].id


async def test_a_manager_deactivates_their_managers_and_their_partners_staff_only(conn):
    admin, coops, managers, gates = await world()
    colleague = await staff("m1b@coop.example", Role.MANAGER, cooperative_id=coops[0].id)
    listed = await services.list_staff(user=managers[0], text="", page=1)
    assert {r.email for r in listed.items} == {colleague.email, gates[0].email}
    for target in (colleague, gates[0]):
        await services.set_active(user=managers[0], staff_id=target.id, active=False)
        assert not (await User.get(id=target.id)).is_active
    for target in (managers[0], managers[1], gates[1], admin):  # themself, others', the admin
        with pytest.raises(NotFound):
            await services.set_active(user=managers[0], staff_id=target.id, active=False)
        assert (await User.get(id=target.id)).is_active
    await services.set_active(user=managers[0], staff_id=gates[0].id, active=True)
    assert (await User.get(id=gates[0].id)).is_active


async def test_an_admin_deactivates_any_staff_account_but_no_customer_and_not_themself(conn):
    admin, _coops, managers, gates = await world()
    customer = await make_customer()
    for target in (*managers, *gates):
        await services.set_active(user=admin, staff_id=target.id, active=False)
    assert not await User.filter(
        role__in=[Role.MANAGER, Role.PARTNER_STAFF], is_active=True
    ).exists()
    for target in (admin, customer):
        with pytest.raises(NotFound):
            await services.set_active(user=admin, staff_id=target.id, active=False)
    listed = await services.list_staff(user=admin, text="stay", page=1)
    assert {r.email for r in listed.items} == {g.email for g in gates}


async def test_partner_staff_and_customers_see_no_staff_list(conn):
    _admin, _coops, _managers, gates = await world()
    customer = await make_customer()
    for user in (gates[0], customer):
        with pytest.raises(NotFound):
            await services.list_staff(user=user, text="", page=1)


# ---- routes ----


async def test_a_deactivated_managers_open_session_ends_and_their_login_is_refused(client):
    admin, _coops, managers, _gates = await world()
    await log_in_client(client, managers[0].email)
    assert (await client.get("/manage/cooperative")).status_code == 200
    await services.set_active(user=admin, staff_id=managers[0].id, active=False)
    after = await client.get("/manage/cooperative")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    token = await csrf_of(client)
    refused = await client.post(
        "/login",
        data={"email": managers[0].email, "password": "correct horse", "csrf_token": token},
    )
    assert refused.status_code == 400 and "Wrong email or password." in refused.text
    assert "deactivated" not in refused.text.lower()


async def test_a_deactivated_partner_staff_session_ends_at_the_gate(client):
    _admin, _coops, managers, gates = await world()
    await log_in_client(client, gates[0].email)
    assert (await client.get("/partner")).status_code == 200
    await services.set_active(user=managers[0], staff_id=gates[0].id, active=False)
    assert (await client.get("/partner")).status_code == 303


async def test_a_deactivated_account_gets_no_reset_link(client):
    admin, _coops, managers, _gates = await world()
    await services.set_active(user=admin, staff_id=managers[0].id, active=False)
    token = await csrf_of(client, "/password/forgot")
    sent = await client.post(
        "/password/forgot", data={"email": managers[0].email, "csrf_token": token}
    )
    assert sent.status_code == 303
    assert not await Notification.exists()


async def test_the_admin_deactivates_and_reactivates_from_the_staff_page(client):
    _admin, _coops, managers, _gates = await world()
    token = await log_in_client(client, "root@farm.example")
    page = await client.get("/admin/staff")
    assert page.status_code == 200 and managers[1].email in page.text
    r = await client.post(
        f"/admin/staff/{managers[1].id}/active", data={"active": "0", "csrf_token": token}
    )
    assert r.status_code == 303 and not (await User.get(id=managers[1].id)).is_active
    r = await client.post(
        f"/admin/staff/{managers[1].id}/active", data={"active": "1", "csrf_token": token}
    )
    assert r.status_code == 303 and (await User.get(id=managers[1].id)).is_active


async def test_a_deactivation_without_the_csrf_token_is_refused(client):
    _admin, _coops, managers, _gates = await world()
    await log_in_client(client, "root@farm.example")
    r = await client.post(f"/admin/staff/{managers[1].id}/active", data={"active": "0"})
    assert r.status_code == 403 and (await User.get(id=managers[1].id)).is_active


async def test_the_admin_creates_a_cooperative_and_a_bad_one_is_refused_with_422(client):
    await staff("root@farm.example", Role.ADMIN)
    token = await log_in_client(client, "root@farm.example")
    bad = await client.post(
        "/admin/cooperatives/new", data={**PROFILE, "name": "", "csrf_token": token}
    )
    assert bad.status_code == 422 and "This field is required." in bad.text
    assert "Qingshan Cooperative" in bad.text  # what was typed stays
    assert not await Cooperative.exists()
    made = await client.post("/admin/cooperatives/new", data={**PROFILE, "csrf_token": token})
    assert made.status_code == 303
    coop = await Cooperative.get(name="青山村合作社")
    assert made.headers["location"] == f"/admin/cooperatives/{coop.id}?done=created"
    listed = await client.get("/admin?q=Qingshan")
    assert listed.status_code == 200 and f"/admin/cooperatives/{coop.id}" in listed.text


async def test_the_cooperative_list_is_paged(client):
    await staff("root@farm.example", Role.ADMIN)
    await Cooperative.bulk_create([Cooperative(name=f"合作社{n:03d}") for n in range(60)])
    await log_in_client(client, "root@farm.example")
    first = await client.get("/admin")
    second = await client.get("/admin?page=2")
    assert "合作社000" in first.text and "合作社059" not in first.text
    assert "合作社059" in second.text and "合作社000" not in second.text


async def test_an_invited_manager_opens_the_link_joins_and_lands_in_their_console(client):
    _admin, coops, _managers, _gates = await world()
    token = await log_in_client(client, "root@farm.example")
    r = await client.post(
        f"/admin/cooperatives/{coops[1].id}/invite",
        data={"email": "New@Coop.example", "name": "", "csrf_token": token},
    )
    assert r.status_code == 303
    mail = await Notification.get(to="new@coop.example")
    link = LINK_RE.search(mail.body)
    assert link and mail.body.startswith("Hello") and "合作社2" in mail.subject
    client.cookies.clear()
    client.cookies.set("lang", "en")
    path = f"/invitation/{link.group(1)}"
    page = await client.get(path)
    assert page.status_code == 200 and "new@coop.example" in page.text
    token = await csrf_of(client, path)
    short = await client.post(
        path, data={"name": "新经理", "password": "short", "csrf_token": token}
    )
    assert short.status_code == 422
    joined = await client.post(
        path, data={"name": "新经理", "password": "a good password", "csrf_token": token}
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/manage"
    assert "合作社2" in (await client.get("/manage/cooperative")).text
    assert (await client.get(path)).status_code == 404  # spent


async def test_the_cooperative_page_sends_a_pending_invitation_again(client):
    _admin, coops, _managers, _gates = await world()
    token = await log_in_client(client, "root@farm.example")
    here = f"/admin/cooperatives/{coops[0].id}"
    data = {"email": "new@coop.example", "name": "", "csrf_token": token}
    assert (await client.post(f"{here}/invite", data=data)).status_code == 303
    page = await client.get(here)
    assert "Invited, not joined yet" in page.text and "Send the invitation again" in page.text
    assert (await client.post(f"{here}/invite", data=data)).status_code == 303
    first, second = await Notification.filter(to="new@coop.example").order_by("id")
    old = LINK_RE.search(first.body).group(1)
    new = LINK_RE.search(second.body).group(1)
    client.cookies.clear()
    assert (await client.get(f"/invitation/{old}")).status_code == 404
    assert (await client.get(f"/invitation/{new}")).status_code == 200


async def test_a_manager_edits_their_profile_and_a_bad_edit_changes_nothing(client):
    _admin, coops, managers, _gates = await world()
    token = await log_in_client(client, managers[0].email)
    bad = await client.post(
        "/manage/cooperative", data={**PROFILE, "phone": "x" * 40, "csrf_token": token}
    )
    assert bad.status_code == 422
    assert (await Cooperative.get(id=coops[0].id)).name == "合作社1"
    ok = await client.post("/manage/cooperative", data={**PROFILE, "csrf_token": token})
    assert ok.status_code == 303
    assert (await Cooperative.get(id=coops[0].id)).village == "青山村"
    assert (await Cooperative.get(id=coops[1].id)).name == "合作社2"


async def test_a_manager_invites_a_manager_to_their_own_cooperative(client):
    _admin, coops, managers, _gates = await world()
    token = await log_in_client(client, managers[0].email)
    r = await client.post(
        "/manage/cooperative/invite",
        data={"email": "b@coop.example", "name": "B", "csrf_token": token},
    )
    assert r.status_code == 303
    assert (await User.get(email="b@coop.example")).cooperative_id == coops[0].id
    assert await Notification.exists(to="b@coop.example")


async def test_another_cooperatives_manager_gets_404_on_its_records(client):
    _admin, coops, managers, gates = await world()
    token = await log_in_client(client, managers[1].email)
    for target in (managers[0], gates[0]):
        r = await client.post(
            f"/manage/staff/{target.id}/active", data={"active": "0", "csrf_token": token}
        )
        assert r.status_code == 404
        assert (await User.get(id=target.id)).is_active
    for path in ("/admin", f"/admin/cooperatives/{coops[0].id}", "/admin/staff"):
        assert (await client.get(path)).status_code == 404
    page = await client.get("/manage/staff")
    assert managers[0].email not in page.text and gates[0].email not in page.text
    assert gates[1].email in page.text


async def test_customers_and_visitors_cannot_reach_admin(client):
    await world()
    for path in ("/admin", "/admin/staff", "/admin/cooperatives/new"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await make_customer()
    token = await log_in_client(client, "wang@example.com")
    for path in (
        "/admin",
        "/admin/staff",
        "/admin/cooperatives/new",
        "/manage/staff",
        "/manage/cooperative",
    ):
        assert (await client.get(path)).status_code == 404
    r = await client.post("/admin/cooperatives/new", data={**PROFILE, "csrf_token": token})
    assert r.status_code == 404 and await Cooperative.all().count() == 2


async def test_farm_create_user_makes_the_first_admin_who_reaches_admin(client, settings):
    made = await asyncio.to_thread(
        farm, settings, "create-user", "--role", "admin", "--email", "root@farm.example", "--name", "Root",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (await User.get(email="root@farm.example")).role == Role.ADMIN
    await log_in_client(client, "root@farm.example")
    assert (await client.get("/admin")).status_code == 200


async def test_the_plan_page_shows_the_cooperatives_profile_to_customers(client):
    from tests.support import make_season

    plan = await make_season()
    season = await plan.season
    await Cooperative.filter(id=season.cooperative_id).update(
        village="青山村", phone="0551-6543 2100", description="山里的稻田。"
    )
    page = await client.get(f"/plans/{plan.id}")
    assert page.status_code == 200
    assert "Test cooperative" in page.text and "青山村" in page.text and "山里的稻田。" in page.text
