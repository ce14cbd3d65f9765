"""What a mail says, rendered from templates: one HTML layout and one plain-text layout
(templates/mail/base.html, base.txt) around each kind's content (templates/mail/<kind>.html
and <kind>.txt), in the current language.

Adding a kind is one function and one template pair: the function (beside the service that
queues the mail) returns `Letter(kind, subject, context)`; the templates read the context.
In the HTML, templates/mail/_parts.html's `action(url, label)` draws a link as a button, and
`qr(text)` gives the `cid:` of an inline QR code image (the mailer draws it as a PNG). User
content is escaped by Jinja's autoescape in the HTML; the plain text is not HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from farm import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
PLAIN = "plain"  # a (subject, body) pair as services wrote mail before templates: body as is


@dataclass(frozen=True)
class Letter:
    kind: str  # templates/mail/<kind>.html and .txt
    subject: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Composed:
    kind: str
    subject: str
    text: str
    html: str
    images: dict[str, str]  # cid -> QR text


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def as_letter(rendered: Letter | tuple[str, str]) -> Letter:
    """A Letter, or the (subject, body) pair older code returns: shown in the same layout."""
    if isinstance(rendered, Letter):
        return rendered
    subject, body = rendered
    return Letter(PLAIN, subject, {"body": body})


def compose(letter: Letter, *, unsubscribe: str = "") -> Composed:
    """The letter's plain text and HTML, in the current language; with an unsubscribe link
    in both footers when one is given (bulk mail)."""
    images: dict[str, str] = {}

    def qr(text: str) -> str:
        cid = f"qr-{len(images) + 1}"
        images[cid] = text
        return f"cid:{cid}"

    context = {
        **letter.context,
        "subject": letter.subject,
        "unsubscribe": unsubscribe,
        "lang": "zh-CN" if i18n.current_language() == "zh_CN" else "en",
    }
    html = _env.get_template(f"mail/{letter.kind}.html").render(context, qr=qr)
    text = _env.get_template(f"mail/{letter.kind}.txt").render(context)
    return Composed(letter.kind, letter.subject, text.strip() + "\n", html, images)
