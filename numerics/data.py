"""Data: cluster models as float arrays, GMM sampling, and exact-moment designs (docs/theory.md).

Every sampling function takes an explicit ``seed`` (or numpy Generator); nothing reads
global random state.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np
import sympy as sp

from numerics.counts import half_up
from numerics.seeds import numpy_generator
from theory.gmm import GMM


@dataclass(frozen=True)
class MixtureArrays:
    """A GMM as float64 arrays: weights (m,), means (m, d), labels (m,), variances (m, d)."""

    weights: np.ndarray
    means: np.ndarray
    labels: np.ndarray
    variances: np.ndarray

    @classmethod
    def from_gmm(cls, gmm: GMM) -> MixtureArrays:
        def numbers(exprs, name):
            try:
                return np.array(exprs.tolist() if isinstance(exprs, sp.MatrixBase) else exprs,
                                dtype=np.float64).ravel()
            except TypeError:
                raise ValueError(f"{name} must be numeric to sample; substitute the symbols first "
                                 f"(GMM.subs)") from None

        weights = numbers(gmm.weights, "weights")
        means = np.stack([numbers(c.mean, "means") for c in gmm.clusters])
        variances = np.stack([numbers(c.variances, "variances") for c in gmm.clusters])
        return cls(weights, means, np.array(gmm.labels, dtype=np.float64), variances)

    @property
    def second_moment(self) -> np.ndarray:
        """M = sum_c pi_c (mu_c mu_c^T + diag(sigma_c^2)), computed in floating point."""
        weighted = self.means * self.weights[:, None]
        return weighted.T @ self.means + np.diag(self.weights @ self.variances)


@dataclass(frozen=True)
class Sample:
    """Inputs X (n, d), labels y (n,) in {-1, +1}, and each point's cluster index (n,)."""

    X: np.ndarray
    y: np.ndarray
    cluster: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


def sample_gmm(gmm: GMM, n: int | None = None, *, seed, counts=None) -> Sample:
    """Draw n points i.i.d. from the mixture (cluster counts multinomial), or exactly
    ``counts[c]`` points from each cluster c when counts is given."""
    arrays = MixtureArrays.from_gmm(gmm)
    rng = numpy_generator(seed)
    m = len(arrays.weights)
    if counts is None:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        counts = rng.multinomial(n, arrays.weights / arrays.weights.sum())
    counts = np.asarray(counts)
    if counts.shape != (m,) or np.any(counts < 0) or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(f"counts must be {m} non-negative integers, got {counts!r}")
    if n is not None and counts.sum() != n:
        raise ValueError(f"counts must sum to n = {n}, got {counts.sum()}")
    cluster = np.repeat(np.arange(m), counts)
    noise = rng.standard_normal((cluster.size, arrays.means.shape[1]))
    X = arrays.means[cluster] + noise * np.sqrt(arrays.variances[cluster])
    return Sample(X, arrays.labels[cluster], cluster)


def canonical_counts(rho, n: int) -> list[int]:
    """Cluster counts of GMM.canonical for n points with an exact imbalance: [nA, nA, nC, nC],
    nA = half_up(rho n / 2) per aligned cluster (numerics.counts), nC = n / 2 - nA (n even, classes
    balanced), so that two rho values drawn on one seed differ only in which points are aligned."""
    if not isinstance(n, int) or n < 2 or n % 2:
        raise ValueError(f"n must be an even integer >= 2, got {n!r}")
    aligned = half_up(Fraction(rho) * n / 2)
    return [aligned, aligned, n // 2 - aligned, n // 2 - aligned]


def exact_moment_design(gmm: GMM, *, max_points: int = 50_000) -> Sample:
    """A deterministic sample whose second moment X^T X / n equals M EXACTLY (docs/theory.md#L3).

    Cluster c contributes r_c copies of the 2d points mu_c +- sqrt(d) sigma_{c,j} e_j,
    j = 1..d, with r_c proportional to pi_c (weights must be rational). Each copy has mean
    mu_c and second moment mu_c mu_c^T + diag(sigma_c^2), so the design reproduces M, E[y x]
    and every cluster mean.
    """
    fractions = []
    for i, w in enumerate(gmm.weights):
        w = sp.nsimplify(w) if not isinstance(w, sp.Rational) else w
        if not isinstance(w, sp.Rational):
            raise ValueError(f"weights[{i}] must be rational for an exact-moment design, got {w}")
        fractions.append(Fraction(int(w.p), int(w.q)))
    denominator = lcm(*(f.denominator for f in fractions))
    copies = [int(f * denominator) for f in fractions]
    arrays = MixtureArrays.from_gmm(gmm)
    d = arrays.means.shape[1]
    n = 2 * d * sum(copies)
    if n > max_points:
        raise ValueError(f"max_points: the design needs {n} points (weights' common denominator "
                         f"{denominator}); raise max_points or use weights with a smaller denominator")
    rows, clusters = [], []
    for c, r in enumerate(copies):
        offsets = np.diag(np.sqrt(d * arrays.variances[c]))
        block = np.concatenate([arrays.means[c] + offsets, arrays.means[c] - offsets])
        rows.append(np.tile(block, (r, 1)))
        clusters.append(np.full(2 * d * r, c))
    cluster = np.concatenate(clusters)
    return Sample(np.concatenate(rows), arrays.labels[cluster], cluster)


from numerics.colored_digits import colored_digits  # noqa: E402,F401  (colored digits, docs/theory.md)
