"""An admin onboards a cooperative from a phone: creates it with its profile, invites its
manager, and the manager opens the mailed link, chooses name and password and lands in the
console, where the profile can be edited. The admin then deactivates the manager, whose open
session ends. Screenshots of each page at phone and laptop sizes, in Chinese."""

from __future__ import annotations

import re

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.land.models import Cooperative
from farm.notifications.models import Notification
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in
from tests.e2e.test_farm_stay_journey import _with_db, run

ADMIN = "root@farm.example"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    for size, label in ((PHONE, "390"), (LAPTOP, "1366")):
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"onboarding-{name}-{label}.png", full_page=True)
    page.set_viewport_size(PHONE)


def test_an_admin_onboards_a_cooperative_and_its_invited_manager_joins(
    live_server, browser_page, settings
):
    page, url = browser_page, live_server.url

    async def make_admin():
        await sign_up(email=ADMIN, name="平台管理员", password="correct horse", language="zh_CN",
                      role=Role.ADMIN)  # fmt: skip

    run(_with_db(settings, make_admin))
    log_in(page, url, ADMIN)
    page.wait_for_url(url + "/admin")
    shoot(page, "1-cooperatives")
    page.get_by_role("link", name=zh("New cooperative")).click()
    page.get_by_label(zh("Name in Chinese")).fill("青山村蔬菜合作社")
    page.get_by_label(zh("Name in English")).fill("Qingshan Vegetable Cooperative")
    page.get_by_label(zh("Village")).fill("青山村")
    page.get_by_label(zh("Province")).fill("安徽")
    page.get_by_label(zh("Contact phone")).fill("0551-6543 2100")
    page.get_by_label(
        re.compile(zh("Description shown to customers (at most 1000 characters)").split("（")[0])
    ).fill("大别山脚下的三十户人家，种水稻、茶叶和时令蔬菜。")
    shoot(page, "2-new")
    page.get_by_role("button", name=zh("Create the cooperative")).click()
    page.wait_for_url(re.compile(r"/admin/cooperatives/\d+\?done=created"))
    page.get_by_label(zh("Email")).fill("zhao@qingshan.example")
    page.get_by_role("button", name=zh("Send the invitation")).click()
    page.wait_for_url(re.compile(r"done=invited"))
    shoot(page, "3-cooperative")

    async def invitation_link():
        mail = await Notification.get(to="zhao@qingshan.example")
        return re.search(r"/invitation/\S+", mail.body).group(0)

    link = run(_with_db(settings, invitation_link))
    admin_cookies = page.context.cookies()
    page.context.clear_cookies()
    page.goto(url + link)
    page.get_by_label(zh("Your name")).fill("赵经理")
    page.get_by_label(re.compile(zh("Password (at least 8 characters)").split("（")[0])).fill(
        "a good password"
    )
    shoot(page, "4-invitation")
    page.get_by_role("button", name=zh("Join"), exact=True).click()
    page.wait_for_url(url + "/manage")
    page.goto(url + "/manage/cooperative")
    assert "青山村蔬菜合作社" in page.content()
    shoot(page, "5-manager-cooperative")
    manager_cookies = page.context.cookies()

    page.context.clear_cookies()
    page.context.add_cookies(admin_cookies)
    page.goto(url + "/admin/staff")
    row = page.get_by_role("row").filter(has_text="zhao@qingshan.example")
    row.get_by_role("button", name=zh("Deactivate")).click()
    page.wait_for_url(re.compile(r"done=deactivated"))
    shoot(page, "6-staff")

    page.context.clear_cookies()
    page.context.add_cookies(manager_cookies)
    page.goto(url + "/manage/cooperative")
    assert "/login" in page.url  # the manager's session ended

    async def state():
        coop = await Cooperative.get(name="青山村蔬菜合作社")
        zhao = await User.get(email="zhao@qingshan.example")
        return coop.village, zhao.name, zhao.cooperative_id == coop.id, zhao.is_active

    assert run(_with_db(settings, state)) == ("青山村", "赵经理", True, False)
