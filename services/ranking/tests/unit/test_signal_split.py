"""Scoring at several signal levels with the model cut at the signal columns gives the very bits of scoring
every level with the whole model: on the shipped model, and on small graphs where the cut is known."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.adapters.signal_split import split
from smartpick_ranking.data import load_programs, load_specialty_stats
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.features import at_signal_level, build_features
from smartpick_ranking.domain.scoring import stacked

SIGNAL = 2  # the signal column of the small graphs


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return OnnxModel()


def test_the_shipped_model_gives_the_same_bits_at_every_level_whether_cut_or_not(model):
    programs, stats = load_programs(), load_specialty_stats()
    blocks = []
    for specialty, step2, levels in (
        ("Internal Medicine", 238, [0.0, 2.0, 1.0]),
        ("Dermatology", 262, [0.0, 2.0]),
        ("Family Medicine", None, [None]),
    ):
        applicant = Applicant("DO" if step2 is None else "MD", step2_ck_score=step2, research_items=7)
        found = [p for p in programs if p.specialty == specialty]
        blocks.append((build_features(applicant, found, stats, np.zeros(len(found))), levels))
    fast = model.predict_levels(blocks)
    plain = stacked(model.predict)(blocks)
    for (interview, admission), (plain_interview, plain_admission), (rows, levels) in zip(
        fast, plain, blocks, strict=True
    ):
        assert interview.shape == admission.shape == (len(rows), len(levels))
        assert np.array_equal(interview, plain_interview) and np.array_equal(admission, plain_admission)


def _tree(name: str, source: str, feature: int, output: str) -> onnx.NodeProto:
    """One stump: feature <= 0.5 gives 0.25, else 0.75 (the missing value goes left)."""
    return helper.make_node(
        "TreeEnsembleRegressor",
        [source],
        [output],
        domain="ai.onnx.ml",
        name=name,
        n_targets=1,
        aggregate_function="SUM",
        post_transform="NONE",
        nodes_treeids=[0, 0, 0],
        nodes_nodeids=[0, 1, 2],
        nodes_featureids=[feature, 0, 0],
        nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"],
        nodes_values=[0.5, 0.0, 0.0],
        nodes_truenodeids=[1, 0, 0],
        nodes_falsenodeids=[2, 0, 0],
        nodes_missing_value_tracks_true=[1, 0, 0],
        nodes_hitrates=[1.0, 1.0, 1.0],
        target_treeids=[0, 0],
        target_nodeids=[1, 2],
        target_ids=[0, 0],
        target_weights=[0.25, 0.75],
    )


def _model(first_feature: int) -> onnx.ModelProto:
    """sum = a + b and product = sum x a, with `a` a stump on `first_feature` and `b` one on the signal."""
    nodes = [
        _tree("a", "features", first_feature, "a"),
        _tree("b", "features", SIGNAL, "b"),
        helper.make_node("Add", ["a", "b"], ["sum"]),
        helper.make_node("Mul", ["sum", "a"], ["product"]),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]) for name in ("sum", "product")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    return model


def _with_level(rows: np.ndarray, level: float) -> np.ndarray:
    changed = rows.copy()
    changed[:, SIGNAL] = level
    return changed


def _split(model: onnx.ModelProto):
    options = ort.SessionOptions()
    whole = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return whole, split(model, whole, ["sum", "product"], {SIGNAL}, _with_level, (0.0, 1.0), options)


def test_the_part_no_signal_reaches_runs_once_and_the_answers_are_the_same():
    model = _model(first_feature=0)
    whole, cut = _split(model)
    assert cut is not None and cut.passed == ("a",)
    rows = np.array([[0.0, 0, 0], [1.0, 0, 0], [np.nan, 0, 0]], dtype=np.float32)
    at_levels = [_with_level(rows, level) for level in (0.0, 1.0)]
    got = cut.run(rows, at_levels, np.tile(np.arange(3), 2))
    expected = whole.run(["sum", "product"], {"features": np.concatenate(at_levels)})
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(got, expected, strict=True))
    assert got[0].ravel().tolist() == [0.5, 1.0, 0.5, 1.0, 1.5, 1.0]


def test_a_graph_every_part_of_which_reads_the_signal_is_not_cut():
    _, cut = _split(_model(first_feature=SIGNAL))
    assert cut is None


def test_rows_at_a_level_are_the_rows_built_with_that_level():
    programs, stats = load_programs()[:40], load_specialty_stats()
    applicant = Applicant("MD", step2_ck_score=250)
    base = build_features(applicant, programs, stats, np.zeros(len(programs)))
    for level in (0.0, 1.0, 2.0):
        built = build_features(applicant, programs, stats, np.full(len(programs), level))
        assert np.array_equal(at_signal_level(base, level), built, equal_nan=True)


def test_rows_each_at_its_own_level_are_the_rows_built_with_those_levels():
    programs, stats = load_programs()[:40], load_specialty_stats()
    applicant = Applicant("MD", step2_ck_score=250)
    base = build_features(applicant, programs, stats, np.zeros(len(programs)))
    levels = np.resize([0.0, 1.0, 2.0], len(programs))
    built = build_features(applicant, programs, stats, levels)
    assert np.array_equal(at_signal_level(base, levels), built, equal_nan=True)
    assert not np.array_equal(base, built, equal_nan=True)
