from datetime import date

from xiaodai.risk import book_trend

JAN = date(2025, 1, 1)


def test_balance_and_buckets_by_month(panel):
    book = panel(
        {
            1: (JAN, [{"balance_fen": 900}, {"balance_fen": 800, "dpd": 15}]),
            2: (date(2025, 2, 1), [{"balance_fen": 500, "principal_fen": 600}]),
            3: (JAN, [{"balance_fen": 300}, {"status": "closed", "balance_fen": 0}]),
        }
    )
    table = book_trend.finalize(book_trend.partial(book, as_of=date(2025, 3, 31)))
    assert table["month"].to_list() == [date(2025, 2, 1), date(2025, 3, 1)]
    assert table["open_loans"].to_list() == [2, 2]
    assert table["balance_fen"].to_list() == [1200, 1300]
    assert table["new_loans"].to_list() == [2, 1]
    assert table["new_principal_fen"].to_list() == [200_000, 600]
    assert table["M1_balance_fen"].to_list() == [0, 800]
    assert table["M0_balance_fen"].to_list() == [1200, 500]
