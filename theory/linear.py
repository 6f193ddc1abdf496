"""The linear-network NTK on a cluster model, derived by SymPy (THEORY.md sections 3-5).

Every linear network's NTK is c x.x' (claim L1), so its population operator has the
eigenfunctions of the second moment M = E[x x^T] = A + S with A = U Pi U^T the mean part
and S the mixture-averaged noise covariance (claim L2). Everything here is DERIVED from the
clusters: moments are summed, eigenpairs come from the characteristic polynomial of M or of
the m x m matrix Pi G (theory.exact: factored over the entries' field, roots in radicals or
CRootOf, eigenvectors by exact elimination), weights from an exact linear solve.

No function here calls an unbounded ``simplify`` (issue 15): entries are tidied with ``cancel``,
and ``simplify=True`` (where offered) simplifies only expressions of at most
theory.exact.SIMPLIFY_MAX_OPS operations. Every public function states a MEASURED time bound
(TIME_BOUNDS, seconds, on one loaded CPU core; tests/test_sympy_layer.py enforces them) on three
models: the canonical model with symbolic alpha, beta, rho, var ("symbolic"); 3 aligned + 3
conflicting clusters per class, 3 dimensions, symbolic rho ("3 per class"); and a numeric
10-cluster mixture in 3 dimensions with rational weights, means and variances ("numeric").

Parameters: public signatures take the aligned fraction rho and the variance var (GMM.canonical,
canonical_substitution); the closed forms are written in the derived p = imbalance(rho) = 2 rho - 1
and s = sqrt(var), the symbols P and S below.
"""
from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.polys.matrices import DomainMatrix
from sympy.polys.matrices.exceptions import DMNonInvertibleMatrixError as NonInvertibleMatrixError

from theory.exact import eigenpairs, eigenvalues, exact, image_eigenpairs, tidy
from theory.gmm import GMM, aligned_fraction, effective_imbalance, imbalance

#: Measured time bounds (seconds) of each public function on the three models of the module docstring,
#: the largest of the three measurements times about 5 (the machine is shared): tests/test_sympy_layer.py
#: runs every function on every model under these bounds. The closed forms (canonical_*) are cached after
#: their first call; the bound is that of the first call.
TIME_BOUNDS = {
    "mean_moment": 2.0,
    "second_moment": 2.0,
    "label_moment": 2.0,
    "mixture_variance": 2.0,
    "population_eigenvalues": 5.0,
    "population_eigenpairs": 5.0,
    "weighted_gram": 2.0,
    "gram_route_eigenpairs": 10.0,
    "trained_weights": 2.0,
    "feature_energies": 5.0,
    "cluster_outputs": 5.0,
    "interpolation_outputs": 2.0,
    "mean_part_eigenvalues": 2.0,
    "canonical_reduction": 2.0,
    "canonical_substitution": 2.0,
    "canonical_eigenvalues": 2.0,
    "canonical_trained_weights": 2.0,
    "conflicting_margin": 2.0,
    "misclassification_threshold": 2.0,
}


def mean_moment(gmm: GMM) -> sp.Matrix:
    """A = sum_c pi_c mu_c mu_c^T = U Pi U^T (d x d). Measured (first call, shared CPU): 0.01 s on the symbolic
    canonical model, 0.01 s on 3 clusters per class in 3-D, 0.00 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["mean_moment"] = 2 s."""
    return tidy(sp.Add(*(c.weight * c.mean * c.mean.T for c in gmm.clusters), sp.zeros(gmm.dim, gmm.dim)))


def second_moment(gmm: GMM) -> sp.Matrix:
    """M = E[x x^T] = A + S (claim L2). Measured (first call, shared CPU): 0.02 s on the symbolic canonical model,
    0.03 s on 3 clusters per class in 3-D, 0.00 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["second_moment"] = 2 s."""
    return tidy(mean_moment(gmm) + gmm.noise_covariance)


def label_moment(gmm: GMM) -> sp.Matrix:
    """m = E[y x] = sum_c pi_c y_c mu_c (d x 1); for K classes E[x t^T] with one-hot targets t (d x K).
    Measured (first call, shared CPU): 0.01 s on the symbolic canonical model, 0.01 s on 3 clusters per class in
    3-D, 0.00 s on the numeric 10-cluster model; bound TIME_BOUNDS["label_moment"] = 2 s."""
    T = gmm.targets
    return tidy(sp.Add(*(c.weight * c.mean * T[i, :] for i, c in enumerate(gmm.clusters)),
                       sp.zeros(gmm.dim, T.cols)))


def mixture_variance(gmm: GMM) -> sp.Expr:
    """S = sum_c pi_c sigma_c^2, the mixture-averaged within-cluster variance of a model whose clusters are
    each isotropic (claim D1): M = A + S I. Measured (first call, shared CPU): 0.00 s on the symbolic canonical
    model, 0.00 s on 3 clusters per class in 3-D, 0.00 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["mixture_variance"] = 2 s."""
    return tidy(sp.Add(*(w * v for w, v in zip(gmm.weights, gmm.cluster_variances))))


def population_eigenvalues(gmm: GMM, *, simplify: bool = False) -> list[sp.Expr]:
    """eig_i(M), one per dimension, largest first (theory.exact.descending), from the characteristic
    polynomial of M alone (no eigenvectors): roots in radicals, CRootOf for a numeric irreducible factor
    of degree >= 3, the trigonometric form for a symbolic cubic. Measured (first call, shared CPU): 0.06 s on the
    symbolic canonical model, 0.10 s on 3 clusters per class in 3-D, 0.11 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["population_eigenvalues"] = 5 s."""
    return eigenvalues(second_moment(gmm), simplify=simplify)


def mean_part_eigenvalues(gmm: GMM, *, simplify: bool = False) -> list[sp.Expr]:
    """eig_i(A) + S for a model of isotropic clusters: claim D1's prediction of eig_i(M) from the means
    and S = mixture_variance(gmm) alone. Measured (first call, shared CPU): 0.04 s on the symbolic canonical model,
    0.08 s on 3 clusters per class in 3-D, 0.01 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["mean_part_eigenvalues"] = 2 s."""
    S = mixture_variance(gmm)
    return [tidy(v + S, simplify=simplify) for v in eigenvalues(mean_moment(gmm), simplify=simplify)]


def population_eigenpairs(gmm: GMM, *, simplify: bool = False) -> list[tuple[sp.Expr, sp.Matrix]]:
    """Eigenpairs (eig_i(M), u_i) of M = E[x x^T], one pair per dimension (claim L2).

    The population NTK operator of k = c x.x' has eigenvalues c eig_i(M) and eigenfunctions
    phi_i(x) = u_i.x / sqrt(eig_i(M)). Eigenvectors are unit length and exact (theory.exact.eigenpairs:
    polynomials in the eigenvalue over the entries' field; CRootOf eigenvalues for a numeric irreducible
    cubic, so a numeric 10-cluster model in 3-D takes well under a second); inside a repeated eigenvalue an
    orthonormal basis of the eigenspace. Largest first (theory.exact.descending: numbers by value, symbols
    where their assumptions decide). Measured (first call, shared CPU): 0.05 s on the symbolic canonical model, 0.11
    s on 3 clusters per class in 3-D, 0.01 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["population_eigenpairs"] = 5 s.
    """
    return eigenpairs(second_moment(gmm), simplify=simplify)


def weighted_gram(gmm: GMM) -> sp.Matrix:
    """H = Pi^1/2 G Pi^1/2 with G = U^T U (m x m): nonzero eig(A) = eig(H) (THEORY.md L2).
    Measured (first call, shared CPU): 0.01 s on the symbolic canonical model, 0.05 s on 3 clusters per class in
    3-D, 0.02 s on the numeric 10-cluster model; bound TIME_BOUNDS["weighted_gram"] = 2 s."""
    root = sp.diag(*[sp.sqrt(w) for w in gmm.weights])
    return tidy(root * gmm.means.T * gmm.means * root)


def gram_route_eigenpairs(gmm: GMM, *, simplify: bool = False) -> list[tuple[sp.Expr, sp.Matrix]]:
    """Eigenpairs of M on span(U) through an m x m matrix, for isotropic noise S = s^2 I.

    Pi G (G = U^T U) is similar to H = Pi^1/2 G Pi^1/2 and has no square roots of the weights: each of its
    eigenpairs (eta, z) with eta != 0 gives eig(M) = eta + s^2 with unit eigenvector u = U z / ||U z||
    (= U Pi^1/2 h / sqrt(eta) for the eigenvector h = Pi^-1/2 z of H). The complement of span(U) has
    eigenvalue s^2. Measured (first call, shared CPU): 0.05 s on the symbolic canonical model, 0.31 s on 3 clusters
    per class in 3-D, 0.02 s on the numeric 10-cluster model; bound TIME_BOUNDS["gram_route_eigenpairs"] = 10 s (the
    symbolic-rho canonical model took
    > 4 min through sympy's eigenvects and simplify).
    """
    s2 = gmm.isotropic_variance
    if s2 is None:
        raise ValueError("gmm must have isotropic noise (S = s^2 I) for the Gram route")
    U = gmm.means
    return [(tidy(eta + s2, simplify=simplify), u)
            for eta, u in image_eigenpairs(sp.diag(*gmm.weights) * U.T * U, U, simplify=simplify)]


def _left_solve(left: sp.Matrix, A: sp.Matrix, B: sp.Matrix) -> sp.Matrix | None:
    """left A^-1 B exactly, by fraction-free elimination over the entries' own ring (DomainMatrix.solve_den:
    no gcds on the way, one division at the end); None when A is singular."""
    D, L = DomainMatrix.from_Matrix(A.row_join(B)), DomainMatrix.from_Matrix(left)
    D, L = D.unify(L)
    try:
        x, den = D[:, :A.cols].solve_den(D[:, A.cols:])
    except NonInvertibleMatrixError:
        return None
    numerator, field = L * x, D.domain.get_field()
    scale = field.convert(den, D.domain)
    return sp.Matrix(numerator.shape[0], numerator.shape[1],
                     lambda i, j: field.to_sympy(field.convert(numerator[i, j].element, D.domain) / scale))


def _solve(M: sp.Matrix, rhs: sp.Matrix) -> sp.Matrix:
    """M^+ rhs for a symmetric positive semi-definite M and rhs in its range, exactly: (M + P_N)^-1 rhs with
    P_N the projector on null(M) (= M^-1 rhs when M is invertible)."""
    identity = sp.eye(M.rows)
    solved = _left_solve(identity, M, rhs)
    if solved is not None:
        return solved
    N = (DomainMatrix.from_Matrix(M).to_field().nullspace().transpose()).to_Matrix()
    projector = N * (N.T * N).inv() * N.T
    return tidy(_left_solve(identity, tidy(M + projector), rhs))


def trained_weights(gmm: GMM) -> sp.Matrix:
    """w_inf = M^+ E[y x]: the population least-squares weights (THEORY.md section 5); d x K for K classes.

    Gradient descent from w_0 = 0 stays in the range of M, so when M is singular
    (zero variance, rank U < d) it converges to the minimum-norm solution M^+ m; when M is
    invertible this is M^{-1} m. Exact elimination (no simplify). Measured (first call, shared CPU): 0.03 s on the
    symbolic canonical model, 0.03 s on 3 clusters per class in 3-D, 0.00 s on the numeric 10-cluster model; bound
    TIME_BOUNDS["trained_weights"] = 2 s.
    """
    return _solve(second_moment(gmm), label_moment(gmm))


# ---- closed forms, derived with symbols ------------------------------------------------------
ALPHA, BETA, S = sp.symbols("alpha beta s", positive=True)
P = sp.Symbol("p", real=True)


def canonical_substitution(alpha, beta, rho, var=None) -> dict:
    """The values of the closed forms' symbols for GMM.canonical(alpha, beta, rho, var): the one
    place where the report's (rho, var) meet the closed forms' (p, s), p = imbalance(rho), s = sqrt(var).
    Floats are taken as their shortest decimal (theory.exact.exact). Measured (first call, shared CPU): 0.00 s on
    the symbolic canonical model, 0.00 s on 3 clusters per class in 3-D, 0.00 s on the numeric 10-cluster model;
    bound TIME_BOUNDS["canonical_substitution"] = 2 s."""
    values = {ALPHA: exact(alpha, "alpha"), BETA: exact(beta, "beta"), P: imbalance(exact(rho, "rho"))}
    return values if var is None else {**values, S: sp.sqrt(exact(var, "var"))}


def canonical_reduction(gmm: GMM) -> dict | None:
    """{alpha, beta, rho, var} of the canonical model whose closed forms (L2's eig_+-, S1, S2's w_core, w_bias,
    the conflicting margin) hold for ``gmm`` on (e_core, e_bias), with rho = aligned_fraction(p_eff),
    p_eff = sum_c pi_c y_c b_c, and var = S = sum_c pi_c sigma_c^2 (claim D1); None when the conditions fail.

    Conditions (sufficient; proof in docs/theory.md D1): a binary model of isotropic clusters whose means are
    y_c alpha e_core + b_c beta e_bias + o_c with ONE alpha and ONE beta for all clusters and offsets o_c
    orthogonal to e_core, e_bias with sum_c pi_c y_c o_c = 0 and sum_c pi_c b_c o_c = 0. Then
    A = [[alpha^2, p_eff alpha beta], [p_eff alpha beta, beta^2]] (+) sum_c pi_c o_c o_c^T and
    E[y x] = alpha e_core + p_eff beta e_bias: M and w_inf split into the canonical block and the offsets'
    block. Measured (first call, shared CPU): 0.00 s on the symbolic canonical model, 0.01 s on 3 clusters per class
    in 3-D, 0.00 s on the numeric 10-cluster model; bound TIME_BOUNDS["canonical_reduction"] = 2 s."""
    from theory.gmm import BIAS, CORE

    if gmm.classes is not None or gmm.dim < 2:
        return None
    try:
        p_eff, S = effective_imbalance(gmm), mixture_variance(gmm)
    except ValueError:
        return None
    signs = [1 if c.aligned else -1 for c in gmm.clusters]
    alphas = {tidy(c.label * c.mean[CORE]) for c in gmm.clusters}
    betas = {tidy(b * c.label * c.mean[BIAS]) for b, c in zip(signs, gmm.clusters)}
    if len(alphas) != 1 or len(betas) != 1:
        return None
    offsets = [c.mean.copy() for c in gmm.clusters]
    for o in offsets:
        o[CORE] = o[BIAS] = 0
    y_sum = sp.Add(*(c.weight * c.label * o for c, o in zip(gmm.clusters, offsets)), sp.zeros(gmm.dim, 1))
    b_sum = sp.Add(*(c.weight * c.label * b * o for b, c, o in zip(signs, gmm.clusters, offsets)),
                   sp.zeros(gmm.dim, 1))
    if tidy(y_sum) != sp.zeros(gmm.dim, 1) or tidy(b_sum) != sp.zeros(gmm.dim, 1):
        return None
    return {"alpha": alphas.pop(), "beta": betas.pop(), "rho": tidy(aligned_fraction(p_eff)), "var": S}


@cache
def canonical_eigenvalues() -> tuple[sp.Expr, sp.Expr]:
    """(eig_+, eig_-) of M for the canonical model, as functions of alpha, beta, p, s (claims L2, S1).
    Measured (first call, shared CPU): 0.08 s on the symbolic canonical model, 0.07 s on 3 clusters per class in
    3-D, 0.07 s on the numeric 10-cluster model; bound TIME_BOUNDS["canonical_eigenvalues"] = 2 s.

    Derived from the core/bias block [[a, b], [b, c]] of M for GMM.canonical(alpha, beta, rho = (1 + p)/2,
    s^2): (a + c)/2 +- sqrt(((a - c)/2)^2 + b^2), written with the radicand as a SUM OF SQUARES of the
    block's entries, and checked to be the two roots of the block's characteristic polynomial. The sum of
    squares matters numerically: the expanded radicand alpha^4 - 2 alpha^2 beta^2 + beta^4 + ... cancels to
    a negative float at alpha = beta, p = 0 (sqrt -> NaN), while ((a - c)/2)^2 + b^2 >= 0 in any arithmetic.
    """
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), S**2)
    block = second_moment(gmm)[:2, :2]
    a, b, c = (sp.factor(block[i, j]) for i, j in ((0, 0), (0, 1), (1, 1)))
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
    = (u_i.m)^2 / (eig_i(A) + s^2) under isotropic noise (claim S2). For K classes the energy is summed
    over the K outputs. Measured (first call, shared CPU): 0.08 s on the symbolic canonical model, 0.18 s on 3
    clusters per class in 3-D, 0.03 s on the numeric 10-cluster model; bound TIME_BOUNDS["feature_energies"] = 5 s.
    """
    m = label_moment(gmm)
    return [(value, tidy(sum(x**2 for x in u.T * m) / value)) for value, u in population_eigenpairs(gmm)]


def cluster_outputs(gmm: GMM) -> sp.Matrix:
    """F = (f(mu_c))_c for the trained model, through the m x m Woodbury route (claims S2, N1):
        F = U^T M^{-1} U Pi y = G (Pi G + s^2 I)^{-1} Pi y,   G = U^T U,
    derived by solving (Pi G + s^2 I) z = Pi y (isotropic noise). With s^2 = 0 and G
    invertible, F = y: every cluster mean is fitted, conflicting ones too. When Pi G + s^2 I is singular
    (s^2 = 0 with more clusters than rank U) F = U^T M^+ E[y x]. K classes: y -> the one-hot targets (m x K).
    Measured (first call, shared CPU): 0.02 s on the symbolic canonical model, 0.22 s on 3 clusters per class in
    3-D, 0.00 s on the numeric 10-cluster model; bound TIME_BOUNDS["cluster_outputs"] = 5 s."""
    s2 = gmm.isotropic_variance
    if s2 is None:
        raise ValueError("gmm must have isotropic noise (S = s^2 I) for the Woodbury route")
    U, Pi = gmm.means, sp.diag(*gmm.weights)
    G = U.T * U
    F = _left_solve(G, Pi * G + s2 * sp.eye(len(gmm.clusters)), Pi * gmm.targets)
    return tidy(U.T * trained_weights(gmm)) if F is None else F


def interpolation_outputs(gmm: GMM, counts, *, dim=None, gamma=1) -> sp.Matrix:
    """Claim D3: the min-norm interpolant's cluster outputs F_c = mu_c . w (the mean output on fresh points of
    cluster c) for n_c = counts[c] training points per cluster in R^dim (d >> n), targets gamma y (one-hot
    columns for K classes), predicted by the per-cluster ridge

        F ~ G (G + diag(d sigma_c^2 / n_c))^-1 gamma y,      G = U^T U,

    exact when the noise Gram N N^T equals its expectation diag(d sigma_{c(i)}^2), with error ~ sqrt(n/d)
    otherwise. ``gmm`` holds the means in its own coordinates; ``dim`` (default gmm.dim) is the ambient
    dimension d, every coordinate of which carries cluster c's variance sigma_c^2 (the coordinates beyond
    gmm.dim are pure noise). Imbalance and variance enter only through d sigma_c^2 / n_c. Measured (first call,
    shared CPU): 0.01 s on the symbolic canonical model, 0.00 s on 3 clusters per class in 3-D, 0.00 s on the
    numeric 10-cluster model; bound TIME_BOUNDS["interpolation_outputs"] = 2 s."""
    counts = [exact(n, f"counts[{c}]") for c, n in enumerate(counts)]
    m = len(gmm.clusters)
    if len(counts) != m or any(not (n.is_integer and n > 0) for n in counts):
        raise ValueError(f"counts must be {m} positive integers (one per cluster), got {counts}")
    d = gmm.dim if dim is None else exact(dim, "dim")
    U = gmm.means
    G = U.T * U
    ridge = sp.diag(*[d * v / n for v, n in zip(gmm.cluster_variances, counts)])
    F = _left_solve(G, G + ridge, exact(gamma, "gamma") * gmm.targets)
    if F is None:
        raise ValueError("G + diag(d sigma_c^2 / n_c) is singular: give the clusters with dependent means a "
                         "positive variance")
    return F


CORE_VAR, BIAS_VAR = sp.symbols("s_c s_b", positive=True)


@cache
def canonical_trained_weights() -> tuple[sp.Expr, sp.Expr]:
    """(w_core, w_bias) of w_inf for the canonical model with per-attribute variances
    s_c^2 (core), s_b^2 (bias), as functions of alpha, beta, p, s_c, s_b (claim S2).
    Measured (first call, shared CPU): 0.08 s on the symbolic canonical model, 0.07 s on 3 clusters per class in
    3-D, 0.08 s on the numeric 10-cluster model; bound TIME_BOUNDS["canonical_trained_weights"] = 2 s."""
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), CORE_VAR**2, var_core=CORE_VAR**2, var_bias=BIAS_VAR**2)
    w = trained_weights(gmm)
    return sp.factor(w[0]), sp.factor(w[1])


@cache
def conflicting_margin() -> sp.Expr:
    """y f(mu_{y,-y}) for the isotropic canonical model (alpha, beta, p, s): the trained
    model's margin on a bias-conflicting cluster mean (claim S2); < 0 means misclassified.
    Measured (first call, shared CPU): 0.08 s on the symbolic canonical model, 0.07 s on 3 clusters per class in
    3-D, 0.08 s on the numeric 10-cluster model; bound TIME_BOUNDS["conflicting_margin"] = 2 s."""
    gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), S**2)
    conflicting = gmm.clusters[2]                       # (y, b) = (+1, -1)
    return sp.factor(conflicting.label * (conflicting.mean.T * trained_weights(gmm))[0])


@cache
def misclassification_threshold() -> sp.Expr:
    """The s^2 at which the conflicting margin changes sign: the root in s^2 of its numerator.
    Measured (first call, shared CPU): 0.05 s on the symbolic canonical model, 0.04 s on 3 clusters per class in
    3-D, 0.04 s on the numeric 10-cluster model; bound TIME_BOUNDS["misclassification_threshold"] = 2 s."""
    s2 = sp.Symbol("s2", positive=True)
    numerator = sp.numer(sp.together(conflicting_margin())).subs(S**2, s2)
    roots = sp.solve(sp.Eq(numerator, 0), s2)
    if len(roots) != 1:
        raise ArithmeticError(f"expected one root of the margin's numerator in s^2, got {roots}")
    return sp.factor(roots[0])
