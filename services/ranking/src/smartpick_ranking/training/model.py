"""Two monotone LightGBM models, Platt-calibrated on a held-out split, and their export as ONE ONNX graph.

P(interview) is learned on every application; P(admitted | interview) on the interviewed ones, where
admitted is the counterfactual label of the simulation (the program would take the applicant if ranked
first). The shipped admission probability, the p_i of the list optimization, is their product, so it never
exceeds the interview probability, and it stays monotone: both factors are positive and non-decreasing in
every +1 feature (the trees are constrained, and Platt's sigmoid(a * margin + b) with a > 0 keeps the
order), so their product is non-decreasing too.

The latent loading (domain/chances.py) is fitted last, on the calibration split, with the admission stage's
Platt refitted beside it (`fit_list_calibration`): the values that make the applicants' chance of at least
one admission most likely given whether they matched. The admission Platt has one intercept per cohort (US
MD, DO, non-US IMG, read from the degree columns): one for all left the non-US IMGs' lists over-confident. The
loading travels in the ONNX file's metadata, the cohorts' intercepts in the graph.
"""

import json
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import onnx
import onnxmltools
from onnx import TensorProto, helper
from onnxmltools.convert.common.data_types import FloatTensorType
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import FEATURE_NAMES, MONOTONE, SIGNAL_FEATURES
from smartpick_ranking.training.dataset import Dataset

INPUT_NAME = "features"
OUTPUT_NAMES = ("interview_probability", "admission_probability")
LOADING_GRID = np.round(np.arange(0.0, 3.001, 0.05), 2)
ONNX_OPSET, ONNX_ML_OPSET = 15, 1
# The cohorts whose admission intercept is fitted apart from US MD applicants' (rows with neither are US MD).
COHORT_FEATURES = ("degree_do", "degree_img")
COHORT_COLUMNS = [FEATURE_NAMES.index(name) for name in COHORT_FEATURES]
MIN_COHORT_APPLICANTS = 100  # fewer applicants of a cohort in the calibration split: it keeps US MD's intercept


@dataclass(frozen=True)
class TrainingParameters:
    """100 rounds at 0.125 rather than 250 at 0.05: the same step in all, held-out AUC within 0.002 and the
    checks against NRMP as good (docs/model.md), at less than half the scoring cost a profile, which is what
    the workers' latency on two cores needed (docs/benchmarks.md)."""

    rounds: int = 100
    learning_rate: float = 0.125
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    threads: int = 2

    def lightgbm(self, seed: int, rows: int) -> dict:
        """LightGBM parameters; leaves need fewer rows on a small data set (a school's own outcomes)."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": min(self.min_data_in_leaf, max(5, rows // 500)),
            "monotone_constraints": [MONOTONE.get(name, 0) for name in FEATURE_NAMES],
            "monotone_constraints_method": "basic",
            "num_threads": self.threads,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }


@dataclass(frozen=True)
class Platt:
    """p = sigmoid(slope * margin + intercept + the row's cohort shift), fitted on a split the trees never saw.
    `cohort_shifts[k]` is added for rows of cohort COHORT_FEATURES[k]; none: one intercept for every row."""

    slope: float
    intercept: float
    cohort_shifts: tuple[float, ...] = ()

    def __call__(self, margin: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        return self.of_cohorts(margin, cohorts_of(features) if self.cohort_shifts else None)

    def of_cohorts(self, margin: np.ndarray, cohorts: np.ndarray | None) -> np.ndarray:
        """As called, with the rows' cohort columns already read (`cohorts_of`): a fit reads them once."""
        logit = self.slope * margin + self.intercept
        if self.cohort_shifts:
            logit = logit + cohorts @ np.array(self.cohort_shifts)
        return 1.0 / (1.0 + np.exp(-logit))


def cohorts_of(features: np.ndarray) -> np.ndarray:
    """[rows, COHORT_FEATURES]: 1 where a row's applicant is of that cohort."""
    return np.asarray(features[:, COHORT_COLUMNS], dtype=np.float64)


@dataclass(frozen=True)
class TrainedModel:
    interview: lgb.Booster
    interview_platt: Platt
    admit_given_interview: lgb.Booster
    admit_platt: Platt
    latent_loading: float

    def predict_native(self, features: np.ndarray, threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(P(interview), P(admitted)) computed with LightGBM itself, in float64 (threads 0: its default)."""
        interview = self.interview_platt(self.interview.predict(features, raw_score=True, num_threads=threads))
        given_margin = self.admit_given_interview.predict(features, raw_score=True, num_threads=threads)
        given = self.admit_platt(given_margin, features)
        return interview, interview * given


def list_loglik(admission: np.ndarray, applicants: tuple[np.ndarray, np.ndarray], loading: float) -> float:
    """Log-likelihood of each list's outcome given its applications' admission chances. `applicants`: where
    each list starts and its outcome, whether it matched (Dataset.applicants()) or the share of plays in
    which it matched (a replayed list); for 0 and 1 the two terms give exactly the matched-or-not one."""
    starts, matched = applicants
    factor = LatentFactor.of(float(loading))
    log_none = np.log1p(-np.clip(factor.conditional(admission), 0, 1 - 1e-12))
    none = np.exp(np.add.reduceat(log_none, starts, axis=0)) @ factor.weights
    p = np.clip(1 - none, 1e-9, 1 - 1e-9)
    share = np.asarray(matched, dtype=np.float64)
    return float(np.sum(share * np.log(p) + (1 - share) * np.log1p(-p)))


def fit_latent_loading(admission: np.ndarray, dataset: Dataset) -> float:
    """The loading on LOADING_GRID that maximizes the likelihood of each applicant matched or not, given
    the predicted admission chances of their applications."""
    applicants = dataset.applicants()
    return float(max(LOADING_GRID, key=lambda loading: list_loglik(admission, applicants, float(loading))))


def fit_list_calibration(
    interview: np.ndarray, given_margin: np.ndarray, start: Platt, dataset: Dataset
) -> tuple[Platt, float]:
    """The admission Platt and the loading that make the lists' chances of at least one match most likely.

    The per-application fit alone left the chance of a list, the figure a student decides on, over-confident
    for weak lists and under-confident for strong ones; refitting the admission stage's numbers on the list
    outcomes (slope kept positive, so the order and monotonicity stay) and the loading with them aligns it.
    Each cohort with MIN_COHORT_APPLICANTS in the split gets its own intercept: with one for everyone, the
    non-US IMGs' lists were over-confident by about 15 points (they are a small share of the rows, and
    the fit served the US MD majority). Loading, then Platt, then loading again."""
    loading = fit_latent_loading(interview * start(given_margin), dataset)
    applicants = dataset.applicants()
    cohorts = cohorts_of(dataset.features)
    fitted_cohorts = [
        k for k in range(len(COHORT_FEATURES)) if cohorts[applicants[0], k].sum() >= MIN_COHORT_APPLICANTS
    ]

    def platt_of(x: np.ndarray) -> Platt:
        shifts = np.zeros(len(COHORT_FEATURES))
        shifts[fitted_cohorts] = x[2:]
        cohort_shifts = tuple(float(v) for v in shifts) if fitted_cohorts else ()
        return Platt(float(np.exp(x[0])), float(x[1]), cohort_shifts)

    def negative(x: np.ndarray) -> float:
        return -list_loglik(interview * platt_of(x).of_cohorts(given_margin, cohorts), applicants, loading)

    fitted = minimize(
        negative,
        np.array([np.log(start.slope), start.intercept, *[0.0] * len(fitted_cohorts)]),
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-2, "maxiter": 300 * (1 + len(fitted_cohorts))},
    )
    platt = platt_of(fitted.x)
    return platt, fit_latent_loading(interview * platt.of_cohorts(given_margin, cohorts), dataset)


class TrainingRefused(ValueError):
    """The data cannot make a sound model (e.g. one outcome class missing); nothing was written."""


def _fit_booster(name: str, features: np.ndarray, labels: np.ndarray, params: TrainingParameters, seed: int):
    if labels.all() or not labels.any():
        raise TrainingRefused(f"{name}: the training rows need both outcomes (yes and no), got only one")
    with tqdm(total=params.rounds, desc=f"train {name}", unit="round") as bar:
        return lgb.train(
            params.lightgbm(seed, len(labels)),
            lgb.Dataset(features, labels.astype(np.float64), feature_name=list(FEATURE_NAMES), free_raw_data=True),
            num_boost_round=params.rounds,
            callbacks=[lambda _env: bar.update(1)],
        )


def _fit_platt(name: str, margin: np.ndarray, labels: np.ndarray) -> Platt:
    if labels.all() or not labels.any():
        raise TrainingRefused(f"{name}: the calibration rows need both outcomes (yes and no), got only one")
    regression = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), labels)
    slope, intercept = float(regression.coef_[0, 0]), float(regression.intercept_[0])
    if slope <= 0:
        raise TrainingRefused(f"{name}: calibration inverted the model's order (slope {slope:.3g}); not shipped")
    return Platt(slope, intercept)


def train(train_set: Dataset, calibration_set: Dataset, params: TrainingParameters, seed: int) -> TrainedModel:
    interview = _fit_booster("interview", train_set.features, train_set.interviewed, params, seed)
    seen = train_set.interviewed
    given = _fit_booster("admitted|interview", train_set.features[seen], train_set.admitted[seen], params, seed)
    interview_platt = _fit_platt(
        "interview", interview.predict(calibration_set.features, raw_score=True), calibration_set.interviewed
    )
    seen = calibration_set.interviewed
    admit_platt = _fit_platt(
        "admitted|interview",
        given.predict(calibration_set.features[seen], raw_score=True),
        calibration_set.admitted[seen],
    )
    threads = params.threads
    interview_p = interview_platt(interview.predict(calibration_set.features, raw_score=True, num_threads=threads))
    given_margin = given.predict(calibration_set.features, raw_score=True, num_threads=threads)
    admit_platt, loading = fit_list_calibration(interview_p, given_margin, admit_platt, calibration_set)
    return TrainedModel(interview, interview_platt, given, admit_platt, loading)


def _split_thresholds(node: dict) -> list[float]:
    if "split_index" not in node:
        return []
    return [float(node["threshold"]), *_split_thresholds(node["left_child"]), *_split_thresholds(node["right_child"])]


def _float32_safe_thresholds(booster: lgb.Booster, values: list[float]) -> list[float]:
    """Each split threshold as the largest float32 not above LightGBM's float64 one.

    The ONNX trees compare float32 features with float32 thresholds. Rounding a threshold t to the nearest
    float32 can land above t, and a feature equal to that float32 then goes left in ONNX and right in
    LightGBM. With the largest float32 <= t, x <= t and x <= threshold agree for every float32 x."""
    exact: dict[float, float] = {}
    largest = float(np.finfo(np.float32).max)
    for tree in booster.dump_model()["tree_info"]:
        for threshold in _split_thresholds(tree["tree_structure"]):
            if abs(threshold) > largest:  # LightGBM's "always" thresholds stay as they are
                continue
            rounded = float(np.float32(threshold))
            exact[rounded] = min(exact.get(rounded, threshold), threshold)
    fixed = []
    for value in values:
        threshold = exact.get(float(np.float32(value)))
        if threshold is not None and float(np.float32(value)) > threshold:
            value = float(np.nextafter(np.float32(value), np.float32(-np.inf)))
        fixed.append(value)
    return fixed


def _margin_nodes(booster: lgb.Booster, prefix: str) -> tuple[list[onnx.NodeProto], str]:
    """The booster's raw margin (output [N, 1]) as TreeEnsembleRegressor nodes reading `features`.

    The trees that never split on a signal column are one ensemble and those that do another, their margins
    added: a signal plan scores every candidate at three signal levels, and the scorer runs what no signal
    reaches once per candidate (`adapters.signal_split`), so only the signal-reading trees run three times.
    A booster whose trees are all of one kind is one ensemble."""
    converted = onnxmltools.convert_lightgbm(
        booster, initial_types=[(INPUT_NAME, FloatTensorType([None, len(FEATURE_NAMES)]))], zipmap=False
    )
    [trees] = [node for node in converted.graph.node if node.op_type == "TreeEnsembleClassifier"]
    attributes = {a.name: helper.get_attribute_value(a) for a in trees.attribute}
    if attributes.get("post_transform") != b"LOGISTIC" or len(attributes.get("classlabels_int64s", [])) != 2:
        raise RuntimeError("unexpected LightGBM conversion: expected a binary classifier with a logistic output")
    renamed = {"class_ids": "target_ids", "class_nodeids": "target_nodeids", "class_treeids": "target_treeids"}
    regressor = {renamed.get(k, k): v for k, v in attributes.items() if k.startswith("nodes_") or k in renamed}
    regressor["nodes_values"] = _float32_safe_thresholds(booster, regressor["nodes_values"])
    regressor["target_weights"] = attributes["class_weights"]
    parts = [part for part in _by_signal_reading(regressor) if part[1]["nodes_treeids"]]
    if "base_values" in attributes:
        parts[0][1]["base_values"] = attributes["base_values"]
    nodes = [
        helper.make_node(
            "TreeEnsembleRegressor",
            [INPUT_NAME],
            [f"{prefix}_{kind}_margin" if len(parts) > 1 else f"{prefix}_margin"],
            domain="ai.onnx.ml",
            name=f"{prefix}_{kind}_trees" if len(parts) > 1 else f"{prefix}_trees",
            n_targets=1,
            post_transform="NONE",
            aggregate_function="SUM",
            **part,
        )
        for kind, part in parts
    ]
    margin = f"{prefix}_margin"
    if len(parts) > 1:
        nodes.append(helper.make_node("Add", [node.output[0] for node in nodes], [margin]))
    return nodes, margin


def _by_signal_reading(regressor: dict) -> list[tuple[str, dict]]:
    """The ensemble's attributes as two ensembles: ("unsignaled", the trees that split on no signal column),
    ("signaled", the others). Every attribute is a list per node or per leaf weight, keyed by tree id."""
    signal_columns = {FEATURE_NAMES.index(name) for name in SIGNAL_FEATURES}
    signaled = {
        tree
        for tree, mode, feature in zip(
            regressor["nodes_treeids"], regressor["nodes_modes"], regressor["nodes_featureids"], strict=True
        )
        if mode != b"LEAF" and feature in signal_columns
    }
    parts = []
    for kind, wanted in (("unsignaled", False), ("signaled", True)):
        part = {}
        for prefix, trees in (("nodes_", regressor["nodes_treeids"]), ("target_", regressor["target_treeids"])):
            keep = [(tree in signaled) == wanted for tree in trees]
            for name, values in regressor.items():
                if name.startswith(prefix):
                    part[name] = [value for value, kept in zip(values, keep, strict=True) if kept]
        parts.append((kind, part))
    return parts


def _platt_nodes(platt: Platt, margin: str, prefix: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    slope, intercept = f"{prefix}_slope", f"{prefix}_intercept"
    initializers = [
        helper.make_tensor(slope, TensorProto.FLOAT, [], [platt.slope]),
        helper.make_tensor(intercept, TensorProto.FLOAT, [], [platt.intercept]),
    ]
    nodes = [
        helper.make_node("Mul", [margin, slope], [f"{prefix}_scaled"]),
        helper.make_node("Add", [f"{prefix}_scaled", intercept], [f"{prefix}_common_logit"]),
    ]
    logit = f"{prefix}_common_logit"
    if platt.cohort_shifts:
        # The row's cohort shift: its cohort columns (one-hot) times the shifts, [N, 1] beside the margin.
        columns, shifts = f"{prefix}_cohort_columns", f"{prefix}_cohort_shifts"
        initializers += [
            helper.make_tensor(columns, TensorProto.INT64, [len(COHORT_COLUMNS)], COHORT_COLUMNS),
            helper.make_tensor(shifts, TensorProto.FLOAT, [len(platt.cohort_shifts), 1], list(platt.cohort_shifts)),
        ]
        nodes += [
            helper.make_node("Gather", [INPUT_NAME, columns], [f"{prefix}_cohorts"], axis=1),
            helper.make_node("MatMul", [f"{prefix}_cohorts", shifts], [f"{prefix}_shift"]),
            helper.make_node("Add", [logit, f"{prefix}_shift"], [f"{prefix}_logit"]),
        ]
        logit = f"{prefix}_logit"
    nodes.append(helper.make_node("Sigmoid", [logit], [f"{prefix}_calibrated"]))
    return nodes, initializers, f"{prefix}_calibrated"


def to_onnx(model: TrainedModel, version: str, anchors: ExternalAnchors = NO_ANCHORS) -> onnx.ModelProto:
    """One graph: input "features" float32 [N, F]; outputs interview_probability and admission_probability
    [N]. The model version, feature names, latent loading and anchors (`domain.anchoring`, applied after the
    graph: they are keyed by specialty, which no feature names) travel in the metadata, so a scorer can
    refuse a mismatch, integrate over the applicant factor and pin the chances to the public record."""
    nodes, initializers = [], [helper.make_tensor("flat", TensorProto.INT64, [1], [-1])]
    interview_trees, interview_margin = _margin_nodes(model.interview, "interview")
    interview_calibration, interview_init, interview_p = _platt_nodes(
        model.interview_platt, interview_margin, "interview"
    )
    given_trees, given_margin = _margin_nodes(model.admit_given_interview, "given")
    given_calibration, given_init, given_p = _platt_nodes(model.admit_platt, given_margin, "given")
    nodes += interview_trees + interview_calibration + given_trees + given_calibration
    initializers += interview_init + given_init
    nodes += [
        helper.make_node("Mul", [interview_p, given_p], ["admission_probability_2d"]),
        helper.make_node("Reshape", [interview_p, "flat"], [OUTPUT_NAMES[0]]),
        helper.make_node("Reshape", ["admission_probability_2d", "flat"], [OUTPUT_NAMES[1]]),
    ]
    graph = helper.make_graph(
        nodes,
        "smartpick_ranking",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", len(FEATURE_NAMES)])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"]) for name in OUTPUT_NAMES],
        initializers,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET), helper.make_opsetid("ai.onnx.ml", ONNX_ML_OPSET)],
        producer_name="smartpick-ranking-train",
    )
    onnx_model.ir_version = 8
    helper.set_model_props(
        onnx_model,
        {
            "model_version": version,
            "feature_names": json.dumps(list(FEATURE_NAMES)),
            "latent_loading": repr(model.latent_loading),
            **({"external_anchors": anchors.to_json()} if anchors else {}),
        },
    )
    onnx.checker.check_model(onnx_model)
    return onnx_model


def versioned(onnx_model: onnx.ModelProto, version: str) -> onnx.ModelProto:
    """`onnx_model` (from `to_onnx`) named `version`, in place: the bytes `to_onnx` gives with that version,
    without converting the trees again (the version hashes the graph exported with none)."""
    [entry] = [prop for prop in onnx_model.metadata_props if prop.key == "model_version"]
    entry.value = version
    return onnx_model
