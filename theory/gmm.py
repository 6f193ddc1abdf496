"""Clustered Gaussian mixtures (THEORY.md section 2), exact and possibly symbolic.

A cluster c has label y_c in {-1, +1}, weight pi_c, mean mu_c in R^d and a DIAGONAL
covariance diag(sigma_c^2) (isotropic when every entry is equal). The canonical model has
four clusters (y, b) in {+-1}^2 with mu_{y,b} = y alpha e_core + b beta e_bias, aligned
(b = y) total weight rho and conflicting weight 1 - rho, classes balanced.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from theory.exact import exact, is_negative, is_zero, shown

CORE, BIAS = 0, 1  # coordinates of the core and bias attributes in the canonical model

#: The canonical cluster order: (y, b) = (+1, +1), (-1, -1) aligned, then (+1, -1), (-1, +1) conflicting.
CANONICAL_LABELS = (1, -1, 1, -1)
CANONICAL_ALIGNED = (True, True, False, False)


def imbalance(rho):
    """p = 2 rho - 1 = E[y b], the label-bias correlation of aligned fraction rho (THEORY.md 2)."""
    return 2 * rho - 1


def aligned_fraction(p):
    """rho = (1 + p) / 2, the inverse of ``imbalance``."""
    return (1 + p) / 2


@dataclass(frozen=True)
class Cluster:
    """One mixture component: label, weight, mean (d x 1), per-coordinate variances (d x 1)."""

    label: int
    weight: sp.Expr
    mean: sp.Matrix
    variances: sp.Matrix

    @property
    def aligned(self) -> bool | None:
        """Canonical model only: whether the bias coordinate agrees in sign with the label."""
        sign = sp.sign(self.mean[BIAS]) if self.mean.rows > BIAS else 0
        return None if sign == 0 or not sign.is_number else bool(sign == self.label)


class GMM:
    """A validated cluster model; every attribute is an exact SymPy object.

    Validation (ValueError naming the argument): labels in {-1, +1}; weights >= 0 and
    summing to 1 (decided by SymPy, so symbolic weights such as (1+p)/4 pass); variances
    >= 0 when decidable; every mean and variance vector of the same dimension d >= 1.
    """

    def __init__(self, clusters):
        clusters = tuple(clusters)
        if not clusters:
            raise ValueError("clusters must hold at least one cluster")
        dim = clusters[0].mean.rows
        for i, c in enumerate(clusters):
            if c.label not in (-1, 1):
                raise ValueError(f"clusters[{i}].label must be -1 or +1, got {c.label!r}")
            if c.mean.shape != (dim, 1) or c.variances.shape != (dim, 1):
                raise ValueError(
                    f"clusters[{i}]: mean and variances must be {dim} x 1 like clusters[0], "
                    f"got {c.mean.shape} and {c.variances.shape}")
            if is_negative(c.weight):
                raise ValueError(f"clusters[{i}].weight must be >= 0, got {shown(c.weight)}")
            for j, v in enumerate(c.variances):
                if is_negative(v):
                    raise ValueError(f"clusters[{i}].variances[{j}] must be >= 0, got {shown(v)}")
        total = sp.Add(*(c.weight for c in clusters))
        if is_zero(total - 1) is not True:
            raise ValueError(f"cluster weights must sum to 1, got {shown(sp.simplify(total))}")
        self.clusters = clusters
        self.dim = dim

    @classmethod
    def from_arrays(cls, weights, means, labels, variances):
        """Build from plain sequences: weights (m), means (m x d), labels (m), variances
        (m scalars for isotropic clusters, or m x d per-coordinate)."""
        weights, means, labels, variances = list(weights), list(means), list(labels), list(variances)
        m = len(weights)
        for name, seq in (("means", means), ("labels", labels), ("variances", variances)):
            if len(seq) != m:
                raise ValueError(f"{name} must have one entry per cluster ({m}), got {len(seq)}")
        clusters = []
        for c in range(m):
            mean = sp.Matrix([exact(v, f"means[{c}]") for v in means[c]])
            var = variances[c]
            if isinstance(var, (list, tuple, sp.MatrixBase)):
                var_vec = sp.Matrix([exact(v, f"variances[{c}]") for v in var])
            else:
                var_vec = sp.Matrix([exact(var, f"variances[{c}]")] * mean.rows)
            clusters.append(Cluster(int(labels[c]) if labels[c] in (-1, 1) else labels[c],
                                    exact(weights[c], f"weights[{c}]"), mean, var_vec))
        return cls(clusters)

    @classmethod
    def canonical(cls, alpha, beta, rho, var, *, dim=2, var_core=None, var_bias=None):
        """The canonical 4-cluster model of THEORY.md section 2.

        Clusters in the order (y, b) = (+1, +1), (-1, -1) [aligned, weight rho/2 each],
        (+1, -1), (-1, +1) [conflicting, weight (1 - rho)/2 each]; mu = y alpha e_0 + b beta e_1
        in R^dim. Variances: ``var`` on every coordinate, overridden by ``var_core`` on e_0 and
        ``var_bias`` on e_1. Arguments may be numbers or SymPy expressions.
        """
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 2:
            raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
        alpha, beta = exact(alpha, "alpha"), exact(beta, "beta")
        rho, var = exact(rho, "rho"), exact(var, "var")
        if is_negative(rho) or is_negative(1 - rho):
            raise ValueError(f"rho must lie in [0, 1], got {shown(rho)}")
        if is_negative(var):
            raise ValueError(f"var must be >= 0, got {shown(var)}")
        var_core = var if var_core is None else exact(var_core, "var_core")
        var_bias = var if var_bias is None else exact(var_bias, "var_bias")
        for name, v in (("var_core", var_core), ("var_bias", var_bias)):
            if is_negative(v):
                raise ValueError(f"{name} must be >= 0, got {shown(v)}")
        variances = sp.Matrix([var_core, var_bias] + [var] * (dim - 2))
        clusters = []
        for y, b in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
            mean = sp.zeros(dim, 1)
            mean[CORE], mean[BIAS] = y * alpha, b * beta
            weight = rho / 2 if b == y else (1 - rho) / 2
            clusters.append(Cluster(y, weight, mean, variances))
        return cls(clusters)

    # ---- derived views -------------------------------------------------------------------
    @property
    def weights(self) -> list[sp.Expr]:
        return [c.weight for c in self.clusters]

    @property
    def labels(self) -> list[int]:
        return [c.label for c in self.clusters]

    @property
    def means(self) -> sp.Matrix:
        """U = [mu_1 .. mu_m], d x m."""
        return sp.Matrix.hstack(*(c.mean for c in self.clusters))

    @property
    def noise_variances(self) -> list[sp.Expr]:
        """diag(S), S = sum_c pi_c diag(sigma_c^2): the mixture-averaged within-cluster variances."""
        entries = [sp.Add(*(c.weight * c.variances[j] for c in self.clusters)) for j in range(self.dim)]
        return [e if e.is_number else sp.simplify(e) for e in entries]

    @property
    def noise_covariance(self) -> sp.Matrix:
        """S = sum_c pi_c diag(sigma_c^2) (d x d)."""
        return sp.diag(*self.noise_variances)

    @property
    def isotropic_variance(self) -> sp.Expr | None:
        """s^2 when S = s^2 I (THEORY.md section 2), else None."""
        first, *rest = self.noise_variances
        return first if all(is_zero(v - first) for v in rest) else None

    def subs(self, mapping) -> "GMM":
        """The same model with symbols replaced (e.g. {rho: Rational(9, 10)})."""
        return GMM(Cluster(c.label, sp.sympify(c.weight).subs(mapping), c.mean.subs(mapping),
                           c.variances.subs(mapping)) for c in self.clusters)

    def __repr__(self) -> str:
        return f"GMM(dim={self.dim}, clusters={len(self.clusters)}, weights={self.weights})"
