import re
from datetime import UTC, datetime

from farm.accounts.models import Attempt, User
from farm.mail import OutboxMailer
from farm.notifications.models import Notification
from farm.notifications.services import deliver_pending
from tests.support import csrf_of, log_in_client, make_customer


async def test_sign_up_creates_a_customer_logs_them_in_and_hashes_the_password(client):
    token = await csrf_of(client, "/signup")
    response = await client.post(
        "/signup",
        data={
            "name": "王小明",
            "email": "Wang@Example.com",
            "password": "correct horse",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"
    user = await User.get(email="wang@example.com")
    assert user.role == "customer" and user.password_hash.startswith("$argon2")
    assert (await client.get("/account")).status_code == 200


async def test_bad_sign_up_shows_each_problem_in_chinese_with_422_and_writes_nothing(client):
    token = await csrf_of(client, "/signup")
    response = await client.post(
        "/signup", data={"name": "", "email": "nope", "password": "short", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "请输入有效的电子邮件地址" in response.text or "邮箱" in response.text
    assert response.text.count('class="error"') >= 3
    assert await User.all().count() == 0


async def test_bad_sign_up_speaks_english_to_an_english_browser(client):
    token = await csrf_of(client, "/signup")
    response = await client.post(
        "/signup",
        data={"name": "Wang", "email": "nope", "password": "long enough", "csrf_token": token},
        headers={"accept-language": "en-GB,en;q=0.9"},
    )
    assert response.status_code == 422
    assert "Enter a valid email address." in response.text


async def test_a_second_account_with_the_same_email_is_not_made_and_the_page_says_nothing(
    client,
):
    await make_customer("wang@example.com")
    token = await csrf_of(client, "/signup")
    response = await client.post(
        "/signup",
        data={
            "name": "x",
            "email": "WANG@example.com",
            "password": "long enough",
            "csrf_token": token,
        },
    )
    # The same answer as a sign-up that needs its address confirmed: nothing to probe.
    assert response.status_code == 303 and response.headers["location"] == "/signup/sent"
    assert await User.all().count() == 1


async def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(client):
    await client.get("/signup")
    response = await client.post(
        "/signup", data={"name": "x", "email": "x@example.com", "password": "long enough"}
    )
    assert response.status_code == 403
    assert await User.all().count() == 0


async def test_log_in_and_out(client):
    await make_customer("wang@example.com")
    token = await log_in_client(client, "wang@example.com")
    assert (await client.get("/account")).status_code == 200
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    response = await client.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_wrong_password_is_refused_and_repeated_failures_are_slowed_down(client):
    await make_customer("wang@example.com")
    token = await csrf_of(client)
    statuses = []
    for _ in range(6):
        r = await client.post(
            "/login",
            data={"email": "wang@example.com", "password": "wrong!!!", "csrf_token": token},
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    # even the right password must wait now
    r = await client.post(
        "/login",
        data={"email": "wang@example.com", "password": "correct horse", "csrf_token": token},
    )
    assert r.status_code == 429
    # every guess at the account counts, the refused ones too
    assert await Attempt.filter(kind="login-account", key="wang@example.com").count() == 7


async def test_a_forgotten_password_is_reset_by_the_emailed_link_which_works_once(client, app):
    user = await make_customer("wang@example.com")
    token = await csrf_of(client, "/password/forgot")
    r = await client.post(
        "/password/forgot", data={"email": "wang@example.com", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == "/password/forgot?sent=1"
    mailer: OutboxMailer = app.state.mailer
    assert mailer.messages() == []  # queued, not sent in the request
    assert await deliver_pending(mailer=mailer, now=datetime.now(UTC)) == 1
    [mail] = mailer.messages(to="wang@example.com")
    assert "重置" in mail.subject  # the customer's language
    link = re.search(r"http://\S+/password/reset/(\S+)", mail.body)
    assert link
    path = f"/password/reset/{link.group(1)}"
    assert (await client.get(path)).status_code == 200
    r = await client.post(path, data={"password": "a brand new one", "csrf_token": token})
    token = await csrf_of(client, "/")
    assert r.status_code == 303
    await user.refresh_from_db()
    assert (await client.get(path)).status_code == 404  # used once
    await client.post("/logout", data={"csrf_token": token})
    await log_in_client(client, "wang@example.com", "a brand new one")


async def test_asking_a_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client, app):
    token = await csrf_of(client, "/password/forgot")
    r = await client.post(
        "/password/forgot", data={"email": "ghost@example.com", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == "/password/forgot?sent=1"
    assert app.state.mailer.messages() == []
    assert await Notification.all().count() == 0
    sent = (await client.get(r.headers["location"])).text
    assert "如果该邮箱已注册，我们已向其发送设置新密码的链接" in sent


async def test_a_reset_asked_for_a_malformed_address_is_refused_beside_it(client, app):
    token = await csrf_of(client, "/password/forgot")
    r = await client.post("/password/forgot", data={"email": "wang@", "csrf_token": token})
    assert r.status_code == 422
    assert "请输入有效的邮箱地址。" in r.text and 'value="wang@"' in r.text
    assert app.state.mailer.messages() == []


async def test_a_login_without_a_valid_email_or_password_is_refused_and_counts_no_attempt(client):
    await make_customer("wang@example.com")
    token = await csrf_of(client)
    for data, field in (({"email": "wang@", "password": "x"}, "email"),
                        ({"email": "wang@example.com", "password": ""}, "password")):  # fmt: skip
        r = await client.post("/login", data={**data, "csrf_token": token})
        assert r.status_code == 422
        assert f'aria-describedby="err-{field}"' in r.text
    assert await Attempt.all().count() == 0


async def test_a_forged_reset_token_is_a_404(client):
    assert (await client.get("/password/reset/forged.token.value")).status_code == 404


async def test_the_language_switch_sets_a_cookie_and_the_page_follows_it(client):
    r = await client.get("/lang/en?next=/login")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = await client.get("/login")
    assert "Forgot your password?" in page.text
    await client.get("/lang/zh_CN?next=/login")
    assert "忘记密码" in (await client.get("/login")).text


async def test_the_language_switch_never_redirects_off_site(client):
    r = await client.get("/lang/en?next=//evil.example.com/")
    assert r.headers["location"] == "/"


async def test_each_page_shows_the_csrf_token_masked_afresh_and_every_mask_of_it_is_accepted(
    client,
):
    """Against BREACH: a compressed page must not repeat the same secret from page to page."""
    first = await csrf_of(client, "/signup")
    second = await csrf_of(client, "/signup")
    assert first != second
    middle = len(second) // 2  # a middle character: the last may carry only padding bits
    tampered = second[:middle] + ("A" if second[middle] != "A" else "B") + second[middle + 1 :]
    form = {"name": "王小明", "email": "mask@example.com", "password": "correct horse"}
    refused = await client.post("/signup", data={**form, "csrf_token": tampered})
    assert refused.status_code == 403
    accepted = await client.post("/signup", data={**form, "csrf_token": first})
    assert accepted.status_code == 303
