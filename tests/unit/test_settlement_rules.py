from datetime import date

from farm.partners import settlement_rules as rules

PRICES = rules.PriceList(
    [
        rules.Price("scenic_ticket", date(2025, 1, 1), 3000),
        rules.Price("scenic_ticket", date(2025, 6, 1), 3500),
        rules.Price("farm_stay_night", date(2025, 3, 1), 12000),
    ]
)


def test_the_price_applying_is_the_last_one_valid_on_the_redemption_day():
    assert PRICES.on("scenic_ticket", date(2025, 5, 31)) == 3000
    assert PRICES.on("scenic_ticket", date(2025, 6, 1)) == 3500  # from its day on
    assert PRICES.on("scenic_ticket", date(2026, 1, 1)) == 3500


def test_a_redemption_before_any_price_of_its_kind_has_no_price_not_zero():
    assert PRICES.on("scenic_ticket", date(2024, 12, 31)) is None
    assert PRICES.on("farm_stay_night", date(2025, 2, 28)) is None
    assert rules.PriceList([]).on("scenic_ticket", date(2025, 1, 1)) is None


def test_the_period_is_cut_where_a_price_changes_inside_it():
    changes = PRICES.changes_within(date(2025, 5, 1), date(2025, 7, 1))
    assert changes == [date(2025, 6, 1)]
    assert rules.pieces(date(2025, 5, 1), date(2025, 7, 1), changes) == [
        (date(2025, 5, 1), date(2025, 6, 1)),
        (date(2025, 6, 1), date(2025, 7, 1)),
    ]
    assert PRICES.changes_within(date(2025, 6, 1), date(2025, 7, 1)) == []  # on its first day


def test_statement_totals_price_each_piece_and_count_the_unpriced_apart():
    totals = rules.statement_totals(
        [
            ("scenic_ticket", date(2025, 5, 1), 4),
            ("scenic_ticket", date(2025, 6, 1), 2),
            ("farm_stay_night", date(2025, 2, 1), 3),  # before its first price
        ],
        PRICES,
    )
    by_kind = {k.kind: k for k in totals.kinds}
    assert (by_kind["scenic_ticket"].priced, by_kind["scenic_ticket"].amount_fen) == (6, 19000)
    assert by_kind["scenic_ticket"].prices == {3000: 4, 3500: 2}
    assert (by_kind["farm_stay_night"].unpriced, by_kind["farm_stay_night"].amount_fen) == (3, 0)
    assert (totals.count, totals.amount_fen, totals.unpriced) == (9, 19000, 3)
