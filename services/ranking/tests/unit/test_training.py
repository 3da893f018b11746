"""The training pipeline on small data: ONNX agrees with LightGBM, a seed reproduces the model, and a school's
outcomes CSV is checked row by row before anything is trained."""

import dataclasses

import numpy as np
import onnx
import pytest
from onnx import helper
from scipy.special import ndtr, ndtri

from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.data import load_programs, load_specialty_stats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import FEATURE_NAMES, SIGNAL_FEATURES, at_signal_level
from smartpick_ranking.domain.scoring import stacked
from smartpick_ranking.training.cli import PublishedRates
from smartpick_ranking.training.dataset import Dataset, from_simulation, split_by_group
from smartpick_ranking.training.model import (
    Platt,
    TrainingParameters,
    TrainingRefused,
    fit_latent_loading,
    fit_list_calibration,
    to_onnx,
    train,
    versioned,
)
from smartpick_ranking.training.school_outcomes import OutcomesInvalid, RowError, parse_outcomes
from smartpick_ranking.training.simulation import simulate_specialty
from smartpick_ranking.training.targets import (
    parse_img_outcomes,
    parse_img_step2_halves,
)

SMALL = TrainingParameters(rounds=40, threads=1)
SPECIALTY = "Thoracic Surgery"


@pytest.fixture(scope="module")
def catalog():
    return load_programs(), load_specialty_stats()


def targets_of(programs, stats):
    return PublishedRates.read().targets(programs, stats)


@pytest.fixture(scope="module")
def small_dataset(catalog):
    programs, stats = catalog
    targets = targets_of(programs, stats)
    outcome = simulate_specialty([p for p in programs if p.specialty == SPECIALTY], targets[SPECIALTY], 3, 0)
    return from_simulation([outcome], stats, 200, 3)


def fit_and_export(dataset, seed):
    train_set, calibration_set, test_set = split_by_group(dataset, seed)
    model = train(train_set, calibration_set, SMALL, seed)
    return model, to_onnx(model, "test-version").SerializeToString(), test_set


def test_simulation_calibrates_to_the_public_figures(catalog, small_dataset):
    programs, stats = catalog
    targets = targets_of(programs, stats)
    derm = targets["Dermatology"]
    assert derm.mean_step2ck_matched_usmd == 257 and (derm.top_signals, derm.second_signals) == (3, 25)
    assert "pct_positions_filled_by_usmd_seniors_2025" in derm.fallbacks and derm.bands
    outcome = simulate_specialty([p for p in programs if p.specialty == "Dermatology"], derm, 1, 0)
    got = outcome.achieved
    assert abs(got["mean_step2ck_matched_usmd"] - 257) < 4
    # The simulated cohort holds about a third of the published applicants of a year: only the bands with
    # hundreds of them are measured tightly enough to compare one by one, and two knobs (level and slope)
    # place each of them within 15 points, the whole cohort within 6.
    published = {f"band_{b.low}_{b.high}": b.p_match for b in derm.bands if b.applicants >= 250}
    for band, rate in published.items():
        assert abs(got[band] - rate) < 0.15, (band, got[band], rate)
    overall = sum(b.p_match * b.applicants for b in derm.bands) / sum(b.applicants for b in derm.bands)
    assert abs(got["usmd_match_rate"] - overall) < 0.06
    top, _, none = derm.signal_rates
    assert abs(got["interview_rate_top_signal"] - top) < 0.1 and abs(got["interview_rate_no_signal"] - none) < 0.05
    assert small_dataset.interviewed.any() and small_dataset.admitted.any()


def test_non_us_imgs_come_as_many_per_position_as_nrmp_counted_and_match_near_its_rate(catalog):
    """Anesthesiology 2026: 230 non-US IMGs for 2,290 positions, 38.7% matched (img_charting_outcomes_2026.csv)."""
    programs, stats = catalog
    anesthesiology = targets_of(programs, stats)["Anesthesiology"]
    img = anesthesiology.img
    assert (img.applicants, img.positions, img.p_match) == (230, 2290, 0.387)
    assert "img_outcomes" not in anesthesiology.fallbacks
    outcome = simulate_specialty([p for p in programs if p.specialty == "Anesthesiology"], anesthesiology, 1, 0)
    imgs = sum(a.degree == "IMG" for a in outcome.applicants)
    assert imgs == pytest.approx(img.per_position * outcome.achieved["positions"], abs=1)
    assert abs(outcome.achieved["img_match_rate"] - img.p_match) < 0.1
    scores = [a.step2_ck_score for a in outcome.applicants if a.degree == "IMG"]
    assert abs(np.mean(scores) - img.mean_step2) < 3


def test_a_non_us_imgs_step2_ck_weighs_as_much_as_nrmps_halves_say(catalog):
    """Family Medicine 2026: IMGs below their median Step 2 CK matched about as often as those above (55% and
    52%); Anesthesiology: 32% and 51%. The simulated programs give an IMG's score far less of the Step 2 CK
    weight in the first than in the second, and every US MD senior the whole weight."""
    programs, stats = catalog
    targets = targets_of(programs, stats)
    shares = {}
    for index, specialty in enumerate(("Family Medicine", "Anesthesiology")):
        assert targets[specialty].img_halves is not None
        outcome = simulate_specialty([p for p in programs if p.specialty == specialty], targets[specialty], 1, index)
        shares[specialty] = outcome.knobs.img_step2_share
        lower, upper = outcome.achieved["img_match_rate_lower_half"], outcome.achieved["img_match_rate_upper_half"]
        assert 0 < lower < 1 and 0 < upper < 1
    assert shares["Family Medicine"] < 0.5 < shares["Anesthesiology"]


def test_img_means_pool_matched_and_unmatched_and_a_suppressed_cohort_leaves_the_mean_unknown():
    def row(measure, cohort, n, mean):
        return {
            "specialty": "X",
            "positions": "100",
            "img_applicants": "50",
            "img_match_rate": "0.4",
            "measure": measure,
            "cohort": cohort,
            "n": n,
            "mean": mean,
        }

    rows = [row("step2ck", "matched", "10", "250"), row("step2ck", "not_matched", "30", "242")]
    rows += [row(m, c, "10", "2") for m in ("abstracts", "presentations") for c in ("matched", "not_matched")]
    rows += [row("publications", "matched", "3", ""), row("publications", "not_matched", "30", "1")]
    outcome = parse_img_outcomes(rows)["X"]
    assert outcome.mean_step2 == pytest.approx(244.0) and outcome.per_position == 0.5
    assert outcome.mean_research is None  # NRMP withheld the matched publications


def test_an_img_halfs_rate_comes_from_the_matched_and_unmatched_quartiles():
    def row(specialty, cohort, n, quartiles, suppressed="no"):
        points = dict(zip(("min", "q1", "median", "q3", "max"), map(str, quartiles), strict=True))
        fields = {"specialty": specialty, "measure": "step2ck", "cohort": cohort, "n": str(n), "suppressed": suppressed}
        return fields | points

    rows = [
        row("Apart", "matched", 100, (240, 245, 250, 255, 260)),
        row("Apart", "not_matched", 100, (220, 225, 230, 235, 240)),
        row("Alike", "matched", 30, (220, 230, 240, 250, 260)),
        row("Alike", "not_matched", 90, (220, 230, 240, 250, 260)),
        row("Withheld", "matched", 50, (220, 230, 240, 250, 260)),
        row("Withheld", "not_matched", 3, ("", "", "", "", ""), suppressed="yes"),
        {"specialty": "Apart", "measure": "research", "cohort": "matched", "n": "100", "suppressed": "no"},
    ]
    halves = parse_img_step2_halves(rows)
    assert set(halves) == {"Apart", "Alike"}  # no halves where NRMP withheld a cohort
    lower, upper = halves["Apart"]  # every matched IMG scored above every unmatched one
    assert lower.lower and not upper.lower and lower.threshold == pytest.approx(240, abs=0.1)
    assert (lower.p_match, upper.p_match) == pytest.approx((0.0, 1.0), abs=0.01)
    assert (lower.typical_step2, upper.typical_step2) == pytest.approx((230, 250), abs=0.1)
    assert lower.applicants == pytest.approx(100, abs=1)
    lower, upper = halves["Alike"]  # the score says nothing: each half matches at the overall rate
    assert lower.p_match == pytest.approx(0.25) and upper.p_match == pytest.approx(0.25)


def test_admitted_is_the_counterfactual_and_matched_means_at_least_one_admission(catalog):
    programs, stats = catalog
    targets = targets_of(programs, stats)
    outcome = simulate_specialty([p for p in programs if p.specialty == SPECIALTY], targets[SPECIALTY], 5, 0)
    assert np.all(outcome.admitted <= outcome.interviewed) and np.all(outcome.matched <= outcome.admitted)
    n = len(outcome.applicants)
    admitted_any = np.bincount(outcome.pair_applicant, weights=outcome.admitted, minlength=n) > 0
    matched_any = np.bincount(outcome.pair_applicant, weights=outcome.matched, minlength=n) > 0
    assert np.array_equal(admitted_any, matched_any)  # stability of the match
    assert outcome.admitted.sum() > outcome.matched.sum()  # admitted where they matched higher on their list


def test_onnx_and_native_agree_on_a_held_out_batch(small_dataset):
    model, onnx_bytes, test_set = fit_and_export(small_dataset, seed=4)
    onnx_model = OnnxModel(onnx_bytes)
    assert onnx_model.version == "test-version"
    onnx_interview, onnx_match = onnx_model.predict(test_set.features)
    native_interview, native_match = model.predict_native(test_set.features)
    assert len(test_set.features) > 500
    np.testing.assert_allclose(onnx_interview, native_interview, rtol=0, atol=1e-5)
    np.testing.assert_allclose(onnx_match, native_match, rtol=0, atol=1e-5)


def test_the_cohort_intercepts_score_the_same_in_onnx_as_natively(small_dataset):
    """The cohorts' shifts live in the graph (Gather of the degree columns): ONNX agrees with the native
    model on US MD, DO and IMG rows, and each cohort's logit moves by its own shift."""
    model, _, test_set = fit_and_export(small_dataset, seed=4)
    shifted = dataclasses.replace(model, admit_platt=dataclasses.replace(model.admit_platt, cohort_shifts=(0.3, -0.7)))
    scorer = OnnxModel(to_onnx(shifted, "test-version").SerializeToString())
    rows = test_set.features[:600].copy()
    degree = np.arange(len(rows)) % 3  # US MD, DO, IMG in turn
    for k, name in enumerate(("degree_md", "degree_do", "degree_img")):
        rows[:, FEATURE_NAMES.index(name)] = degree == k
    onnx_interview, onnx_match = scorer.predict(rows)
    native_interview, native_match = shifted.predict_native(rows)
    np.testing.assert_allclose(onnx_interview, native_interview, rtol=0, atol=1e-5)
    np.testing.assert_allclose(onnx_match, native_match, rtol=0, atol=1e-5)
    features = np.zeros((3, len(FEATURE_NAMES)))
    features[1, FEATURE_NAMES.index("degree_do")] = features[2, FEATURE_NAMES.index("degree_img")] = 1
    chances = Platt(1.0, 0.0, (0.3, -0.7))(np.zeros(3), features)
    np.testing.assert_allclose(np.log(chances / (1 - chances)), [0.0, 0.3, -0.7], atol=1e-12)  # MD, DO, IMG


def test_the_trees_no_signal_reaches_are_an_ensemble_of_their_own(small_dataset):
    """Only the signal-reading interview trees run at every signal level; cut there, the model still gives
    the bits of the whole graph at every level, and agrees with LightGBM."""
    model, onnx_bytes, test_set = fit_and_export(small_dataset, seed=4)
    signal_columns = {FEATURE_NAMES.index(name) for name in SIGNAL_FEATURES}
    ensembles = {}
    for node in onnx.load_from_string(onnx_bytes).graph.node:
        if node.op_type == "TreeEnsembleRegressor":
            attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            branches = [
                f
                for m, f in zip(attributes["nodes_modes"], attributes["nodes_featureids"], strict=True)
                if m != b"LEAF"
            ]
            ensembles[node.name] = (len(set(attributes["nodes_treeids"])), signal_columns & set(branches))
    assert {"interview_unsignaled_trees", "interview_signaled_trees"} <= set(ensembles)
    for name, (_, read) in ensembles.items():
        assert bool(read) == name.endswith("_signaled_trees"), name
    for stage in ("interview", "given"):
        assert sum(trees for name, (trees, _) in ensembles.items() if name.startswith(stage)) == SMALL.rounds
    scorer = OnnxModel(onnx_bytes)
    assert scorer.splits_signal_levels
    blocks = [(test_set.features[:300], [0.0, 2.0, 1.0])]
    assert all(
        np.array_equal(fast, plain)
        for fast, plain in zip(scorer.predict_levels(blocks)[0], stacked(scorer.predict)(blocks)[0], strict=True)
    )
    for level in (0.0, 1.0, 2.0):
        rows = at_signal_level(test_set.features, level)
        for onnx_chance, native_chance in zip(scorer.predict(rows), model.predict_native(rows), strict=True):
            np.testing.assert_allclose(onnx_chance, native_chance, rtol=0, atol=1e-5)


def test_a_version_stamped_on_the_exported_graph_gives_the_bytes_of_exporting_with_it(small_dataset):
    model, onnx_bytes, _ = fit_and_export(small_dataset, seed=4)
    assert versioned(to_onnx(model, ""), "test-version").SerializeToString() == onnx_bytes


def test_the_same_seed_gives_the_same_model(small_dataset):
    assert fit_and_export(small_dataset, seed=9)[1] == fit_and_export(small_dataset, seed=9)[1]


def test_the_latent_loading_is_fitted_and_shipped(small_dataset):
    model, onnx_bytes, _ = fit_and_export(small_dataset, seed=4)
    assert 0 <= model.latent_loading <= 3
    assert OnnxModel(onnx_bytes).factor.loading == model.latent_loading


@pytest.mark.parametrize("loading", [0.0, 0.8, 1.5])
def test_the_latent_loading_fit_recovers_the_correlation_that_made_the_outcomes(loading):
    """Applicants whose programs decide through a shared factor of known loading: the fit finds it back."""
    rng = np.random.default_rng(7)
    applicants, per_applicant = 4000, 12
    p = rng.uniform(0.02, 0.3, applicants * per_applicant)
    factor = LatentFactor.of(loading)
    z = np.repeat(rng.normal(size=applicants), per_applicant)
    a = ndtri(p) * np.sqrt(1 + loading**2)
    admitted = rng.random(len(p)) < ndtr(a + loading * z)
    group = np.repeat(np.arange(applicants), per_applicant)
    dataset = Dataset(
        np.zeros((len(p), len(FEATURE_NAMES)), dtype=np.float32), admitted, admitted, np.full(len(p), "X"), group
    )
    assert fit_latent_loading(p, dataset) == pytest.approx(factor.loading, abs=0.3)


def test_the_list_calibration_finds_the_scale_that_made_the_lists_outcomes():
    """Admission margins whose true scale is twice what the per-application fit said, with a shared factor of
    loading 0.8: refitted to whether each applicant matched, the admission Platt finds the scale back, and the
    lists' chances of at least one match are then calibrated where the start's were not. (At the list level
    the loading and the scale trade off against each other, so the loading is not asserted here.)"""
    rng = np.random.default_rng(11)
    applicants, per_applicant, loading = 3000, 10, 0.8
    margin = rng.normal(-2.5, 0.8, applicants * per_applicant)
    true = Platt(2.0, 2.0)(margin)
    z = np.repeat(rng.normal(size=applicants), per_applicant)
    admitted = rng.random(len(margin)) < ndtr(ndtri(true) * np.sqrt(1 + loading**2) + loading * z)
    group = np.repeat(np.arange(applicants), per_applicant)
    dataset = Dataset(
        np.zeros((len(margin), len(FEATURE_NAMES)), dtype=np.float32),
        admitted,
        admitted,
        np.full(len(margin), "X"),
        group,
    )
    start = Platt(1.0, -0.5)
    platt, fitted_loading = fit_list_calibration(np.ones(len(margin)), margin, start, dataset)
    assert platt.slope == pytest.approx(2.0, abs=0.4)
    _, matched = dataset.applicants()

    def mean_list_chance(p, b):
        factor = LatentFactor.of(b)
        log_none = np.log1p(-factor.conditional(p))
        return float(np.mean(1 - np.exp(np.add.reduceat(log_none, dataset.applicants()[0], axis=0)) @ factor.weights))

    assert abs(mean_list_chance(platt(margin), fitted_loading) - matched.mean()) < 0.01
    assert abs(mean_list_chance(start(margin), fitted_loading) - matched.mean()) > 0.03


def test_the_list_calibration_gives_a_cohort_its_own_intercept():
    """Non-US IMG applicants (a fifth of them) whose admission logit is 0.8 lower than the margins say: the
    fitted cohort shift finds it, so both cohorts' lists are calibrated, where one intercept for all left the
    IMGs' lists over-confident."""
    rng = np.random.default_rng(12)
    applicants, per_applicant, loading = 4000, 10, 0.6
    margin = rng.normal(-2.5, 0.8, applicants * per_applicant)
    img = np.repeat(rng.random(applicants) < 0.2, per_applicant)
    true = 1 / (1 + np.exp(-(margin - 0.8 * img)))
    z = np.repeat(rng.normal(size=applicants), per_applicant)
    admitted = rng.random(len(margin)) < ndtr(ndtri(true) * np.sqrt(1 + loading**2) + loading * z)
    features = np.zeros((len(margin), len(FEATURE_NAMES)), dtype=np.float32)
    features[:, FEATURE_NAMES.index("degree_img")] = img
    features[:, FEATURE_NAMES.index("degree_md")] = ~img
    group = np.repeat(np.arange(applicants), per_applicant)
    dataset = Dataset(features, admitted, admitted, np.full(len(margin), "X"), group)
    platt, fitted_loading = fit_list_calibration(np.ones(len(margin)), margin, Platt(1.0, 0.0), dataset)
    do_shift, img_shift = platt.cohort_shifts
    assert img_shift == pytest.approx(-0.8, abs=0.25)
    assert do_shift == 0.0  # no DO applicant: nothing to fit
    starts, matched = dataset.applicants()
    factor = LatentFactor.of(fitted_loading)
    chance = (
        1 - np.exp(np.add.reduceat(np.log1p(-factor.conditional(platt(margin, features))), starts)) @ factor.weights
    )
    of_img = img[starts]
    assert abs(chance[of_img].mean() - matched[of_img].mean()) < 0.03
    assert abs(chance[~of_img].mean() - matched[~of_img].mean()) < 0.02


def test_training_refuses_data_with_one_outcome_only(small_dataset):
    never = small_dataset.take(np.nonzero(~small_dataset.interviewed)[0])
    with pytest.raises(TrainingRefused, match="both outcomes"):
        fit_and_export(never, seed=1)


HEADER = "applicant_ref,program_id,degree_type,step2_ck_score,research_items,signaled,interviewed,matched"


def school_csv(catalog, applicants=40, seed=0) -> str:
    programs, _ = catalog
    derm = [p.program_id for p in programs if p.specialty == "Dermatology"][:15]
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    for a in range(applicants):
        step2 = int(rng.integers(225, 275))
        match_at = rng.integers(0, 10) if rng.random() < (step2 - 220) / 60 else None
        for k, program in enumerate(derm[:10]):
            interviewed = match_at == k or rng.random() < (step2 - 220) / 80
            lines.append(
                f"s{a},{program},MD,{step2},{rng.integers(0, 30)},{'yes' if k < 2 else 'no'},"
                f"{'yes' if interviewed else 'no'},{'yes' if match_at == k else 'no'}"
            )
    return "\n".join(lines) + "\n"


def test_a_school_outcomes_file_trains_a_model(catalog):
    programs, stats = catalog
    dataset = parse_outcomes(school_csv(catalog, applicants=120), {p.program_id: p for p in programs}, stats)
    assert len(dataset.features) == 1200 and len(np.unique(dataset.group)) == 120
    assert set(dataset.specialty) == {"Dermatology"}
    _, onnx_bytes, test_set = fit_and_export(dataset, seed=2)
    interview, match = OnnxModel(onnx_bytes).predict(test_set.features)
    assert np.all(match <= interview + 1e-6)


def test_bad_school_rows_are_refused_naming_row_and_column(catalog):
    programs, stats = catalog
    good = school_csv(catalog, applicants=1).splitlines()
    text = "\n".join(
        [
            good[0],
            good[1],
            "s9,0000000000,MD,250,3,no,yes,no",
            "s9,0800121010,XX,250,3,no,yes,no",
            "s9,0800121010,MD,400,three,maybe,no,yes",
            ",0800121010,MD,250,3,no,,no",
        ]
    )
    programs_by_id = {p.program_id: p for p in programs}
    assert "0800121010" in programs_by_id
    with pytest.raises(OutcomesInvalid) as raised:
        parse_outcomes(text, programs_by_id, stats)
    errors = raised.value.errors
    assert RowError(2, "program_id", "'0000000000' is not an ACGME program number in the catalog") in errors
    assert RowError(3, "degree_type", "must be MD, DO or IMG") in errors
    assert RowError(4, "step2_ck_score", "must be between 1 and 300, got 400") in errors
    assert RowError(4, "research_items", "'three' is not a whole number") in errors
    assert RowError(4, "signaled", "must be yes or no") in errors
    assert RowError(4, "matched", "a matched application must also be interviewed") in errors
    assert RowError(5, "applicant_ref", "is required") in errors
    assert RowError(5, "interviewed", "is required") in errors
    assert not any(e.row == 1 for e in errors)
    assert "row 4, column step2_ck_score" in str(raised.value) and "nothing was trained" in str(raised.value)


def test_an_unknown_or_missing_column_is_refused(catalog):
    _, stats = catalog
    with pytest.raises(OutcomesInvalid) as raised:
        parse_outcomes("applicant_ref,program_id,degree,interviewed,matched\n", {}, stats)
    assert RowError(0, "degree_type", "is a required column") in raised.value.errors
    assert any(e.row == 0 and e.column == "degree" for e in raised.value.errors)


def test_the_noise_floor_is_what_a_calibrated_model_shows_and_a_miscalibrated_one_rises_above_it():
    from smartpick_ranking.training.calibration import reliability

    rng = np.random.default_rng(4)
    n = 3000
    chance = rng.uniform(0.02, 0.98, n)

    def one_row_per_applicant(admitted):
        features = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
        return Dataset(features, admitted.copy(), admitted, np.full(n, "X", dtype=object), np.arange(n))

    calibrated = reliability(one_row_per_applicant(rng.random(n) < chance), chance, LatentFactor.of(0.0))
    assert abs(calibrated["expected_calibration_error"] - calibrated["noise_floor"]) < 0.015
    overconfident = reliability(one_row_per_applicant(rng.random(n) < chance * 0.7), chance, LatentFactor.of(0.0))
    assert overconfident["expected_calibration_error"] > overconfident["noise_floor"] + 0.1
