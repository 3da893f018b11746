"""The chance of at least one match for a list, with programs' decisions about one applicant correlated.

Programs see the same applicant: letters, interviews and everything else the inputs miss push every
program's decision the same way. The model says how: each program's admission is a probit in a latent
applicant factor z ~ N(0, 1) shared by all programs,

    p_i(z) = Phi(a_i + b z),   with a_i = Phi^-1(p_i) sqrt(1 + b^2)

so that averaging over z gives back the model's own p_i, and b (the latent loading, fitted on held-out
simulated applicants and shipped in the model file) sets how strongly decisions move together. Then

    P(at least one) = E_z[1 - prod_i (1 - p_i(z))]

computed by Gauss-Hermite quadrature. With b = 0 it is the independent 1 - prod(1 - p_i); with b > 0 it is
lower: a list cannot be made safe by length alone when the same weakness shows everywhere.

The interval beside a chance is its 10th to 90th percentile over z: the range an applicant's unmeasured
strengths (what the inputs cannot see) move it, from the model's own estimate of how much they matter."""

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

QUADRATURE_NODES = 24
PERCENTILES = (0.1, 0.9)
_EPS = 1e-7


@dataclass(frozen=True)
class LatentFactor:
    """The applicant factor's loading and the quadrature that integrates over it."""

    loading: float
    nodes: np.ndarray  # z values
    weights: np.ndarray  # probabilities of the nodes (sum 1)

    @classmethod
    def of(cls, loading: float, nodes: int = QUADRATURE_NODES) -> "LatentFactor":
        if not 0 <= loading < 10:
            raise ValueError(f"latent loading must lie in [0, 10), got {loading}")
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        return cls(float(loading), x, w / w.sum())

    def conditional(self, p: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """p_i(z) for every program (rows) and node (columns); `z` defaults to the quadrature nodes."""
        z = self.nodes if z is None else np.asarray(z, dtype=np.float64)
        p = np.asarray(p, dtype=np.float64)
        a = ndtri(np.clip(p, _EPS, 1 - _EPS)) * np.sqrt(1 + self.loading**2)
        conditional = ndtr(a[:, None] + self.loading * z[None, :])
        conditional[p <= 0] = 0.0  # a program that never admits stays at zero whatever z is
        return conditional

    def at_least_one(self, p: np.ndarray) -> float:
        """P(at least one of the programs admits), averaged over the latent factor."""
        if len(p) == 0:
            return 0.0
        none = np.prod(1 - self.conditional(p), axis=0)
        return float(self.weights @ (1 - none))

    def curve(self, p_in_order: np.ndarray) -> np.ndarray:
        """P(at least one) applying to the first k programs, for every k."""
        if len(p_in_order) == 0:
            return np.empty(0)
        return self.curve_of(self.conditional(p_in_order))

    def curve_of(self, conditional: np.ndarray) -> np.ndarray:
        """`curve` from the programs' p(z) already computed ([programs, nodes], in order)."""
        return (1 - np.cumprod(1 - conditional, axis=0)) @ self.weights

    def interval(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each program's chance at the 10th and 90th percentile of the latent factor."""
        low, high = self.conditional(p, ndtri(np.array(PERCENTILES))).T
        return low, high

    def list_interval(self, p: np.ndarray) -> tuple[float, float]:
        """The list's P(at least one) at the 10th and 90th percentile of the latent factor."""
        if len(p) == 0:
            return 0.0, 0.0
        none = np.prod(1 - self.conditional(p, ndtri(np.array(PERCENTILES))), axis=0)
        return float(1 - none[0]), float(1 - none[1])
