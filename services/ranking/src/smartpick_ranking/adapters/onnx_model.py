"""The trained ranking model, scored with onnxruntime: the only model dependency of the running service."""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from smartpick_ranking.adapters.signal_split import SplitModel, split
from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import FEATURE_NAMES, SIGNAL_FEATURES, at_signal_level
from smartpick_ranking.domain.scoring import LevelBlock, by_level, rows_at, stacked

OUTPUTS = ["interview_probability", "admission_probability"]
SIGNAL_LEVELS = (0.0, 2.0, 1.0)  # none, top, second: what the signal plan scores

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "model" / "model.onnx"


class ModelMismatch(ValueError):
    """The model file was trained on other features than this code builds; scoring with it would be wrong."""


class OnnxModel:
    """Loads model.onnx once; predict() is one onnxruntime call for a whole batch of programs."""

    def __init__(self, path: Path | str | bytes = SHIPPED_MODEL, intra_op_threads: int = 1):
        """`path` is a model file, or the serialized model itself (bytes)."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        serialized = path if isinstance(path, bytes) else Path(path).read_bytes()
        self._session = ort.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])
        path = "the model" if isinstance(path, bytes) else path
        metadata = self._session.get_modelmeta().custom_metadata_map
        self.version: str = metadata.get("model_version", "")
        self.feature_names: tuple[str, ...] = tuple(json.loads(metadata.get("feature_names", "[]")))
        if "latent_loading" not in metadata:
            raise ModelMismatch(f"{path} names no latent_loading; retrain with smartpick-ranking-train")
        self.factor = LatentFactor.of(float(metadata["latent_loading"]))
        # A model trained on a school's own outcomes has no anchors: its chances are the school's record.
        anchors = metadata.get("external_anchors")
        self.anchors: ExternalAnchors = ExternalAnchors.from_json(anchors) if anchors else NO_ANCHORS
        if not self.version:
            raise ModelMismatch(f"{path} names no model_version in its metadata")
        if self.feature_names != FEATURE_NAMES:
            missing = sorted(set(FEATURE_NAMES) - set(self.feature_names))
            extra = sorted(set(self.feature_names) - set(FEATURE_NAMES))
            raise ModelMismatch(
                f"{path} (model {self.version}) was trained on other features: "
                f"missing {missing}, unexpected {extra}, or another order; retrain with smartpick-ranking-train"
            )
        signal_columns = {FEATURE_NAMES.index(name) for name in SIGNAL_FEATURES}
        self._split: SplitModel | None = split(
            onnx.load_from_string(serialized),
            self._session,
            OUTPUTS,
            signal_columns,
            at_signal_level,
            SIGNAL_LEVELS,
            options,
        )

    @property
    def splits_signal_levels(self) -> bool:
        """Whether the part of the model no signal column reaches runs once for all levels (`signal_split`)."""
        return self._split is not None

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(interview_probability, admission_probability), float32 arrays of one entry per feature row."""
        batch = np.ascontiguousarray(features, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] != len(self.feature_names):
            raise ValueError(f"features must have shape (N, {len(self.feature_names)}), got {batch.shape}")
        interview, admission = self._session.run(OUTPUTS, {"features": batch})
        return interview, admission

    def predict_levels(self, blocks: Sequence[LevelBlock]) -> list[tuple[np.ndarray, np.ndarray]]:
        """`scoring.PredictLevels`: the same numbers as `predict` on every block's rows at each of its levels,
        with the part of the model no signal reaches run once per row (`signal_split`)."""
        blocks = [(np.ascontiguousarray(rows, dtype=np.float32), levels) for rows, levels in blocks]
        if self._split is None or all(len(levels) < 2 or not len(rows) for rows, levels in blocks):
            return stacked(self.predict)(blocks)  # nothing scored at two levels: nothing to share
        bounds = np.cumsum([0, *(len(rows) for rows, _ in blocks)])
        at_levels = [rows_at(rows, level) for rows, levels in blocks for level in levels]
        repeats = np.concatenate(
            [
                np.tile(np.arange(a, b), len(levels))
                for (_, levels), a, b in zip(blocks, bounds[:-1], bounds[1:], strict=True)
            ]
        )
        interview, admission = self._split.run(np.concatenate([rows for rows, _ in blocks]), at_levels, repeats)
        return list(zip(by_level(interview, blocks), by_level(admission, blocks), strict=True))
