"""How far a sampled second moment can stray from M (docs/theory.md#L3, section 8).

Setting. n i.i.d. draws x_i of the mixture, M_hat = X^T X / n = M + E with E = S / n,
S = sum_i Z_i, Z_i = x_i x_i^T - M (i.i.d., mean zero). Every quantity below is an EXACT moment of
the Gaussian mixture, computed in SymPy from the per-cluster raw moments
    E[x_j^k] = sum_{i even} C(k, i) mu_j^(k-i) v_j^(i/2) (i-1)!!   (x_j ~ N(mu_j, v_j) inside a cluster;
the coordinates are independent inside a cluster because its covariance is diagonal).

Second moment (the old, Chebyshev bound):
    V = E||Z||_F^2 = E|x|^4 - ||M||_F^2,   E||E||_F^2 = V / n,
so sqrt(V / n) is the root-mean-square size of ||E||_F: the "standard deviation" unit of the bounds.
Chebyshev: ||E||_F <= sqrt(V / (n delta)) with probability >= 1 - delta, 1/sqrt(delta) = 31.6 such
units at delta = 1e-3: so wide that sampling with the noise standard deviation halved passes it.

Fourth moment (the bound in use). Expanding ||S||_F^4 = (sum_{i,j} <Z_i, Z_j>)^2, only index patterns
that pair up survive (the Z_i are independent with mean zero):
    E||S||_F^4 = n K + n (n - 1) (V^2 + 2 tr C^2),
    K = E||Z||_F^4 = E(|x|^4 - 2 x^T M x + ||M||_F^2)^2      (8th moments of the mixture),
    C = Cov(vec Z), C[(a,b),(c,d)] = E[x_a x_b x_c x_d] - M_ab M_cd,  tr C^2 = E<Z_1, Z_2>^2,
(i = j = k = l gives K; the pairings {i=j, k=l}, {i=k, j=l}, {i=l, j=k} with i != k give V^2, tr C^2,
tr C^2). Markov's inequality on ||E||_F^4 then gives, with probability >= 1 - delta,
    max_i |eig_i(M_hat) - eig_i(M)| <= ||E||_2 <= ||E||_F <= (E||E||_F^4 / delta)^(1/4),
    E||E||_F^4 = (K + (n - 1) (V^2 + 2 tr C^2)) / n^3                    (Weyl for the first step).
For large n this is sqrt(V / n) ((1 + 2 tr C^2 / V^2) / delta)^(1/4), and 1 <= 1 + 2 tr C^2 / V^2 <= 3
(tr C^2 <= (tr C)^2 = V^2), so the width is between delta^(-1/4) = 5.6 and (3 / delta)^(1/4) = 7.4
units at delta = 1e-3 (instead of 31.6), and it holds at every n (no normal approximation).

The label moment m_hat = X^T y / n = m + e has the same structure with W_i = y_i x_i - m (y^2 = 1):
    E||W||^2 = tr M - |m|^2,  Cov(W) = M - m m^T,  E||W||^4 = E(|x|^2 - 2 y m.x + |m|^2)^2.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from theory.gmm import GMM
from theory.linear import label_moment, second_moment, trained_weights


# ---- exact Gaussian-mixture moments ---------------------------------------------------------------
@cache
def _double_factorial(k: int) -> int:
    return 1 if k <= 0 else k * _double_factorial(k - 2)


def _raw_moment(mean, var, k: int) -> sp.Expr:
    """E[x^k] for x ~ N(mean, var) (var >= 0), k >= 0: the binomial expansion of (mean + sqrt(var) g)^k."""
    return sp.Add(*(sp.binomial(k, i) * mean ** (k - i) * var ** (i // 2) * _double_factorial(i - 1)
                    for i in range(0, k + 1, 2)))


def mixture_expectation(gmm: GMM, polynomial) -> sp.Expr:
    """E[P(x, y)] exactly, for P a polynomial in the coordinates of x (and the label y).

    ``polynomial(x, y)`` gets x as a list of d symbols and y as the cluster's label (+1 or -1) and
    returns a SymPy polynomial expression in those symbols. Inside a cluster the coordinates are
    independent Gaussians, so the expectation of a monomial prod_j x_j^k_j is prod_j E[x_j^k_j]."""
    x = sp.symbols(f"x0:{gmm.dim}")
    total = sp.Integer(0)
    for c in gmm.clusters:
        poly = sp.Poly(sp.expand(polynomial(list(x), c.label)), *x)
        value = sp.Integer(0)
        for powers, coefficient in poly.terms():
            term = coefficient
            for j, k in enumerate(powers):
                if k:
                    term *= _raw_moment(c.mean[j], c.variances[j], k)
            value += term
        total += c.weight * value
    return sp.simplify(total)


def fourth_moment(gmm: GMM) -> sp.Expr:
    """E|x|^4 for the mixture (exact, per-cluster Gaussian moments)."""
    return mixture_expectation(gmm, lambda x, y: sp.Add(*(v**2 for v in x)) ** 2)


def fourth_moment_tensor(gmm: GMM) -> dict:
    """{(a, b, c, d): E[x_a x_b x_c x_d]} for a <= b <= c <= d (the tensor is symmetric)."""
    d = gmm.dim
    out = {}
    for a in range(d):
        for b in range(a, d):
            for c in range(b, d):
                for e in range(c, d):
                    out[(a, b, c, e)] = mixture_expectation(
                        gmm, lambda x, y, a=a, b=b, c=c, e=e: x[a] * x[b] * x[c] * x[e])
    return out


# ---- second moment M_hat ------------------------------------------------------------------------
def second_moment_deviation_variance(gmm: GMM) -> sp.Expr:
    """V = E||x x^T - M||_F^2 = E|x|^4 - ||M||_F^2, so that E||M_hat - M||_F^2 = V / n."""
    M = second_moment(gmm)
    return sp.simplify(fourth_moment(gmm) - sum(e**2 for e in M))


def second_moment_covariance_square_trace(gmm: GMM) -> sp.Expr:
    """tr C^2 = sum_{(a,b),(c,d)} (E[x_a x_b x_c x_d] - M_ab M_cd)^2 = E<Z_1, Z_2>_F^2 (module docstring)."""
    M = second_moment(gmm)
    moments = fourth_moment_tensor(gmm)
    d = gmm.dim
    total = sp.Integer(0)
    for a in range(d):
        for b in range(d):
            for c in range(d):
                for e in range(d):
                    total += (moments[tuple(sorted((a, b, c, e)))] - M[a, b] * M[c, e]) ** 2
    return sp.simplify(total)


def second_moment_deviation_kurtosis(gmm: GMM) -> sp.Expr:
    """K = E||x x^T - M||_F^4 = E(|x|^4 - 2 x^T M x + ||M||_F^2)^2 (8th moments)."""
    M = second_moment(gmm)
    frobenius = sum(e**2 for e in M)

    def square_norm(x, y):
        norm2 = sp.Add(*(v**2 for v in x))
        quadratic = sp.Add(*(M[a, b] * x[a] * x[b] for a in range(len(x)) for b in range(len(x))))
        return (norm2**2 - 2 * quadratic + frobenius) ** 2
    return mixture_expectation(gmm, square_norm)


def second_moment_deviation_fourth_moment(gmm: GMM, n) -> sp.Expr:
    """E||M_hat - M||_F^4 = (K + (n - 1) (V^2 + 2 tr C^2)) / n^3, exactly (module docstring)."""
    n = sp.sympify(n)
    V = second_moment_deviation_variance(gmm)
    return (second_moment_deviation_kurtosis(gmm) + (n - 1) * (V**2 + 2 * second_moment_covariance_square_trace(gmm))) / n**3


def chebyshev_eigenvalue_deviation_bound(gmm: GMM, n, delta) -> sp.Expr:
    """The old bound sqrt(V / (n delta)) (Chebyshev), kept for comparison: 1/sqrt(delta) RMS units wide."""
    return sp.sqrt(second_moment_deviation_variance(gmm) / (sp.sympify(n) * sp.sympify(delta)))


def eigenvalue_deviation_bound(gmm: GMM, n, delta) -> sp.Expr:
    """(E||M_hat - M||_F^4 / delta)^(1/4): bounds every |eig_i(M_hat) - eig_i(M)| with probability
    >= 1 - delta (Markov on the exact fourth moment, Weyl; module docstring)."""
    return (second_moment_deviation_fourth_moment(gmm, n) / sp.sympify(delta)) ** sp.Rational(1, 4)


def rms_deviation(gmm: GMM, n) -> sp.Expr:
    """sqrt(E||M_hat - M||_F^2) = sqrt(V / n): the unit in which the bounds' widths are stated."""
    return sp.sqrt(second_moment_deviation_variance(gmm) / sp.sympify(n))


# ---- label moment m_hat -------------------------------------------------------------------------
def label_moment_deviation_variance(gmm: GMM) -> sp.Expr:
    """E||y x - m||^2 = E|x|^2 - |m|^2 = tr M - |m|^2 (y^2 = 1), so E||m_hat - m||^2 = that / n."""
    M = second_moment(gmm)
    m = label_moment(gmm)
    return sp.simplify(M.trace() - (m.T * m)[0])


def label_moment_deviation_fourth_moment(gmm: GMM, n) -> sp.Expr:
    """E||m_hat - m||^4 = (E||W||^4 + (n - 1) ((E||W||^2)^2 + 2 tr Cov(W)^2)) / n^3, W = y x - m."""
    n = sp.sympify(n)
    M, m = second_moment(gmm), label_moment(gmm)
    m_norm2 = (m.T * m)[0]

    def square_norm(x, y):
        return (sp.Add(*(v**2 for v in x)) - 2 * y * sp.Add(*(m[j] * x[j] for j in range(len(x)))) + m_norm2) ** 2
    kurtosis = mixture_expectation(gmm, square_norm)
    covariance = M - m * m.T
    trace_sq = sum(e**2 for e in covariance)
    return (kurtosis + (n - 1) * (label_moment_deviation_variance(gmm) ** 2 + 2 * trace_sq)) / n**3


def weight_deviation_bound(gmm: GMM, n, delta) -> sp.Expr:
    """A bound on ||w_hat - w_inf|| for least squares on n samples, probability >= 1 - delta.

    (M + E)(w + D) = m + e gives D = (M + E)^{-1} (e - E w), so
        ||D|| <= (||e|| + ||E|| ||w||) / (lambda_min(M) - ||E||)   when ||E|| < lambda_min(M).
    ||E||_2 <= ||E||_F and ||e|| are each bounded by Markov on their exact fourth moments with
    delta/2 (union bound; module docstring). Returns oo when the bound on ||E|| reaches
    lambda_min(M) (the sample is too small for a guarantee)."""
    n, delta = sp.sympify(n), sp.sympify(delta)
    quarter = sp.Rational(1, 4)
    E = (second_moment_deviation_fourth_moment(gmm, n) / (delta / 2)) ** quarter
    e = (label_moment_deviation_fourth_moment(gmm, n) / (delta / 2)) ** quarter
    w = trained_weights(gmm)
    smallest = min(second_moment(gmm).eigenvals(), key=lambda v: float(sp.N(v, 30)))
    if float(sp.N(E - smallest, 30)) >= 0:
        return sp.oo
    return (e + E * sp.sqrt((w.T * w)[0])) / (smallest - E)
