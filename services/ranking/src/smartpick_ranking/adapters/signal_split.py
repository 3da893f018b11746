"""The model's graph cut where the signal columns first matter, so that what never reads them is computed
once per candidate and not once per signal level.

A list's signal plan scores every candidate with no signal, the top signal and the second signal: three
rows that differ only in the signal columns. The shipped model is P(interview) x P(admitted | interview),
and only the interview trees read a signal, so the admitted-given-interview trees gave the same answer
three times. The cut is found from the graph, not assumed: a tree ensemble depends on the signal columns
when one of its branches splits on them, any other node when one of its inputs does. The part upstream of
the cut ("fixed") runs on the rows at one level; the rest ("varying") runs at every level with the fixed
part's results repeated beside its rows. Each node computes what it computed in the whole graph, so the
answers are the same bits; `split` checks that on a probe batch and returns None (score the whole graph at
every level) for a graph it cannot cut or that does not give the same bits."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

TREE_ENSEMBLES = {"TreeEnsembleRegressor", "TreeEnsembleClassifier"}
PROBE_ROWS = 64
# What onnxruntime raises for a part graph it cannot load or run (then the whole graph is scored).
ORT_ERRORS = (ort_state.Fail, ort_state.InvalidGraph, ort_state.InvalidArgument, ort_state.RuntimeException)


@dataclass(frozen=True)
class SplitModel:
    """The two sessions and the tensors passed from the first to the second."""

    fixed: ort.InferenceSession
    varying: ort.InferenceSession
    passed: tuple[str, ...]
    input_name: str
    outputs: tuple[str, ...]

    def run(self, rows: np.ndarray, at_levels: Sequence[np.ndarray], repeats: np.ndarray) -> list[np.ndarray]:
        """The graph's outputs for the rows of `at_levels` (concatenated): `rows` is one copy of them at any
        level, and row j of the concatenation is row `repeats[j]` of `rows` at its level."""
        passed = self.fixed.run(list(self.passed), {self.input_name: rows})
        feeds = {self.input_name: np.concatenate(at_levels)}
        feeds |= {name: value[repeats] for name, value in zip(self.passed, passed, strict=True)}
        return self.varying.run(list(self.outputs), feeds)


def _branch_features(node: onnx.NodeProto) -> set[int]:
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    modes, features = attributes.get("nodes_modes", []), attributes.get("nodes_featureids", [])
    return {int(f) for m, f in zip(modes, features, strict=True) if m != b"LEAF"}


def _cut(graph: onnx.GraphProto, columns: set[int]) -> tuple[list, list, list, list[str]] | None:
    """(constant nodes, fixed nodes, varying nodes, tensors passed across), or None when nothing is fixed."""
    source = graph.input[0].name
    varying_tensors, derived = set(), {source}  # derived: computed from the features at all
    constant_nodes, fixed_nodes, varying_nodes = [], [], []
    for node in graph.node:
        if not any(name in derived for name in node.input):
            constant_nodes.append(node)  # needs no feature: put on both sides
            continue
        derived.update(node.output)
        reads_signals = source in node.input and (
            node.op_type not in TREE_ENSEMBLES or bool(_branch_features(node) & columns)
        )
        if reads_signals or any(name in varying_tensors for name in node.input):
            varying_tensors.update(node.output)
            varying_nodes.append(node)
        else:
            fixed_nodes.append(node)
    passed = list(
        dict.fromkeys(
            name
            for node in varying_nodes
            for name in node.input
            if name in derived and name != source and name not in varying_tensors
        )
    )
    if not passed or any(output.name not in varying_tensors for output in graph.output):
        return None
    return constant_nodes, fixed_nodes, varying_nodes, passed


def _float_tensor(name: str) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, None)


def _part(model: onnx.ModelProto, name: str, nodes: list, inputs: list, outputs: list) -> onnx.ModelProto:
    used = {tensor for node in nodes for tensor in node.input}
    initializers = [t for t in model.graph.initializer if t.name in used]
    part = helper.make_model(
        helper.make_graph(nodes, name, inputs, outputs, initializers), opset_imports=model.opset_import
    )
    part.ir_version = model.ir_version
    return part


def _session(part: onnx.ModelProto, options: ort.SessionOptions) -> ort.InferenceSession:
    return ort.InferenceSession(part.SerializeToString(), options, providers=["CPUExecutionProvider"])


def split(
    model: onnx.ModelProto,
    whole: ort.InferenceSession,
    outputs: Sequence[str],
    columns: set[int],
    with_level,
    levels: Sequence[float],
    options: ort.SessionOptions,
) -> SplitModel | None:
    """The model cut at `columns` (the signal columns), answering `outputs`, or None. `with_level(rows, level)`
    sets a level's signal columns; the probe scores `levels` both ways and the cut is kept only if every bit
    agrees."""
    graph = model.graph
    cut = _cut(graph, columns)
    if cut is None:
        return None
    constants, fixed_nodes, varying_nodes, passed = cut
    source = graph.input[0]
    outputs = tuple(outputs)
    handed = [_float_tensor(name) for name in passed]
    try:
        fixed = _session(_part(model, "fixed", constants + fixed_nodes, [source], handed), options)
        varying = _session(
            _part(model, "varying", constants + varying_nodes, [source, *handed], [*graph.output]), options
        )
    except (*ORT_ERRORS, ValueError):
        return None
    candidate = SplitModel(fixed, varying, tuple(passed), source.name, outputs)
    rng = np.random.default_rng(0)
    width = source.type.tensor_type.shape.dim[1].dim_value
    probe = (rng.normal(size=(PROBE_ROWS, width)) * rng.choice([1, 10, 300], size=width)).astype(np.float32)
    probe[rng.random(probe.shape) < 0.1] = np.nan
    at_levels = [with_level(probe, level) for level in levels]
    expected = whole.run(list(outputs), {source.name: np.concatenate(at_levels)})
    try:
        got = candidate.run(probe, at_levels, np.tile(np.arange(PROBE_ROWS), len(levels)))
    except (*ORT_ERRORS, ValueError, IndexError):  # IndexError: a passed tensor not one row per row
        return None
    same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(expected, got, strict=True))
    return candidate if same else None
