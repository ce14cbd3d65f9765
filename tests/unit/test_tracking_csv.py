"""Reading a tracking CSV: encodings, headers, every bad line with its number, limits."""

from farm import forms
from farm.i18n import use_language
from farm.shipments import tracking_csv
from farm.shipments.tracking_csv import LineProblem, TrackingLine, parse


def problems_of(text: str) -> list[tuple[int, str]]:
    lines, problems = parse(text.encode())
    return [(p.line, p.problem) for p in problems]


def test_utf8_with_a_bom_and_an_english_header_is_read_from_line_two():
    data = "\ufeffshipment,courier,tracking\r\nS000001,顺丰速运,SF1234567890\r\n".encode()
    assert parse(data) == ([TrackingLine(2, 1, "顺丰速运", "SF1234567890")], [])


def test_a_chinese_header_is_accepted_in_utf8_and_in_gbk_from_excel():
    text = "发货单号,快递公司,运单号\r\nS000002,中通快递,ZT-123456\r\n"
    expected = ([TrackingLine(2, 2, "中通快递", "ZT-123456")], [])
    assert parse(text.encode("utf-8")) == expected
    assert parse(text.encode("gbk")) == expected


def test_the_header_the_batch_page_describes_is_accepted_in_both_languages():
    """The page says "包裹编号、快递公司、快递单号" (and in English "shipment number, courier,
    tracking number"): a file with exactly that header is read from line two."""
    for header in ("包裹编号,快递公司,快递单号", "Shipment number,Courier,Tracking number",
                   "Shipment No.,Courier,Tracking No."):  # fmt: skip
        text = f"{header}\r\nS000003,EMS,E12345678CN\r\n"
        for encoding in ("utf-8-sig", "utf-8", "gbk"):
            assert parse(text.encode(encoding)) == (
                [TrackingLine(2, 3, "EMS", "E12345678CN")],
                [],
            ), (header, encoding)


def test_a_file_without_header_starts_at_line_one_and_numbers_may_be_typed_loosely():
    lines, problems = parse(b"s7,EMS,E12345678CN\n 000008 ,EMS,E12345679CN\n")
    assert problems == []
    assert [(line.line, line.shipment_id) for line in lines] == [(1, 7), (2, 8)]


def test_blank_lines_and_trailing_empty_cells_are_skipped_but_lines_keep_their_numbers():
    lines, problems = parse(
        b"shipment,courier,tracking,,\n\nS1,EMS,E12345678CN,,\n,,,\nS2,EMS,E99\n"
    )
    assert [line.line for line in lines] == [3]
    assert [(p.line, p.problem) for p in problems] == [(5, "tracking_invalid")]


def test_every_bad_line_is_reported_with_its_line_number():
    text = "\n".join(
        [
            "shipment,courier,tracking",
            "S1,顺丰,SF1234567890",  # good
            "X12,顺丰,SF1234567891",  # not a number
            "S3,,SF1234567892",  # no courier
            "S4," + "快" * 41 + ",SF1234567893",  # courier too long
            "S5,顺丰,SF 123456",  # a space
            "S6,顺丰,ＳＦ1234567",  # full-width letters are not ASCII
            "S7,顺丰",  # a column missing
            "S8,顺丰,SF1,extra",  # one too many
            "S9,顺丰\x07,SF1234567890",  # a control character
        ]
    )
    assert problems_of(text) == [
        (3, "number"), (4, "courier_required"), (5, "courier_too_long"),
        (6, "tracking_invalid"), (7, "tracking_invalid"), (8, "columns"), (9, "columns"),
        (10, "courier_invalid"),
    ]  # fmt: skip


def test_the_same_shipment_twice_is_a_duplicate_pointing_at_its_first_line():
    lines, problems = parse(b"S000001,EMS,E12345678CN\nS2,EMS,E12345679CN\ns1,SF,SF1234567890\n")
    assert problems == [LineProblem(3, "duplicate", "s1", other_line=1)]
    assert [line.shipment_id for line in lines] == [1, 2]


def test_a_header_is_only_recognised_on_the_first_line():
    assert problems_of("S1,EMS,E12345678CN\nshipment,courier,tracking\n") == [(2, "number")]


def code_of(reader, value: str) -> str | None:
    try:
        reader(value)
    except forms.Problem as problem:
        return problem.code
    return None


def test_tracking_numbers_are_6_to_30_ascii_letters_digits_or_hyphens():
    assert tracking_csv.tracking_number(" AAAAAA ") == "AAAAAA"
    assert code_of(tracking_csv.tracking_number, "A-1" * 10) is None
    for bad in ("A" * 5, "A" * 31, "AB_123456", "AB.123456", "１２３４５６７", ""):
        assert code_of(tracking_csv.tracking_number, bad) == "tracking_invalid", bad


def test_couriers_are_required_and_at_most_40_characters():
    assert tracking_csv.courier_name(" " + "快" * 40) == "快" * 40
    assert code_of(tracking_csv.courier_name, "快" * 41) == "courier_too_long"
    assert code_of(tracking_csv.courier_name, "   ") == "courier_required"


def test_a_line_with_a_bad_courier_says_why_in_the_readers_words():
    _lines, [problem] = parse(b"S1,,SF1234567890\n")
    assert (problem.line, problem.problem, problem.message) == (
        1,
        "courier_required",
        "请填写快递公司。",
    )
    with use_language("en"):
        _lines, [problem] = parse(b"S1,,SF1234567890\n")
    assert problem.message == "Enter the courier."
