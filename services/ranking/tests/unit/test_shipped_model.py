"""The committed model.onnx: loads, names its version, matches the feature definition, and is monotone."""

import dataclasses
import json

import numpy as np
import onnx
import pytest

from smartpick_ranking.adapters.onnx_model import SHIPPED_MODEL, ModelMismatch, OnnxModel
from smartpick_ranking.data import load_fee_schedule, load_programs, load_specialty_stats
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.features import FEATURE_NAMES, build_features
from smartpick_ranking.domain.recommend import recommend

TOLERANCE = 1e-6  # float32 rounding only


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return OnnxModel()


@pytest.fixture(scope="module")
def programs():
    """Every 15th catalog program (all specialties) with its public facts, and a school's facts made up at
    random for a third of them."""
    rng = np.random.default_rng(5)
    chosen = load_programs()[::15]
    enriched = []
    for program in chosen:
        if rng.random() < 0.33:
            program = dataclasses.replace(
                program,
                positions=int(rng.integers(1, 20)),
                program_type=str(rng.choice(["academic", "community_affiliated", "community"])),
                sponsors_j1=bool(rng.random() < 0.5),
                sponsors_h1b=bool(rng.random() < 0.5),
                img_share=float(rng.random() * 0.5),
                do_share=float(rng.random() * 0.3),
            )
        enriched.append(program)
    return enriched


@pytest.fixture(scope="module")
def baselines(programs):
    rng = np.random.default_rng(11)
    states = sorted({p.state for p in programs if p.state})
    people = []
    for _ in range(30):
        degree = str(rng.choice(["MD", "DO", "IMG"]))
        people.append(
            Applicant(
                degree=degree,
                step2_ck_score=int(rng.integers(215, 275)),
                step1_result=str(rng.choice(["pass", "fail"], p=[0.9, 0.1])),
                comlex_level2_score=int(rng.integers(450, 750)) if degree == "DO" else None,
                research_items=int(rng.integers(0, 40)),
                aoa_member=bool(rng.random() < 0.2),
                clerkship_honors=int(rng.integers(0, 7)),
                visa_need=str(rng.choice(["none", "J1", "H1B"])) if degree == "IMG" else "none",
                years_since_graduation=int(rng.integers(0, 5)),
                signals_sent=int(rng.integers(0, 30)),
                has_home_program=bool(rng.random() < 0.5),
                away_rotations=int(rng.integers(0, 4)),
                preferred_states=frozenset(rng.choice(states, 3, replace=False)),
                school_state=str(rng.choice(states)),
                gold_signal_program_ids=frozenset(p.program_id for p in programs[::2] if rng.random() < 0.03),
                signaled_program_ids=frozenset(p.program_id for p in programs[1::2] if rng.random() < 0.05),
            )
        )
    return people


def shown(model, batch, programs):
    """(interview, admission) as the product shows them: the model's, with its anchors applied (`anchoring`)."""
    interview, admission = model.predict(batch)
    specialties = [p.specialty for p in programs] * (len(batch) // len(programs))
    return interview, model.anchors.adjust(batch, specialties, interview, admission)


def assert_never_lower(model, programs, baselines, field, values):
    stats = load_specialty_stats()
    for person in baselines:
        batch = np.concatenate(
            [build_features(dataclasses.replace(person, **{field: v}), programs, stats) for v in values]
        )
        interview, match = shown(model, batch, programs)
        for output in (interview, match):
            grid = output.reshape(len(values), len(programs))
            assert np.all(np.diff(grid, axis=0) >= -TOLERANCE), f"raising {field} lowered a probability"


def test_shipped_model_names_its_version_and_features(model):
    card = json.loads((SHIPPED_MODEL.parent / "model_card.json").read_text())
    assert model.version == card["model_version"]
    assert model.feature_names == FEATURE_NAMES
    assert SHIPPED_MODEL.stat().st_size < 5 * 1024 * 1024


def test_probabilities_are_probabilities_and_match_never_exceeds_interview(model, programs, baselines):
    features = build_features(baselines[0], programs, load_specialty_stats())
    interview, match = shown(model, features, programs)
    assert interview.shape == match.shape == (len(programs),)
    assert np.all((interview >= 0) & (interview <= 1) & (match >= 0))
    assert np.all(match <= interview + TOLERANCE)


def test_raising_step2_ck_never_lowers_a_probability(model, programs, baselines):
    assert_never_lower(model, programs, baselines, "step2_ck_score", list(range(200, 301, 10)))


def test_more_research_never_lowers_a_probability(model, programs, baselines):
    assert_never_lower(model, programs, baselines, "research_items", [0, 1, 2, 4, 8, 12, 16, 20, 25, 30, 40, 60, 100])


def test_comlex_aoa_and_honors_never_lower_a_probability(model, programs, baselines):
    dos = [dataclasses.replace(p, degree="DO", visa_need="none") for p in baselines[:10]]
    assert_never_lower(model, programs, dos, "comlex_level2_score", list(range(400, 801, 50)))
    assert_never_lower(model, programs, baselines, "aoa_member", [False, True])
    assert_never_lower(model, programs, baselines, "clerkship_honors", list(range(8)))


def test_a_signal_never_lowers_a_probability(model, programs, baselines):
    stats = load_specialty_stats()
    for person in baselines[:10]:
        levels = [np.full(len(programs), level) for level in (0.0, 1.0, 2.0)]  # none, second, top
        batch = np.concatenate([build_features(person, programs, stats, s) for s in levels])
        interview, admission = shown(model, batch, programs)
        for output in (interview, admission):
            grid = output.reshape(3, len(programs))
            assert np.all(np.diff(grid, axis=0) >= -TOLERANCE), "a signal lowered a probability"


def test_the_shipped_model_carries_a_latent_loading(model):
    card = json.loads((SHIPPED_MODEL.parent / "model_card.json").read_text())
    assert model.factor.loading == card["latent_loading"] > 0


def test_a_wrong_feature_matrix_is_refused(model):
    with pytest.raises(ValueError, match="features must have shape"):
        model.predict(np.zeros((3, len(FEATURE_NAMES) - 1), dtype=np.float32))


def test_a_model_trained_on_other_features_is_refused():
    shipped = onnx.load(str(SHIPPED_MODEL))
    for prop in shipped.metadata_props:
        if prop.key == "feature_names":
            prop.value = json.dumps([*FEATURE_NAMES[:-1], "something_else"])
    with pytest.raises(ModelMismatch, match="unexpected \\['something_else'\\]"):
        OnnxModel(shipped.SerializeToString())


def test_programs_without_a_location_do_not_outrank_the_others(model):
    """The four Family Medicine programs with no location in the catalog once led every list."""
    programs = [p for p in load_programs() if p.specialty == "Family Medicine"]
    nowhere = {p.program_id for p in programs if p.state is None}
    assert len(nowhere) == 4
    applicant = Applicant(
        degree="MD",
        step2_ck_score=240,
        step1_result="pass",
        research_items=5,
        visa_need="none",
        school_state="OH",
        specialties=("Family Medicine",),
        preferred_states=frozenset({"OH"}),
        application_budget=30,
    )
    result = recommend(
        applicant,
        {"Family Medicine": programs},
        load_specialty_stats(),
        model.predict,
        model.factor,
        load_fee_schedule(),
        anchors=model.anchors,
    )
    assert not nowhere & {s.program.program_id for s in result.application_list[:10]}
