"""The shipped model against public figures: the table the model card and docs/model.md show is computed
here again from the shipped model, and held to the bars the issue set."""

import json

import pytest

from smartpick_ranking.adapters.onnx_model import SHIPPED_MODEL, OnnxModel
from smartpick_ranking.data import load_fee_schedule, load_programs, load_specialty_stats
from smartpick_ranking.domain.anchoring import US_MD
from smartpick_ranking.training import anchoring, calibration, replay
from smartpick_ranking.training.cli import PublishedRates, by_specialty
from smartpick_ranking.training.simulation import simulate_specialty

CARD = json.loads((SHIPPED_MODEL.parent / "model_card.json").read_text())
PUBLISHED = PublishedRates.read()


@pytest.fixture(scope="module")
def scoring():
    model = OnnxModel()
    programs, stats, fees = by_specialty(load_programs()), load_specialty_stats(), load_fee_schedule()
    return programs, stats, model.predict, model.factor, fees, model.anchors


@pytest.fixture(scope="module")
def checks(scoring):
    return calibration.external_checks(PUBLISHED.bands, *scoring)


@pytest.fixture(scope="module")
def img_checks(scoring):
    return calibration.img_checks(PUBLISHED.img_outcomes, *scoring)


@pytest.fixture(scope="module")
def img_step2_checks(scoring):
    return calibration.img_step2_checks(PUBLISHED.img_halves, PUBLISHED.img_outcomes, *scoring)


@pytest.mark.parametrize(
    ("table", "fixture", "at_least"),
    [
        ("calibration_external", "checks", 80),
        ("calibration_external_img", "img_checks", 12),
        ("calibration_external_img_by_step2", "img_step2_checks", 16),
    ],
)
def test_the_card_shows_what_the_shipped_model_computes(table, fixture, at_least, request):
    """The tables people read (model card, docs/model.md) are what the shipped model gives, row for row."""
    computed = request.getfixturevalue(fixture)
    shown = {(row["specialty"], row["band"]): (row["published"], row["shown"]) for row in CARD[table]["rows"]}
    assert len(shown) == len(computed) > at_least
    for check in computed:
        assert shown[check.specialty, check.band] == pytest.approx((check.published, check.shown), abs=1e-4), check


def test_simulated_applicants_training_never_saw_are_calibrated():
    """Measured on many applicants: on the test split alone (about 1,500) a perfectly calibrated model would
    already show an error near 0.02 from sampling alone (the card's noise floor), so the bar is read there."""
    unseen, split = CARD["calibration_unseen"], CARD["calibration_internal"]
    assert unseen["applicants"] > 10 * split["applicants"] > 10_000
    assert unseen["noise_floor"] < 0.01
    assert unseen["expected_calibration_error"] <= 0.03
    assert len(unseen["deciles"]) == len(split["deciles"]) == calibration.DECILES


def test_every_band_with_30_applicants_is_within_10_points_of_the_published_rate(checks, img_checks):
    off = [c for c in [*checks, *img_checks] if abs(c.gap) > calibration.EXTERNAL_TOLERANCE]
    assert not off, "\n".join(f"{c.specialty} {c.band}: shown {c.shown:.2f}, published {c.published:.2f}" for c in off)


def test_the_shipped_anchors_are_the_cards():
    """The anchors the scorer applies are those the card lists (and docs/model.md tabulates)."""
    listed = {
        (a["specialty"], a["cohort"]): (a["intercept"], a["slope"], a["low"], a["high"])
        for a in CARD["calibration_external_out_of_sample"]["anchors"]
    }
    shipped = OnnxModel().anchors.anchors
    assert listed.keys() == shipped.keys() and len(listed) > 20
    for key, anchor in shipped.items():
        assert listed[key] == pytest.approx((anchor.intercept, anchor.slope, anchor.low, anchor.high), abs=1e-4), key


@pytest.mark.parametrize("specialty", ["Dermatology", "General Surgery"])
def test_an_anchor_and_its_bands_out_of_sample_come_back_from_the_model_and_the_published_rates(specialty):
    """Refitting one specialty's anchor from the shipped model's own chances (its anchors set aside) gives the
    card's anchor and out-of-sample rows: the out-of-sample figures are measured, not assumed."""
    model = OnnxModel()
    programs, stats = load_programs(), load_specialty_stats()
    bands, targets = PUBLISHED.bands, PUBLISHED.targets(programs, stats)
    shown = anchoring.ShownChance(by_specialty(programs), stats, model.predict, model.factor, load_fee_schedule())
    fitted = anchoring.fit_anchors({specialty: bands[specialty]}, {}, targets, shown)
    anchor, shipped = fitted.anchors.get(specialty, US_MD), model.anchors.get(specialty, US_MD)
    assert (anchor.intercept, anchor.slope) == pytest.approx((shipped.intercept, shipped.slope), abs=0.03)
    card = {(r["specialty"], r["band"]): r["shown"] for r in CARD["calibration_external_out_of_sample"]["rows"]}
    assert fitted.out_of_sample
    for row in fitted.out_of_sample:
        assert row["shown"] == pytest.approx(card[row["specialty"], row["band"]], abs=0.01), row


@pytest.mark.xfail(
    strict=True,
    reason="not met: the anchored chances follow NRMP where the simulated world is more generous, so on the "
    "simulated applicants they run low (docs/model.md, 'Calibration you can check')",
)
def test_the_chances_as_shown_are_calibrated_on_simulated_applicants_too():
    assert CARD["calibration_unseen_anchored"]["expected_calibration_error"] <= 0.03


@pytest.mark.parametrize("specialty", ["General Surgery", "Psychiatry"])
def test_the_cards_replay_of_the_products_own_lists_is_what_the_simulated_match_gives(specialty, scoring):
    """The card's replayed rows (the product's list played in the simulated Match) come back, for a specialty,
    from the shipped model and the same seed's simulation."""
    programs, stats = load_programs(), load_specialty_stats()
    bands, targets = PUBLISHED.bands, PUBLISHED.targets(programs, stats)
    grouped = scoring[0]
    outcome = simulate_specialty(grouped[specialty], targets[specialty], CARD["seed"], sorted(targets).index(specialty))
    computed = replay.replayed_checks(
        {specialty: outcome}, targets, {specialty: bands[specialty]}, *scoring[1:5], CARD["seed"], scoring[5]
    )
    rows = {(r["specialty"], r["band"]): r for r in CARD["calibration_replayed"]["rows"]}
    assert computed
    for check in computed:
        row = rows[check.specialty, check.band]
        assert (row["shown"], row["replayed"]) == pytest.approx((check.shown, check.replayed), abs=1e-4), check
