"""The gateway's requests, checked against the `stripe` library's own generated types
(stripe.params, 16.1.0, API version 2026-10-28.endive): every parameter it sends to
PaymentIntent create / confirm / retrieve is a key the API version knows, nested keys
included, and named values are among the documented literals. The requests are recorded at the
HTTP layer, after the library encoded them, by a mock transport: nothing leaves the machine."""

from __future__ import annotations

import re
import sys
import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
)

from farm.payments.gateway import (
    STRIPE_API_VERSION,
    StripeGateway,
    confirm_params,
    create_params,
)
from farm.settings import Settings

PI = "pi_3Contract000000000000001"
SECRET = f"{PI}_secret_abc"


def intent_json(status="requires_payment_method", **extra):
    """A PaymentIntent as Stripe answers it (the fields the gateway reads)."""
    return {
        "id": PI, "object": "payment_intent", "amount": 58000, "currency": "cny",
        "client_secret": SECRET, "status": status, "payment_method_types": ["card"],
        "latest_charge": None, "last_payment_error": None, "next_action": None, **extra,
    }  # fmt: skip


CARD_CHARGE = {
    "id": "ch_1",
    "object": "charge",
    "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
}
ALIPAY_ACTION = {
    "type": "alipay_handle_redirect",
    "alipay_handle_redirect": {
        "native_data": None, "native_url": None,
        "return_url": "http://farm.test/checkout/1/return",
        "url": "https://hooks.stripe.com/redirect/authenticate/src_1?client_secret=src_x",
    },
}  # fmt: skip
WECHAT_ACTION = {
    "type": "wechat_pay_display_qr_code",
    "wechat_pay_display_qr_code": {
        "data": "weixin://wxpay/bizpayurl?pr=abc", "hosted_instructions_url": "https://pay.stripe.com/x",
        "image_data_url": "data:image/png;base64,AAAA", "image_url_png": "https://q/x.png",
        "image_url_svg": "https://q/x.svg",
    },
}  # fmt: skip
THREE_DS_ACTION = {
    "type": "redirect_to_url",
    "redirect_to_url": {
        "url": "https://hooks.stripe.com/3d_secure_2/hosted?x=1",
        "return_url": "http://farm.test/checkout/1/return",
    },
}
INSUFFICIENT = {
    "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.", "param": "",
}  # fmt: skip


class Recorder:
    """Answers like Stripe and keeps every request: (method, path, params, headers)."""

    def __init__(self, confirm_answer):
        self.calls: list[tuple[str, str, list[tuple[str, str]], httpx.Headers]] = []
        self.confirm_answer = confirm_answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        if request.method == "GET":
            params = parse_qsl(url.query, keep_blank_values=True)
        else:
            params = parse_qsl(request.content.decode(), keep_blank_values=True)
        self.calls.append((request.method, url.path, params, request.headers))
        if url.path.endswith("/confirm"):
            status, body = self.confirm_answer
            return httpx.Response(status, json=body)
        if request.method == "GET" and self.confirm_answer[0] == 402:
            error = {**INSUFFICIENT, "payment_method": {"type": "card"}}
            return httpx.Response(200, json=intent_json(last_payment_error=error))
        return httpx.Response(200, json=intent_json())


@pytest.fixture
def recorded():
    """A gateway whose HTTP client is a recorder; the answer to confirm is set per test."""

    def make(confirm_answer):
        gateway = StripeGateway(
            Settings(stripe_api_base="http://stripe.test", base_url="http://farm.test")
        )
        recorder = Recorder(confirm_answer)
        gateway._http._client_async = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        return gateway, recorder

    return make


def _path(key: str) -> list[str]:
    """'payment_method_options[wechat_pay][client]' -> ['payment_method_options', ...]."""
    head, _, rest = key.partition("[")
    return [head, *re.findall(r"([^\[\]]+)\]", "[" + rest)] if rest else [head]


def _text(annotation) -> str:
    return re.sub(r"ForwardRef\('([^']*)'\)|ForwardRef\(\"([^\"]*)\"\)", r"\1\2", repr(annotation))


def check_against(typed_dict, key: str, value: str) -> None:
    """The key path exists in the TypedDict (following nested TypedDicts), and a value named
    by a Literal is one of its literals."""
    module = sys.modules[typed_dict.__module__]
    current, path = typed_dict, _path(key)
    for depth, part in enumerate(path):
        if part.isdigit():  # a list index
            continue
        assert part in current.__annotations__, f"{key}: {part!r} not in {current.__name__}"
        text = _text(current.__annotations__[part])
        if "Dict[str, str]" in text:  # metadata: free keys
            return
        nested = [
            getattr(module, name)
            for name in re.findall(r"\b([A-Z]\w+Params\w*)\b", text)
            if isinstance(getattr(module, name, None), type)
        ]
        remaining = [p for p in path[depth + 1 :] if not p.isdigit()]
        if remaining:
            assert nested, f"{key}: {part!r} takes no nested keys ({text[:80]})"
            current = nested[0]
        else:
            literals = re.findall(r"Literal\[([^\]]*)\]", text)
            if literals and value:
                allowed = {v.strip(" '\"") for group in literals for v in group.split(",")}
                assert value in allowed, f"{key}={value!r} is not one of its literals"


def test_the_checker_itself_refuses_what_the_types_do_not_know():
    """The checker is not vacuous: the removed parameter and a misspelled literal fail."""
    with pytest.raises(AssertionError):
        check_against(PaymentIntentCreateParams, "payment_method_types[0]", "card")
    with pytest.raises(AssertionError):
        check_against(
            PaymentIntentConfirmParams, "payment_method_options[wechat_pay][client]", "mobile"
        )
    with pytest.raises(AssertionError):
        check_against(PaymentIntentConfirmParams, "payment_method_data[type]", "wechatpay")
    check_against(PaymentIntentConfirmParams, "payment_method_options[wechat_pay][client]", "web")


@pytest.mark.parametrize("method", ["card", "alipay", "wechat_pay"])
def test_the_parameters_built_for_each_method_are_keys_of_the_stripe_types(method):
    def flatten(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from flatten(f"{prefix}[{k}]" if prefix else k, v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from flatten(f"{prefix}[{i}]", v)
        else:
            yield prefix, str(value)

    create = create_params(
        amount_fen=58000, method=method, description="Plot T01 · Test season",
        metadata={"subscription_id": "1"},
    )  # fmt: skip
    for key, value in flatten("", create):
        check_against(PaymentIntentCreateParams, key, value)
    confirm = confirm_params(method=method, return_url="http://x/r", payment_method="pm_1")
    for key, value in flatten("", confirm):
        check_against(PaymentIntentConfirmParams, key, value)
    assert confirm["return_url"] == "http://x/r"


@pytest.mark.parametrize(
    ("method", "answer", "expected_keys"),
    [
        ("card", (200, intent_json("succeeded", latest_charge=CARD_CHARGE)),
         {"payment_method", "return_url"}),
        ("alipay", (200, intent_json("requires_action", next_action=ALIPAY_ACTION)),
         {"payment_method_data[type]", "return_url"}),
        ("wechat_pay", (200, intent_json("requires_action", next_action=WECHAT_ACTION)),
         {"payment_method_data[type]", "payment_method_options[wechat_pay][client]",
          "return_url"}),
    ],
)  # fmt: skip
async def test_what_the_gateway_sends_to_stripe_is_what_the_pinned_api_version_accepts(
    recorded, method, answer, expected_keys
):
    gateway, recorder = recorded(answer)
    try:
        created = await gateway.create_intent(
            amount_fen=58000, method=method, description="Plot T01 · Test season",
            metadata={"subscription_id": "7"}, idempotency_key=str(uuid.uuid4()),
        )  # fmt: skip
        await gateway.confirm(
            intent_id=created.id, method=method, payment_method="pm_card_visa",
            return_url="http://farm.test/checkout/7/return", idempotency_key=str(uuid.uuid4()),
        )  # fmt: skip
        await gateway.retrieve(created.id)
    finally:
        await gateway.aclose()
    kinds = {
        "/v1/payment_intents": PaymentIntentCreateParams,
        f"/v1/payment_intents/{PI}/confirm": PaymentIntentConfirmParams,
        f"/v1/payment_intents/{PI}": PaymentIntentRetrieveParams,
    }
    seen = set()
    for verb, path, params, headers in recorder.calls:
        assert headers["stripe-version"] == STRIPE_API_VERSION
        if verb == "POST":  # a fresh random key per attempt, the same on the library's retries
            assert uuid.UUID(headers["idempotency-key"])
        for key, value in params:
            check_against(kinds[path], key, value)
        seen.add(path)
        if path.endswith("/confirm"):
            assert expected_keys <= {k for k, _ in params}
            assert ("return_url", "http://farm.test/checkout/7/return") in params
        if path == "/v1/payment_intents":
            sent = dict(params)
            assert sent["currency"] == "cny" and sent["amount"] == "58000"
            assert sent["allowed_payment_method_types[0]"] == method
            assert sent["metadata[subscription_id]"] == "7" and sent["description"]
            assert not any(k.startswith("automatic_payment_methods") for k, _ in params)
    assert seen == set(kinds)


async def test_a_declined_card_comes_back_with_its_decline_code_not_as_an_exception(recorded):
    gateway, _recorder = recorded((402, {"error": INSUFFICIENT}))
    try:
        intent = await gateway.confirm(
            intent_id=PI, method="card", payment_method="pm_card_chargeDeclinedInsufficientFunds",
            return_url="http://farm.test/checkout/7/return", idempotency_key=str(uuid.uuid4()),
        )  # fmt: skip
    finally:
        await gateway.aclose()
    assert (intent.error_code, intent.decline_code) == ("card_declined", "insufficient_funds")


@pytest.mark.parametrize(
    ("action", "kind", "url", "qr"),
    [
        (ALIPAY_ACTION, "alipay_handle_redirect", "https://hooks.stripe.com/redirect/", ""),
        (THREE_DS_ACTION, "redirect_to_url", "https://hooks.stripe.com/3d_secure_2/", ""),
        (WECHAT_ACTION, "wechat_pay_display_qr_code", "https://pay.stripe.com/",
         "weixin://wxpay/bizpayurl?pr=abc"),
    ],
)  # fmt: skip
async def test_each_next_action_is_understood(recorded, action, kind, url, qr):
    gateway, _ = recorded((200, intent_json("requires_action", next_action=action)))
    try:
        intent = await gateway.confirm(
            intent_id=PI, method="alipay", return_url="http://farm.test/r",
            idempotency_key=str(uuid.uuid4()),
        )  # fmt: skip
    finally:
        await gateway.aclose()
    assert intent.status == "requires_action" and intent.next_action is not None
    assert intent.next_action.type == kind and intent.next_action.url.startswith(url)
    assert intent.next_action.qr_data == qr


def test_the_webhook_event_names_the_charge_by_id_so_last4_is_left_for_a_fetch():
    """Events are not expanded: latest_charge is an id (the service then fetches the intent)."""
    from farm.payments.gateway import _intent

    parsed = _intent(intent_json("succeeded", latest_charge="ch_1"))
    assert parsed.card_last4 == "" and parsed.status == "succeeded"
    expanded = _intent(intent_json("succeeded", latest_charge=CARD_CHARGE))
    assert expanded.card_last4 == "4242"


def test_the_api_version_is_the_one_the_library_was_generated_for():
    import stripe

    assert STRIPE_API_VERSION == stripe.api_version == "2026-10-28.endive"


def test_an_intent_stripe_narrowed_to_no_method_is_seen_as_not_that_method():
    """allowed_payment_method_types filters silently: a method the account has not enabled
    leaves payment_method_types empty, which the service then refuses as unavailable."""
    from farm.payments.gateway import _intent

    assert _intent(intent_json(payment_method_types=[])).method == ""
    assert _intent(intent_json(payment_method_types=["alipay"])).method == "alipay"
