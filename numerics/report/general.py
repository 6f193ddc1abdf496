"""The paper's general data model (claims D1, D3; issue 15): experiments and report rows.

D1: a model with several aligned and conflicting clusters per class, each with its own weight and isotropic
variance, has M = A + S I with S = sum_c pi_c sigma_c^2. Measured: the Gram eigenvalues / n of its exact-moment
design (numerics.data.exact_moment_design, X^T X / n = M exactly) against SymPy's eig(A) + S.

D3: the min-norm interpolant's cluster outputs follow the per-cluster ridge G (G + diag(d sigma_c^2 / n_c))^-1
gamma y. Measured: min-norm interpolation of n_c sampled points per cluster in R^d (d >> n), F_c = mu_c . w.
The tests (tests/test_d1_d3_general_model.py) drive the same functions with Hypothesis draws.

E3 per output column (more than two classes): multi-class colored digits, K = 3 digit classes in K colours with a
K x K label-colour table of diagonal mass rho (numerics.experiments.multiclass, tests/test_multiclass_digits.py):
kernel regression with the two-layer ReLU NTK, one-hot targets; the conflicting cells' margin falls with rho, the
gap grows, and at rho = 1/K it is within the seed-noise band.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from numerics import checks
from numerics import tolerances as tol
from numerics.data import MixtureArrays, exact_moment_design
from numerics.experiments import multiclass
from numerics.report.rows import Context, Row
from numerics.seeds import numpy_generator
from numerics.settings import ALPHA, BETA
from numerics.training import min_norm_interpolant
from theory import GMM, linear

ARCH = "linear"


def to_floats(exprs) -> np.ndarray:
    """SymPy numbers (CRootOf, radicals, rationals) as float64, evaluated at 30 digits first."""
    return np.array([float(sp.N(e, 30)) for e in exprs], dtype=np.float64)


# ---- D1 ----------------------------------------------------------------------------------------
#: The report's general model: 2 aligned clusters and 1 conflicting cluster per class, aligned fraction 0.9
#: (p_eff = 0.8), its own variance per cluster, offsets on e_2 with sum_c pi_c y_c o_c = sum_c pi_c b_c o_c = 0
#: (so S1/S2's closed forms carry over with p_eff and S). The same model is docs/example_model.json.
GENERAL_CLUSTERS = (
    (1, 1, Fraction(3, 10), Fraction(1, 5), [Fraction(1, 2)]), (1, 1, Fraction(3, 20), Fraction(3, 10), [-1]),
    (1, -1, Fraction(1, 20), Fraction(1, 2), [0]),
    (-1, -1, Fraction(3, 10), Fraction(1, 4), [Fraction(1, 2)]), (-1, -1, Fraction(3, 20), Fraction(7, 20), [-1]),
    (-1, 1, Fraction(1, 20), Fraction(2, 5), [0]),
)


def general_model(variances=None) -> GMM:
    """GMM.general(ALPHA, BETA, GENERAL_CLUSTERS) in d = 3, with ``variances`` replacing the per-cluster ones."""
    rows = [(y, b, w, v if variances is None else variances[c], o)
            for c, (y, b, w, v, o) in enumerate(GENERAL_CLUSTERS)]
    return GMM.general(ALPHA, BETA, rows)


def design_eigenvalues(gmm: GMM) -> np.ndarray:
    """Eigenvalues of X^T X / n of the exact-moment design of ``gmm`` (= eig(M) up to rounding), descending."""
    design = exact_moment_design(gmm)
    return np.linalg.eigvalsh(design.X.T @ design.X / design.n)[::-1]


def float_eigenvalues(gmm: GMM) -> np.ndarray:
    """numpy's eigenvalues of M = sum_c pi_c (mu_c mu_c^T + sigma_c^2 I) built in float64, descending."""
    return np.linalg.eigvalsh(MixtureArrays.from_gmm(gmm).second_moment)[::-1]


def canonical_closed_form(gmm: GMM) -> np.ndarray | None:
    """(eig_+, eig_-) of the canonical closed form at p = p_eff, s^2 = S (linear.canonical_reduction), or None."""
    reduced = linear.canonical_reduction(gmm)
    if reduced is None:
        return None
    values = linear.canonical_substitution(reduced["alpha"], reduced["beta"], reduced["rho"], reduced["var"])
    return to_floats(e.subs(values) for e in linear.canonical_eigenvalues())


def charpoly_residual(gmm_with_symbols: GMM, S) -> sp.Expr:
    """det(lambda I - M) - det((lambda - S) I - A), expanded: 0 exactly when the spectrum depends on the cluster
    variances only through ``S`` (D1, for symbolic per-cluster variances)."""
    from sympy.polys.matrices import DomainMatrix

    lam = sp.Symbol("lambda")

    def charpoly(matrix):                                # division-free, over the entries' own ring
        D = DomainMatrix.from_Matrix(matrix)
        coefficients = D.charpoly()
        return sp.Add(*(D.domain.to_sympy(c) * lam ** (len(coefficients) - 1 - k) for k, c in enumerate(coefficients)))

    M, A = linear.second_moment(gmm_with_symbols), linear.mean_moment(gmm_with_symbols)
    return sp.expand(charpoly(M) - charpoly(A).subs(lam, lam - S))


def d1(ctx: Context) -> Row:
    gmm = general_model()
    predicted = to_floats(linear.mean_part_eigenvalues(gmm))
    design = design_eigenvalues(gmm)
    S = linear.mixture_variance(gmm)
    m = len(gmm.clusters)
    same_S = general_model([S] * m)                                  # the variances redistributed, S kept
    unweighted = sp.Add(*gmm.cluster_variances) / m                   # the control: an unweighted mean
    wrong = to_floats(v - S + unweighted for v in linear.mean_part_eigenvalues(gmm))
    sigma = sp.symbols(f"sigma1:{m + 1}", positive=True)
    symbolic = general_model([s**2 for s in sigma])
    typed_S = sum(w * s**2 for w, s in zip(symbolic.weights, sigma))  # typed here, not linear.mixture_variance
    closed = canonical_closed_form(gmm)
    control = checks.spectrum_through_mixture_variance(design, wrong, tol.D1_DESIGN_EIGENVALUES)
    check = checks.all_of(
        checks.spectrum_through_mixture_variance(design, predicted, tol.D1_DESIGN_EIGENVALUES),
        checks.spectrum_through_mixture_variance(design_eigenvalues(same_S), predicted, tol.D1_DESIGN_EIGENVALUES),
        checks.exactly_zero("det(l - M) - det(l - S - A) with symbolic sigma_c", charpoly_residual(symbolic, typed_S)),
        checks.canonical_form_carries(float_eigenvalues(gmm), closed, tol.CLOSED_FORM_ROUNDING),
        checks.at_least("unweighted-mean S control: its miss / allowance", control.worst / tol.D1_DESIGN_EIGENVALUES,
                        tol.NEGATIVE_CONTROL_FACTOR))
    p_eff = float(2 * linear.canonical_reduction(gmm)["rho"] - 1)
    return Row.judged("D1", ARCH, "linear", f"general model: 2 aligned + 1 conflicting per class, own variances, "
                      f"d = 3, p_eff = {p_eff:.2f}, S = {float(S):.4f}",
                      "eig(M) = eig(A) + S, S = sum pi_c sigma_c^2; canonical eig_+- at (p_eff, S)",
                      f"design vs eig(A)+S {check.worst:.1e}; unweighted-mean S misses by {control.worst:.1e}", check,
                      series={"design": design.tolist(), "predicted": predicted.tolist(), "unweighted": wrong.tolist(),
                              "S": float(S), "unweighted_S": float(unweighted)})


# ---- D3 ----------------------------------------------------------------------------------------
def interpolated_outputs(gmm: GMM, counts, dim: int, *, seed, gamma: float = 1.0) -> np.ndarray:
    """Measured D3 outputs: counts[c] points of cluster c in R^dim (mean mu_c padded with zeros, covariance
    sigma_c^2 I: gmm's coordinates and dim - gmm.dim pure-noise ones), targets gamma y (one-hot columns for K
    classes), the min-norm interpolant w; returns F_c = mu_c . w (m x K: the mean output on fresh points)."""
    arrays = MixtureArrays.from_gmm(gmm)
    targets = np.array(gmm.targets.tolist(), dtype=np.float64)
    counts = np.asarray(counts, dtype=int)
    cluster = np.repeat(np.arange(len(counts)), counts)
    if cluster.size >= dim:
        raise ValueError(f"dim must exceed n = {cluster.size} for interpolation, got {dim}")
    rng = numpy_generator(seed)
    X = rng.standard_normal((cluster.size, dim)) * np.sqrt(arrays.variances[cluster, :1])
    X[:, :gmm.dim] += arrays.means[cluster]
    W = np.column_stack([min_norm_interpolant(X, gamma * targets[cluster, j]) for j in range(targets.shape[1])])
    return arrays.means @ W[:gmm.dim]


def predicted_outputs(gmm: GMM, counts, dim: int, *, gamma=1) -> np.ndarray:
    """theory.linear.interpolation_outputs as float64 (m x K)."""
    F = linear.interpolation_outputs(gmm, counts, dim=dim, gamma=gamma)
    return np.array([[float(sp.N(x, 30)) for x in F.row(i)] for i in range(F.rows)])


def with_variance(gmm: GMM, k: int, variance) -> GMM:
    """``gmm`` with cluster k's variance replaced."""
    variances = list(gmm.cluster_variances)
    variances[k] = variance
    return GMM.from_arrays(gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, variances,
                           biases=gmm.biases, classes=gmm.classes)


def exchange(gmm: GMM, counts, dim: int, k: int, factor: int, *, seed, gamma: float = 1.0) -> dict:
    """Claim D3's exchange on cluster k: its count times ``factor`` vs its variance over ``factor``. Returns the
    measured and predicted outputs of both, and the total counts."""
    more = list(counts)
    more[k] *= factor
    thinner = with_variance(gmm, k, gmm.cluster_variances[k] / factor)
    return {"measured_count": interpolated_outputs(gmm, more, dim, seed=seed, gamma=gamma),
            "measured_variance": interpolated_outputs(thinner, counts, dim, seed=seed, gamma=gamma),
            "predicted_count": predicted_outputs(gmm, more, dim, gamma=gamma),
            "predicted_variance": predicted_outputs(thinner, counts, dim, gamma=gamma),
            "n_count": int(sum(more)), "n_variance": int(sum(counts))}


def d3_model(dim: int):
    """The report's D3 setting: the general model's means, counts n_c = pi_c n (n = 60), and variances with
    per-cluster ridges d sigma_c^2 / n_c = r_c in 1/2..2 (comparable to G)."""
    gmm = general_model()
    counts = [int(w * 60) for w in gmm.weights]
    ridges = [1, 2, Fraction(1, 2), Fraction(3, 2), 1, 1]
    variances = [Fraction(r) * n / dim for r, n in zip(ridges, counts)]
    model = GMM.from_arrays(gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, variances,
                            biases=gmm.biases)
    return model, counts


def rate_errors(ratios, *, n: int = 60, seeds=range(3)) -> list[float]:
    """Seed-averaged max_c |F_measured - F_predicted| of the D3 setting at d = ratio * n, for each ratio."""
    errors = []
    for ratio in ratios:
        model, counts = d3_model(ratio * n)
        predicted = predicted_outputs(model, counts, ratio * n)
        errors.append(float(np.mean([np.max(np.abs(interpolated_outputs(model, counts, ratio * n, seed=s) - predicted))
                                     for s in seeds])))
    return errors


def d3(ctx: Context) -> Row:
    dim = 24000 if ctx.full else 6000
    model, counts = d3_model(dim)
    n = sum(counts)
    measured = interpolated_outputs(model, counts, dim, seed=ctx.seed)
    predicted = predicted_outputs(model, counts, dim)
    k, factor = 2, 4                                        # the conflicting cluster of class +1, count 3 -> 12
    swap = exchange(model, counts, dim, k, factor, seed=ctx.seed)
    ratios = (20, 320)
    errors = rate_errors(ratios, seeds=range(ctx.seed, ctx.seed + (16 if ctx.full else 6)))
    check = checks.all_of(checks.interpolation_within_order(measured, predicted, n, dim, 1),
                          checks.count_variance_exchange(**swap, dim=dim, gamma=1),
                          checks.interpolation_rate(ratios, errors))
    return Row.judged("D3", ARCH, "linear (min-norm interpolant)",
                      f"general model, n = {n}, d = {dim}, ridges d s_c^2/n_c in 1/2..2; cluster {k}: n_k x {factor} "
                      f"vs s_k^2 / {factor}",
                      "F = G (G + diag(d s_c^2 / n_c))^-1 gamma y +- 3 sqrt(n/d); count x c = variance / c",
                      f"max err {np.max(np.abs(measured - predicted)):.3f} (bound "
                      f"{checks.interpolation_bound(n, dim, 1):.3f}); exchange |dF| "
                      f"{np.max(np.abs(swap['measured_count'] - swap['measured_variance'])):.3f}; error falls "
                      f"{errors[0] / errors[1]:.2f}x from d/n = 20 to 320", check,
                      series={"measured": measured.ravel().tolist(), "predicted": predicted.ravel().tolist(),
                              "rate_ratios": list(ratios), "rate_errors": errors})


# ---- E3 per output column: multi-class colored digits ---------------------------------------------------
MULTICLASS_RHOS = (Fraction(1, 3), Fraction(1, 2), Fraction(7, 10), Fraction(9, 10))
MULTICLASS_FULL_RHOS = (Fraction(1, 3), Fraction(2, 5), Fraction(1, 2), Fraction(3, 5), Fraction(7, 10), Fraction(4, 5),
                        Fraction(9, 10), Fraction(1))


def multiclass_e3(ctx: Context) -> Row:
    setting = multiclass.DEFAULT
    rhos = MULTICLASS_FULL_RHOS if ctx.full else MULTICLASS_RHOS
    seeds = range(ctx.seed, ctx.seed + (10 if ctx.full else 3))
    runs = [multiclass.margins_vs_imbalance(rhos, seed=seed, setting=setting) for seed in seeds]
    conflicting = np.array([[m.conflicting_margin for m in run] for run in runs])
    aligned = np.array([[m.aligned_margin for m in run] for run in runs])
    gaps = aligned - conflicting
    K, strong = len(setting.classes), rhos.index(Fraction(9, 10))
    train, _ = multiclass.train_and_test(rhos[strong], seed=ctx.seed, setting=setting)
    table = np.zeros((K, K), dtype=int)
    np.add.at(table, (train.labels, train.colours), 1)
    check = checks.all_of(
        checks.equal_training_margins(np.concatenate([m.train_margins for run in runs for m in run]), 1,
                                      tol.MULTICLASS_TRAIN_MARGIN),
        *(checks.multiclass_margins_trend(rhos, c, g, apart=tol.MULTICLASS_RHO_APART) for c, g in zip(conflicting, gaps)),
        checks.multiclass_gap_in_band(gaps[np.argmax(np.abs(gaps[:, 0])), 0], K, tol.MULTICLASS_BALANCE_BAND),
        checks.multiclass_gap_exceeds_band(gaps[:, strong].min(), rhos[strong], tol.MULTICLASS_BALANCE_BAND),
        checks.label_colour_table(table, rhos[strong]))
    return Row.judged("E3", "relu", "two-layer ReLU NTK (kernel regression, one output per class)",
                      f"colored digits 0, 1, 2 in red, green, blue, K x K table with diagonal rho; n = {setting.n}, "
                      f"8x8, noise {setting.noise}, seeds {seeds.start}-{seeds.stop - 1}",
                      "conflicting-cell margin f_y - max f_k falls, gap grows with rho; gap ~ 0 at rho = 1/K",
                      f"conflicting margin {conflicting[:, 0].min():.2f}-{conflicting[:, 0].max():.2f} at 1/{K} -> "
                      f"{conflicting[:, strong].min():.2f}-{conflicting[:, strong].max():.2f} at 9/10; gap "
                      f"{gaps[:, 0].min():+.2f}..{gaps[:, 0].max():+.2f} at 1/{K} (band "
                      f"{tol.MULTICLASS_BALANCE_BAND}), {gaps[:, strong].min():.2f}-{gaps[:, strong].max():.2f} at 9/10",
                      check, series={"margin_rho": [float(r) for r in rhos], "margin_gap": gaps.mean(axis=0).tolist(),
                                     "gaps": gaps.tolist(), "conflicting": conflicting.tolist(),
                                     "aligned": aligned.tolist(), "band": tol.MULTICLASS_BALANCE_BAND,
                                     "table": table.tolist()})


ENTRIES = [("D1", ARCH, d1), ("D3", ARCH, d3), ("E3", "relu", multiclass_e3)]
