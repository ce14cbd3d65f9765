"""The emulator's Stripe.js stand-in, in a browser: createPaymentMethod makes a real pm_ and
handleNextAction follows 3-D Secure the way Stripe.js does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from farm.settings import DEV_PUBLISHABLE_KEY
from tests import emulator_support as emu


@pytest.fixture
def sc(stripe_port: int) -> Iterator[stripe.StripeClient]:
    made, http = emu.client(stripe_port)
    yield made
    http.close()


def stripe_js_page(page, port: int) -> None:
    """A page on the emulator's origin with Stripe.js and a mounted card element."""
    page.goto(f"{emu.base(port)}/_emulator/")
    page.add_script_tag(url=f"{emu.base(port)}/js.stripe.com/v3/")
    page.evaluate(
        "key => { window.s = Stripe(key); window.card = s.elements().create('card');"
        " card.mount('#card-element'); }",
        DEV_PUBLISHABLE_KEY,
    )


def made_payment_method(page, number: str) -> str:
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                               ("cvc", "123"), ("postal_code", "20000")):  # fmt: skip
        page.locator(f"#card-element input[placeholder={placeholder}]").fill(value)
    made = page.evaluate("async () => await s.createPaymentMethod({type: 'card', card: card})")
    return str(made["paymentMethod"]["id"])


def test_create_payment_method_and_a_3d_secure_redirect_through_handle_next_action(
    browser_page, stripe_port, sc
):
    page = browser_page
    stripe_js_page(page, stripe_port)
    pm = made_payment_method(page, "4000002500003155")
    assert pm.startswith("pm_")
    token = page.evaluate("async () => await s.createToken(card)")  # the older path still works
    assert token["token"]["card"]["id"].startswith("card_")
    assert sc.v1.payment_methods.retrieve(pm).card.last4 == "3155"
    back = f"{emu.base(stripe_port)}/_emulator/"
    intent = emu.card_intent(sc)
    pending = sc.v1.payment_intents.confirm(intent.id, {"payment_method": pm, "return_url": back})
    assert pending.next_action.type == "redirect_to_url"
    page.evaluate("cs => { s.handleNextAction({clientSecret: cs}); }", intent.client_secret)
    page.wait_for_url(f"**/_emulator/authorize/{intent.id}?*")
    page.get_by_role("button", name="Authorize test payment").click()
    page.wait_for_url("**/_emulator/?*redirect_status=succeeded*")
    assert sc.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_handle_next_action_opens_the_dialog_for_use_stripe_sdk(browser_page, stripe_port, sc):
    page = browser_page
    stripe_js_page(page, stripe_port)
    pm = made_payment_method(page, "4000002500003155")
    intent = emu.card_intent(sc)
    pending = sc.v1.payment_intents.confirm(intent.id, {"payment_method": pm})
    assert pending.next_action.type == "use_stripe_sdk"
    page.evaluate("cs => { window.done = s.handleNextAction({clientSecret: cs}); }",
                  intent.client_secret)  # fmt: skip
    page.get_by_role("button", name="Fail authentication").click()
    result = page.evaluate("async () => await window.done")
    assert result["error"]["code"] == "payment_intent_authentication_failure"
    assert sc.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
