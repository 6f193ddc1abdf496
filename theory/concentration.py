"""How far a sampled second moment can stray from M (THEORY.md L3, section 8).

For n i.i.d. draws, M_hat = X^T X / n has E||M_hat - M||_F^2 = (E|x|^4 - ||M||_F^2) / n, and
for one Gaussian cluster x = mu + eps, eps ~ N(0, D) with D diagonal,
    E|x|^4 = |mu|^4 + 2 |mu|^2 tr D + 4 mu^T D mu + (tr D)^2 + 2 tr D^2
(expand |x|^2 = |mu|^2 + 2 mu.eps + |eps|^2; odd moments vanish). Chebyshev (Markov on the
squared norm) then gives, with probability >= 1 - delta,
    max_i |eig_i(M_hat) - eig_i(M)| <= ||M_hat - M||_2 <= ||M_hat - M||_F <= sqrt(V / (n delta))
(Weyl's inequality for the first step). The constant is explicit: 1/sqrt(delta).
"""
from __future__ import annotations

import sympy as sp

from theory.gmm import GMM
from theory.linear import label_moment, second_moment, trained_weights


def fourth_moment(gmm: GMM) -> sp.Expr:
    """E|x|^4 for the mixture (exact, per-cluster Gaussian moments)."""
    total = sp.Integer(0)
    for c in gmm.clusters:
        mu2 = (c.mean.T * c.mean)[0]
        trace = sp.Add(*c.variances)
        trace_sq = sp.Add(*(v**2 for v in c.variances))
        mu_d_mu = sp.Add(*(c.mean[j] ** 2 * c.variances[j] for j in range(gmm.dim)))
        total += c.weight * (mu2**2 + 2 * mu2 * trace + 4 * mu_d_mu + trace**2 + 2 * trace_sq)
    return sp.simplify(total)


def second_moment_deviation_variance(gmm: GMM) -> sp.Expr:
    """V = E||x x^T - M||_F^2 = E|x|^4 - ||M||_F^2, so that E||M_hat - M||_F^2 = V / n."""
    M = second_moment(gmm)
    return sp.simplify(fourth_moment(gmm) - sum(e**2 for e in M))


def eigenvalue_deviation_bound(gmm: GMM, n, delta) -> sp.Expr:
    """sqrt(V / (n delta)): bounds every |eig_i(M_hat) - eig_i(M)| with probability >= 1 - delta."""
    return sp.sqrt(second_moment_deviation_variance(gmm) / (sp.sympify(n) * sp.sympify(delta)))


def label_moment_deviation_variance(gmm: GMM) -> sp.Expr:
    """E||y x - m||^2 = E|x|^2 - |m|^2 = tr M - |m|^2 (y^2 = 1), so E||m_hat - m||^2 = that / n."""
    M = second_moment(gmm)
    m = label_moment(gmm)
    return sp.simplify(M.trace() - (m.T * m)[0])


def weight_deviation_bound(gmm: GMM, n, delta) -> sp.Expr:
    """A bound on ||w_hat - w_inf|| for least squares on n samples, probability >= 1 - delta.

    (M + E)(w + D) = m + e gives D = (M + E)^{-1} (e - E w), so
        ||D|| <= (||e|| + ||E|| ||w||) / (lambda_min(M) - ||E||)   when ||E|| < lambda_min(M).
    Chebyshev with delta/2 for each of ||E||_F and ||e|| (union bound). Returns oo when the
    bound on ||E|| reaches lambda_min(M) (the sample is too small for a guarantee)."""
    n, delta = sp.sympify(n), sp.sympify(delta)
    E = sp.sqrt(second_moment_deviation_variance(gmm) / (n * delta / 2))
    e = sp.sqrt(label_moment_deviation_variance(gmm) / (n * delta / 2))
    w = trained_weights(gmm)
    smallest = min(second_moment(gmm).eigenvals(), key=lambda v: float(sp.N(v, 30)))
    if float(sp.N(E - smallest, 30)) >= 0:
        return sp.oo
    return (e + E * sp.sqrt((w.T * w)[0])) / (smallest - E)
