"""Reweighting and group-dependent targets in the linear population model, by SymPy (docs/theory.md M1, M2).

Weighting the population squared loss E[w_c (y - w.x)^2] by per-cluster weights w_c is least squares on
the REWEIGHTED mixture, whose cluster weights are pi_c w_c / sum_c' pi_c' w_c' (the noise moments travel
with their cluster). So theory.linear applies unchanged to ``reweighted``. In the canonical model that
mixture is canonical again, at the effective imbalance

    p_eff = sum_c pi'_c y_c b_c,

and weights w_c ∝ 1/pi_c (importance weighting) make every pi'_c = 1/4, p_eff = 0, hence w_bias = 0 exactly
(claim M2, population regime).

Group-dependent targets t_c y_c (the t -> infinity limit of the VS loss in interpolation: its max-margin
problem asks margin 1/Delta_c of group c, and with d >> n every point is a support vector, so it interpolates
the targets y / Delta) give the population weights M^-1 sum_c pi_c t_c y_c mu_c (``targeted_weights``); in
interpolation, S3's ridge form with var = s^2 = d sigma^2 / n (``vs_balancing_exponent``).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from theory import linear
from theory.gmm import GMM, Cluster, aligned_fraction


def reweighted(gmm: GMM, weights) -> GMM:
    """The mixture of the weighted population loss: cluster weights pi_c w_c / sum_c' pi_c' w_c' (``weights``:
    one nonnegative weight per cluster, not all zero where pi_c > 0); means and variances unchanged."""
    weights = [sp.sympify(w) for w in weights]
    if len(weights) != len(gmm.clusters):
        raise ValueError(f"weights must hold one weight per cluster ({len(gmm.clusters)}), got {len(weights)}")
    total = sp.Add(*(c.weight * w for c, w in zip(gmm.clusters, weights)))
    return GMM([Cluster(c.label, sp.simplify(c.weight * w / total), c.mean, c.variances)
                for c, w in zip(gmm.clusters, weights)])


def effective_imbalance(gmm: GMM) -> sp.Expr:
    """p_eff = sum_c pi_c y_c b_c, b_c = sign of the bias coordinate of mu_c (canonical-form means)."""
    return sp.simplify(sp.Add(*(c.weight * c.label * sp.sign(c.mean[1]) for c in gmm.clusters)))


#: the symbol of the tempering exponent a in the weights pi_c^(-a) (a = 1: importance weighting)
EXPONENT = sp.Symbol("a", nonnegative=True)


@cache
def importance_weighted_canonical() -> GMM:
    """The canonical model (alpha, beta, p, per-attribute variances s_c^2, s_b^2: theory.linear's symbols)
    reweighted by w_c = 1 / pi_c."""
    gmm = GMM.canonical(linear.ALPHA, linear.BETA, aligned_fraction(linear.P), linear.CORE_VAR ** 2,
                        var_core=linear.CORE_VAR ** 2, var_bias=linear.BIAS_VAR ** 2)
    return reweighted(gmm, [1 / c.weight for c in gmm.clusters])


@cache
def importance_weighted_weights() -> tuple[sp.Expr, sp.Expr]:
    """(w_core, w_bias) of the importance-weighted population least squares (claim M2): simplifies to
    (alpha / (alpha^2 + s_c^2), 0)."""
    w = linear.trained_weights(importance_weighted_canonical())
    return sp.factor(sp.simplify(w[0])), sp.factor(sp.simplify(w[1]))


@cache
def tempered_imbalance() -> sp.Expr:
    """p_eff of the canonical model reweighted by w_c = pi_c^(-a), as a function of rho and a:
    (rho^(1-a) - (1-rho)^(1-a)) / (rho^(1-a) + (1-rho)^(1-a)) (a = 0: p; a = 1: 0)."""
    rho = sp.Symbol("rho", positive=True)
    gmm = GMM.canonical(1, 1, rho, 0)
    return sp.simplify(effective_imbalance(reweighted(gmm, [c.weight ** -EXPONENT for c in gmm.clusters])))


#: the conflicting clusters' target t (aligned clusters: 1) of ``targeted_weights``
TARGET = sp.Symbol("t", positive=True)


@cache
def targeted_weights() -> tuple[sp.Expr, sp.Expr]:
    """(w_core, w_bias) = M^-1 sum_c pi_c t_c y_c mu_c for the isotropic canonical model (alpha, beta, p, s) with
    targets t_c = 1 on the aligned clusters and TARGET on the conflicting ones: the population (ridge) weights
    of least squares to group-dependent targets."""
    gmm = GMM.canonical(linear.ALPHA, linear.BETA, aligned_fraction(linear.P), linear.S ** 2)
    targets = [1, 1, TARGET, TARGET]
    m = sp.Add(*(c.weight * t * c.label * c.mean for c, t in zip(gmm.clusters, targets)), sp.zeros(gmm.dim, 1))
    w = linear.second_moment(gmm).inv() * m
    return sp.factor(sp.simplify(w[0])), sp.factor(sp.simplify(w[1]))


@cache
def balancing_target() -> sp.Expr:
    """The conflicting target t* at which ``targeted_weights``' w_bias vanishes (its unique root in t)."""
    roots = sp.solve(sp.Eq(sp.numer(sp.together(targeted_weights()[1])), 0), TARGET)
    if len(roots) != 1:
        raise ArithmeticError(f"expected one root of w_bias in t, got {roots}")
    return sp.simplify(roots[0])


def vs_balancing_exponent(alpha, beta, rho, var) -> float:
    """gamma*: the VS exponent whose t -> infinity limit has w_bias = 0 in the ridge form (claim M1's VS regime).
    VS asks conflicting margins 1 / Delta_C = (n_A / n_C)^gamma = (rho / (1 - rho))^gamma (aligned: Delta_A = 1),
    so gamma* = log t* / log(rho / (1 - rho)). Below gamma* the limit keeps a positive bias weight (the
    preference stays), above it the weight is negative (the preference is reversed). rho > 1/2.

    Parameters as everywhere in theory/: (alpha, beta, rho, var), with the closed forms' p = 2 rho - 1 and
    s^2 = var derived (linear.canonical_substitution). ``var`` is the RIDGE FORM's variance: for interpolation
    of n points in d >> n dimensions with per-coordinate noise sigma^2 it is var = d sigma^2 / n (S3's ridge form;
    the callers' ``s2``), not sigma^2 itself."""
    values = linear.canonical_substitution(alpha, beta, rho, var)
    t_star = balancing_target().subs(values)
    rho = sp.nsimplify(rho)
    return float(sp.N(sp.log(t_star) / sp.log(rho / (1 - rho)), 30))
