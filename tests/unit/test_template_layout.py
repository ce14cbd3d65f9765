"""Layout the templates owe a phone (390 px): read from the templates' text, no browser."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# A form that lays out its own fields: a row of filters, an inline button, the gate's code box.
OWN_LAYOUT = ("stack", "row", "inline", "gate-code-form")


def forms_of(text: str):
    for m in re.finditer(r"<form\b[^>]*>.*?</form>", text, re.S):
        yield m.group(0)[: m.group(0).index(">") + 1], m.group(0), text[: m.start()].count("\n") + 1


def test_every_form_with_labelled_fields_spaces_them_with_the_stack_class():
    flush = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for tag, form, line in forms_of(path.read_text(encoding="utf-8")):
            classes = re.search(r'class="([^"]*)"', tag)
            own = classes and any(c in OWN_LAYOUT for c in classes.group(1).split())
            if 'class="field' in form and not own:
                flush.append(f"{path.relative_to(TEMPLATES)}:{line}")
    assert not flush, f"fields and buttons sit flush against each other in: {flush}"


def test_the_households_list_is_labelled_lines_on_a_phone_not_five_squeezed_columns():
    text = (TEMPLATES / "fieldwork" / "households.html").read_text(encoding="utf-8")
    table = re.search(r"<table[^>]*>", text).group(0)
    assert "stacked" in table.split('class="')[1].split('"')[0]
    row = re.search(r"\{% for h in page.items %\}(.*?)</tr>", text, re.S).group(1)
    cells = re.findall(r"<td\b[^>]*>", row)
    assert len(cells) == 5 and all("data-label=" in c for c in cells[1:]), cells
