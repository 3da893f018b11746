"""The shipped model against public figures: the table the model card and docs/model.md show is computed
here again from the shipped model, and held to the bars the issue set."""

import json

import pytest

from smartpick_ranking.adapters.onnx_model import SHIPPED_MODEL, OnnxModel
from smartpick_ranking.data import (
    BAND_RATES_FILE,
    IMG_OUTCOMES_FILE,
    load_fee_schedule,
    load_programs,
    load_specialty_stats,
    read_rows,
)
from smartpick_ranking.training import calibration, replay
from smartpick_ranking.training.simulation import simulate_specialty
from smartpick_ranking.training.targets import parse_band_rates, parse_img_outcomes, resolve_targets

CARD = json.loads((SHIPPED_MODEL.parent / "model_card.json").read_text())


@pytest.fixture(scope="module")
def scoring():
    model = OnnxModel()
    by_specialty: dict = {}
    for program in load_programs():
        by_specialty.setdefault(program.specialty, []).append(program)
    return by_specialty, load_specialty_stats(), model.predict, model.factor, load_fee_schedule()


@pytest.fixture(scope="module")
def checks(scoring):
    return calibration.external_checks(parse_band_rates(read_rows(BAND_RATES_FILE)), *scoring)


@pytest.fixture(scope="module")
def img_checks(scoring):
    return calibration.img_checks(parse_img_outcomes(read_rows(IMG_OUTCOMES_FILE)), *scoring)


@pytest.mark.parametrize(
    ("table", "fixture", "at_least"),
    [("calibration_external", "checks", 80), ("calibration_external_img", "img_checks", 12)],
)
def test_the_card_shows_what_the_shipped_model_computes(table, fixture, at_least, request):
    """The tables people read (model card, docs/model.md) are what the shipped model gives, row for row."""
    computed = request.getfixturevalue(fixture)
    shown = {(row["specialty"], row["band"]): row["shown"] for row in CARD[table]["rows"]}
    assert len(shown) == len(computed) > at_least
    for check in computed:
        assert shown[check.specialty, check.band] == pytest.approx(check.shown, abs=1e-4), check


def test_simulated_applicants_training_never_saw_are_calibrated():
    """Measured on many applicants: on the test split alone (about 1,500) a perfectly calibrated model would
    already show an error near 0.02 from sampling alone (the card's noise floor), so the bar is read there."""
    unseen, split = CARD["calibration_unseen"], CARD["calibration_internal"]
    assert unseen["applicants"] > 10 * split["applicants"] > 10_000
    assert unseen["noise_floor"] < 0.01
    assert unseen["expected_calibration_error"] <= 0.03
    assert len(unseen["deciles"]) == len(split["deciles"]) == calibration.DECILES


@pytest.mark.xfail(
    strict=True,
    reason="not met yet: 62 of 96 US MD bands and 5 of 15 non-US IMG specialties lie within 10 points; the "
    "product overstates the chance of an optimized, fully signaled list in the competitive specialties, at low "
    "Step 2 CK bands and for non-US IMGs (docs/model.md)",
)
def test_every_band_with_30_applicants_is_within_10_points_of_the_published_rate(checks, img_checks):
    off = [c for c in [*checks, *img_checks] if abs(c.gap) > calibration.EXTERNAL_TOLERANCE]
    assert not off, "\n".join(f"{c.specialty} {c.band}: shown {c.shown:.2f}, published {c.published:.2f}" for c in off)


@pytest.mark.parametrize("specialty", ["General Surgery", "Psychiatry"])
def test_the_cards_replay_of_the_products_own_lists_is_what_the_simulated_match_gives(specialty, scoring):
    """The card's replayed rows (the product's list played in the simulated Match) come back, for a specialty,
    from the shipped model and the same seed's simulation."""
    programs, stats = load_programs(), load_specialty_stats()
    bands = parse_band_rates(read_rows(BAND_RATES_FILE))
    targets = resolve_targets(programs, stats, bands, parse_img_outcomes(read_rows(IMG_OUTCOMES_FILE)))
    grouped = scoring[0]
    outcome = simulate_specialty(grouped[specialty], targets[specialty], CARD["seed"], sorted(targets).index(specialty))
    computed = replay.replayed_checks(
        {specialty: outcome}, targets, {specialty: bands[specialty]}, *scoring[1:], CARD["seed"]
    )
    rows = {(r["specialty"], r["band"]): r for r in CARD["calibration_replayed"]["rows"]}
    assert computed
    for check in computed:
        row = rows[check.specialty, check.band]
        assert (row["shown"], row["replayed"]) == pytest.approx((check.shown, check.replayed), abs=1e-4), check
