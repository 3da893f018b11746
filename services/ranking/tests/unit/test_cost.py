"""The ERAS fee schedule as shipped: priced per specialty, the 31st application at the higher fee."""

import pytest

from smartpick_ranking.data import load_fee_schedule
from smartpick_ranking.domain.cost import parse_fee_schedule


def test_the_shipped_schedule_is_the_2026_season():
    fees = load_fee_schedule()
    assert fees.season == "ERAS 2026"
    assert (fees.fee_of(1), fees.fee_of(30), fees.fee_of(31)) == (11, 11, 30)


def test_each_specialty_starts_its_own_count():
    fees = load_fee_schedule()
    totals = fees.cumulative(["Dermatology"] * 31 + ["Internal Medicine"])
    assert totals[29] == 30 * 11
    assert totals[30] == 30 * 11 + 30
    assert totals[31] == totals[30] + 11


def test_an_unknown_season_is_refused_by_name():
    rows = [{"season": "ERAS 2026", "programs_from": "1", "programs_to": "", "fee_usd": "11", "source": "X"}]
    with pytest.raises(ValueError, match="ERAS 1999"):
        parse_fee_schedule(rows, season="ERAS 1999")
