"""A form without files is read by the standard library's parser (farm.web._posted_form):
the same fields, decoded the same way, as Starlette's own parser gives. A table's fields named
by a row's id are read by farm.web.posted_by_id."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from farm.web import MAX_FORM_FIELDS, PLAIN_FORM_BYTES, _posted_form, posted_by_id

URLENCODED = b"application/x-www-form-urlencoded"


def _request(body: bytes, content_type: bytes = URLENCODED) -> Request:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    # "app": as in a served request, where Starlette's parser answers 400 rather than raising
    scope = {"type": "http", "method": "POST", "headers": headers, "app": None}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


BODIES = [
    b"csrf_token=abc%3D%3D&plot_id=4521",
    b"name=%E6%9D%8E%E9%95%BF%E6%A0%B9+%E5%AE%B6&note=a+b%2Bc",  # UTF-8 escapes, + as space
    b"empty=&bare&plot=1&plot=2&plot=3",  # blank values kept, repeated names in order
    b"a=1" + b"&" * 1000 + b"b=2&",  # empty pieces are not fields
    "raw=\u674e".encode(),  # raw (unescaped) UTF-8 bytes, as Starlette reads them: Latin-1
    b"",
]


@pytest.mark.parametrize("body", BODIES)
async def test_a_plain_form_reads_the_same_fields_as_starlettes_parser(body: bytes) -> None:
    ours = await _posted_form(_request(body), max_files=0)
    theirs = await _request(body).form(max_fields=MAX_FORM_FIELDS)
    assert list(ours.multi_items()) == list(theirs.multi_items())


async def test_a_plain_form_with_too_many_fields_is_refused_with_400() -> None:
    body = "&".join(f"f{i}=1" for i in range(MAX_FORM_FIELDS + 1)).encode()
    with pytest.raises(HTTPException) as refused:
        await _posted_form(_request(body), max_files=0)
    assert refused.value.status_code == 400


async def test_a_form_at_the_field_limit_is_read_whole() -> None:
    body = "&".join(f"f{i}=1" for i in range(MAX_FORM_FIELDS)).encode()
    form = await _posted_form(_request(body), max_files=0)
    assert len(form.multi_items()) == MAX_FORM_FIELDS


async def test_a_content_type_with_a_charset_is_still_a_plain_form() -> None:
    form = await _posted_form(_request(b"a=1", URLENCODED + b"; charset=UTF-8"), max_files=0)
    assert form["a"] == "1"


PIECES = st.lists(
    st.tuples(
        st.text(alphabet="ab%2B+=é李;&", max_size=6), st.text(alphabet="ab%3D+é李", max_size=6)
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(pieces=PIECES)
async def test_any_plain_form_reads_as_starlette_reads_it(pieces) -> None:
    body = "&".join(f"{k}={v}" for k, v in pieces).encode()
    ours = await _posted_form(_request(body), max_files=0)
    theirs = await _request(body).form(max_fields=MAX_FORM_FIELDS)
    assert list(ours.multi_items()) == list(theirs.multi_items())


async def test_empty_pieces_do_not_count_towards_the_field_limit() -> None:
    body = "&&".join(f"f{i}=1" for i in range(MAX_FORM_FIELDS)).encode() + b"&"
    form = await _posted_form(_request(body), max_files=0)
    assert len(form.multi_items()) == MAX_FORM_FIELDS


async def test_a_large_form_is_left_to_starlettes_parser_which_refuses_a_field_over_1_mb() -> None:
    body = b"a=" + b"x" * (1024 * 1024 + 1)
    assert len(body) > PLAIN_FORM_BYTES
    with pytest.raises(HTTPException) as refused:
        await _posted_form(_request(body), max_files=0)
    assert refused.value.status_code == 400


async def test_a_form_of_undeclared_length_is_left_to_starlettes_parser() -> None:
    body = b"a=" + b"x" * (1024 * 1024 + 1)
    headers = [(b"content-type", URLENCODED)]
    scope = {"type": "http", "method": "POST", "headers": headers, "app": None}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    with pytest.raises(HTTPException):
        await _posted_form(Request(scope, receive), max_files=0)


def test_fields_named_by_an_id_are_read_in_the_order_sent_and_other_names_passed_over() -> None:
    form = FormData(
        [("hours_12", "3.5"), ("hours_", "1"), ("hours_x", "2"), ("hours_0", "2"),
         ("reason", "typo"), ("hours_7", ""), ("hours_12", "4"), ("land_9", "6")]
    )  # fmt: skip
    assert posted_by_id(form, "hours_") == [(12, "3.5"), (7, ""), (12, "4")]
    assert posted_by_id(form, "land_") == [(9, "6")]
