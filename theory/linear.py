"""The linear-network NTK on a cluster model, derived by SymPy (THEORY.md sections 3-5).

Every linear network's NTK is c x.x' (claim L1), so its population operator has the
eigenfunctions of the second moment M = E[x x^T] = A + S with A = U Pi U^T the mean part
and S the mixture-averaged noise covariance (claim L2). Everything here is DERIVED from the
clusters: moments are summed, eigenpairs come from SymPy's eigen-decomposition or from the
characteristic polynomial of the m x m weighted Gram H = Pi^1/2 G Pi^1/2, weights from a
linear solve.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.gmm import GMM, aligned_fraction, imbalance


def mean_moment(gmm: GMM) -> sp.Matrix:
    """A = sum_c pi_c mu_c mu_c^T = U Pi U^T (d x d)."""
    return sp.simplify(sp.Add(*(c.weight * c.mean * c.mean.T for c in gmm.clusters),
                              sp.zeros(gmm.dim, gmm.dim)))


def second_moment(gmm: GMM) -> sp.Matrix:
    """M = E[x x^T] = A + S (claim L2)."""
    return sp.simplify(mean_moment(gmm) + gmm.noise_covariance)


def label_moment(gmm: GMM) -> sp.Matrix:
    """m = E[y x] = sum_c pi_c y_c mu_c (d x 1)."""
    return sp.simplify(sp.Add(*(c.weight * c.label * c.mean for c in gmm.clusters),
                              sp.zeros(gmm.dim, 1)))


def _sort_descending(pairs):
    """Sort (value, vector) pairs by value, descending, when every value is a number."""
    if all(sp.sympify(v).is_number for v, _ in pairs):
        return sorted(pairs, key=lambda vu: -float(sp.N(vu[0], 30)))
    return pairs


def population_eigenpairs(gmm: GMM) -> list[tuple[sp.Expr, sp.Matrix]]:
    """Eigenpairs (eig_i(M), u_i) of M = E[x x^T], one pair per dimension (claim L2).

    The population NTK operator of k = c x.x' has eigenvalues c eig_i(M) and eigenfunctions
    phi_i(x) = u_i.x / sqrt(eig_i(M)). Eigenvectors are unit length; inside a repeated
    eigenvalue they are an orthonormal basis of the eigenspace (Gram-Schmidt). Sorted
    descending when the eigenvalues are numbers.
    """
    pairs = []
    for value, multiplicity, vectors in second_moment(gmm).eigenvects(simplify=True):
        basis = sp.GramSchmidt([sp.Matrix(v) for v in vectors], True)
        if len(basis) != multiplicity:
            raise ArithmeticError(f"M is not diagonalizable at eigenvalue {value}")
        pairs += [(sp.simplify(value), sp.simplify(u)) for u in basis]
    return _sort_descending(pairs)


def weighted_gram(gmm: GMM) -> sp.Matrix:
    """H = Pi^1/2 G Pi^1/2 with G = U^T U (m x m): nonzero eig(A) = eig(H) (THEORY.md L2)."""
    root = sp.diag(*[sp.sqrt(w) for w in gmm.weights])
    return sp.simplify(root * gmm.means.T * gmm.means * root)


def gram_route_eigenpairs(gmm: GMM) -> list[tuple[sp.Expr, sp.Matrix]]:
    """Eigenpairs of M on span(U) through the m x m matrix H, for isotropic noise S = s^2 I.

    Each eigenpair (eta, h) of H with eta != 0 gives eig(M) = eta + s^2 with unit eigenvector
    u = U Pi^1/2 h / sqrt(eta) (h normalized). The complement of span(U) has eigenvalue s^2.
    """
    s2 = gmm.isotropic_variance
    if s2 is None:
        raise ValueError("gmm must have isotropic noise (S = s^2 I) for the Gram route")
    root = sp.diag(*[sp.sqrt(w) for w in gmm.weights])
    pairs = []
    for eta, _, vectors in weighted_gram(gmm).eigenvects(simplify=True):
        if sp.simplify(eta) == 0:
            continue
        for h in sp.GramSchmidt([sp.Matrix(v) for v in vectors], True):
            u = sp.simplify(gmm.means * root * h / sp.sqrt(eta))
            pairs.append((sp.simplify(eta + s2), u))
    return _sort_descending(pairs)


def trained_weights(gmm: GMM) -> sp.Matrix:
    """w_inf = M^+ E[y x]: the population least-squares weights (THEORY.md section 5).

    Gradient descent from w_0 = 0 stays in the range of M, so when M is singular
    (zero variance, rank U < d) it converges to the minimum-norm solution M^+ m; when M is
    invertible this is M^{-1} m.
    """
    M, m = second_moment(gmm), label_moment(gmm)
    det = sp.simplify(M.det())
    solve = M.pinv() if det == 0 else M.inv()
    return sp.simplify(solve * m)


# ---- closed forms, derived with symbols ------------------------------------------------------
ALPHA, BETA, S = sp.symbols("alpha beta s", positive=True)
P = sp.Symbol("p", real=True)


def canonical_substitution(alpha, beta, rho, var=None) -> dict:
    """The values of the closed forms' symbols for GMM.canonical(alpha, beta, rho, var): the one
    place where the report's (rho, var) meet the closed forms' (p, s), p = imbalance(rho), s = sqrt(var)."""
    values = {ALPHA: sp.nsimplify(alpha), BETA: sp.nsimplify(beta), P: imbalance(sp.nsimplify(rho))}
    return values if var is None else {**values, S: sp.sqrt(sp.nsimplify(var))}


@lru_cache(maxsize=None)
def canonical_eigenvalues() -> tuple[sp.Expr, sp.Expr]:
    """(eig_+, eig_-) of M for the canonical model, as functions of alpha, beta, p, s (claims L2, S1).

    Derived from the core/bias block [[a, b], [b, c]] of M for GMM.canonical(alpha, beta, rho = (1 + p)/2,
    s^2): (a + c)/2 +- sqrt(((a - c)/2)^2 + b^2), written with the radicand as a SUM OF SQUARES of the
    block's entries, and checked to be the two roots of the block's characteristic polynomial. The sum of
    squares matters numerically: the expanded radicand alpha^4 - 2 alpha^2 beta^2 + beta^4 + ... cancels to
    a negative float at alpha = beta, p = 0 (sqrt -> NaN), while ((a - c)/2)^2 + b^2 >= 0 in any arithmetic.
    """
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), S**2)
    block = second_moment(gmm)[:2, :2]
    a, b, c = (sp.simplify(block[i, j]) for i, j in ((0, 0), (0, 1), (1, 1)))
    half_gap = sp.sqrt(sp.factor((a - c) / 2) ** 2 + sp.factor(b) ** 2)
    plus, minus = (a + c) / 2 + half_gap, (a + c) / 2 - half_gap
    lam = sp.Symbol("lambda")
    charpoly = block.charpoly(lam).as_expr()
    if any(sp.expand(charpoly.subs(lam, root)) != 0 for root in (plus, minus)):
        raise ArithmeticError("the 2 x 2 eigenvalue formula does not solve the block's characteristic polynomial")
    return plus, minus


# ---- after training (THEORY.md section 5, claims S2 and N1) -----------------------------------
def feature_energies(gmm: GMM) -> list[tuple[sp.Expr, sp.Expr]]:
    """[(eig_i(M), E[f^(i)(x)^2]), ...] for the trained model f = w_inf . x, descending in eig.

    f^(i)(x) = (u_i.x)(u_i.m)/eig_i(M) is feature i's part of w_inf = sum_i u_i (u_i.m)/eig_i(M);
    E[(u_i.x)^2] = u_i^T M u_i = eig_i(M), so its energy is (u_i.m)^2 / eig_i(M)
    = (u_i.m)^2 / (eig_i(A) + s^2) under isotropic noise (claim S2).
    """
    m = label_moment(gmm)
    return [(value, sp.simplify((u.T * m)[0] ** 2 / value)) for value, u in population_eigenpairs(gmm)]


def cluster_outputs(gmm: GMM) -> sp.Matrix:
    """F = (f(mu_c))_c for the trained model, through the m x m Woodbury route (claims S2, N1):
        F = U^T M^{-1} U Pi y = G (Pi G + s^2 I)^{-1} Pi y,   G = U^T U,
    derived by solving (Pi G + s^2 I) z = Pi y (isotropic noise). With s^2 = 0 and G
    invertible, F = y: every cluster mean is fitted, conflicting ones too."""
    s2 = gmm.isotropic_variance
    if s2 is None:
        raise ValueError("gmm must have isotropic noise (S = s^2 I) for the Woodbury route")
    U, Pi = gmm.means, sp.diag(*gmm.weights)
    G = U.T * U
    y = sp.Matrix(gmm.labels)
    system = Pi * G + s2 * sp.eye(len(gmm.clusters))
    return sp.simplify(G * system.LUsolve(Pi * y))


CORE_VAR, BIAS_VAR = sp.symbols("s_c s_b", positive=True)


@lru_cache(maxsize=None)
def canonical_trained_weights() -> tuple[sp.Expr, sp.Expr]:
    """(w_core, w_bias) of w_inf for the canonical model with per-attribute variances
    s_c^2 (core), s_b^2 (bias), as functions of alpha, beta, p, s_c, s_b (claim S2)."""
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), CORE_VAR**2, var_core=CORE_VAR**2, var_bias=BIAS_VAR**2)
    w = trained_weights(gmm)
    return sp.factor(sp.simplify(w[0])), sp.factor(sp.simplify(w[1]))


@lru_cache(maxsize=None)
def conflicting_margin() -> sp.Expr:
    """y f(mu_{y,-y}) for the isotropic canonical model (alpha, beta, p, s): the trained
    model's margin on a bias-conflicting cluster mean (claim S2); < 0 means misclassified."""
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), S**2)
    conflicting = gmm.clusters[2]                       # (y, b) = (+1, -1)
    return sp.factor(sp.simplify(conflicting.label * (conflicting.mean.T * trained_weights(gmm))[0]))


@lru_cache(maxsize=None)
def misclassification_threshold() -> sp.Expr:
    """The s^2 at which the conflicting margin changes sign: the root in s^2 of its numerator."""
    s2 = sp.Symbol("s2", positive=True)
    numerator = sp.numer(sp.together(conflicting_margin())).subs(S**2, s2)
    roots = sp.solve(sp.Eq(numerator, 0), s2)
    if len(roots) != 1:
        raise ArithmeticError(f"expected one root of the margin's numerator in s^2, got {roots}")
    return sp.simplify(roots[0])
