"""The trained ranking model, scored with onnxruntime: the only model dependency of the running service."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import FEATURE_NAMES

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
        source = path if isinstance(path, bytes) else str(path)
        self._session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        path = "the model" if isinstance(path, bytes) else path
        metadata = self._session.get_modelmeta().custom_metadata_map
        self.version: str = metadata.get("model_version", "")
        self.feature_names: tuple[str, ...] = tuple(json.loads(metadata.get("feature_names", "[]")))
        if "latent_loading" not in metadata:
            raise ModelMismatch(f"{path} names no latent_loading; retrain with smartpick-ranking-train")
        self.factor = LatentFactor.of(float(metadata["latent_loading"]))
        if not self.version:
            raise ModelMismatch(f"{path} names no model_version in its metadata")
        if self.feature_names != FEATURE_NAMES:
            missing = sorted(set(FEATURE_NAMES) - set(self.feature_names))
            extra = sorted(set(self.feature_names) - set(FEATURE_NAMES))
            raise ModelMismatch(
                f"{path} (model {self.version}) was trained on other features: "
                f"missing {missing}, unexpected {extra}, or another order; retrain with smartpick-ranking-train"
            )

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(interview_probability, admission_probability), float32 arrays of one entry per feature row."""
        batch = np.ascontiguousarray(features, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] != len(self.feature_names):
            raise ValueError(f"features must have shape (N, {len(self.feature_names)}), got {batch.shape}")
        interview, admission = self._session.run(
            ["interview_probability", "admission_probability"], {"features": batch}
        )
        return interview, admission
