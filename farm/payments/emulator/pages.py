"""The emulator's own pages: the test authorization page that stands in for a bank's 3-D Secure
page, Alipay's login and the WeChat app, and QR codes as PNG (WeChat Pay's image_data_url)."""

from __future__ import annotations

import base64
from html import escape

from farm import qr
from farm.payments.emulator import checks
from farm.qr import qr_svg

_METHOD_NAMES = {"card": "Card (3-D Secure)", "alipay": "Alipay", "wechat_pay": "WeChat Pay"}

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }
main { max-width: 26rem; margin: 4rem auto; background: #fff; border-radius: 8px;
       padding: 2rem; box-shadow: 0 2px 8px rgba(0,0,0,.08); }
h1 { font-size: 1.2rem; margin-top: 0; }
.badge { display: inline-block; background: #ffde92; border-radius: 4px; padding: 0 .4rem;
         font-size: .8rem; font-weight: 600; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; }
dt { color: #697386; }
form { display: flex; gap: .8rem; margin-top: 1.5rem; }
button { flex: 1; padding: .7rem; border-radius: 6px; border: 1px solid #d0d5dd;
         font-size: 1rem; cursor: pointer; background: #fff; }
button.ok { background: #635bff; border-color: #635bff; color: #fff; }
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def authorize_page(*, intent_id: str, client_secret: str, amount: int, currency: str,
                   method: str, description: str | None) -> str:  # fmt: skip
    """A test page with "Authorize test payment" and "Fail test payment"."""
    rows = [
        ("Amount", f"{checks.money(amount, currency)} {currency.upper()}"),
        ("Method", _METHOD_NAMES.get(method, method)),
        ("Payment", intent_id),
    ]
    if description:
        rows.append(("For", description))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return _page(
        "Authorize test payment",
        '<span class="badge">TEST MODE</span>'
        "<h1>Authorize test payment</h1>"
        "<p>This page stands in for the customer's bank or wallet.</p>"
        f"<dl>{details}</dl>"
        f'<form method="post" action="/_emulator/authorize/{escape(intent_id)}">'
        f'<input type="hidden" name="client_secret" value="{escape(client_secret)}">'
        '<button class="fail" name="outcome" value="fail">Fail test payment</button>'
        '<button class="ok" name="outcome" value="succeed" autofocus>'
        "Authorize test payment</button>"
        "</form>",
    )


def index_page() -> str:
    """What the emulator is, at /_emulator/ (also a same-origin page for Stripe.js tests)."""
    helpers = [
        ("GET /_emulator/authorize/&lt;pi&gt;?client_secret=…", "the test authorization page"),
        ("POST /_emulator/payment_intents/&lt;pi&gt;/authorize", "outcome=succeed|fail"),
        ("POST /_emulator/refunds/&lt;re&gt;/settle", "status=succeeded|failed"),
        ("POST /_emulator/disputes/&lt;dp&gt;/close", "status=won|lost"),
        ("GET /js.stripe.com/v3/", "the Stripe.js stand-in"),
    ]
    rows = "".join(f"<dt><code>{k}</code></dt><dd>{v}</dd>" for k, v in helpers)
    return _page(
        "Stripe emulator",
        '<span class="badge">TEST MODE</span><h1>Stripe emulator</h1>'
        f'<dl>{rows}</dl><div id="card-element"></div>',
    )


def done_page(redirect_status: str) -> str:
    """Shown where there is no return_url to go back to (a WeChat QR code scanned by a phone)."""
    text = "Payment authorized" if redirect_status == "succeeded" else "Payment failed"
    return _page(text, f"<h1>{escape(text)}</h1><p>You can close this page.</p>")


def wechat_instructions_page(*, data: str, amount: int, currency: str) -> str:
    """Stripe's hosted instructions page for WeChat Pay: the QR code to scan."""
    return _page(
        "Pay with WeChat Pay",
        '<span class="badge">TEST MODE</span><h1>Scan with WeChat</h1>'
        f"<p>{escape(checks.money(amount, currency))} {escape(currency.upper())}</p>"
        f"{qr_svg(data, size_px=240)}"
        f'<p><a href="{escape(data)}">Open the test authorization page</a></p>',
    )


def qr_png(text: str) -> bytes:
    """A QR code as a PNG, quiet zone included: the site's own (farm.qr), 4 pixels a module."""
    return qr.qr_png(text, scale=4)


def qr_png_data_url(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode()


def qr_svg_document(text: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(qr_svg(text, size_px=240))
