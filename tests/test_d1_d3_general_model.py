"""D1 and D3: the paper's general data model (docs/theory.md#D1, #D3; issue 15).

The model: 1-4 aligned and 1-4 conflicting clusters per class, each with its own weight pi_c and isotropic
variance sigma_c^2, means that are not orthogonal (shared alpha, beta plus offsets, or arbitrary), and K > 2
classes with one-hot targets. D1: M = A + S I, S = sum_c pi_c sigma_c^2, and L2, S1, S2, N1 carry over with
p_eff = sum_c pi_c y_c b_c. D3: the min-norm interpolant's cluster outputs follow the per-cluster ridge
G (G + diag(d sigma_c^2 / n_c))^-1 gamma y, so a cluster's count times c acts like its variance over c.

Numeric where possible (numpy against SymPy's exact values); SymPy where the statement is an identity.
"""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics import tolerances as tol
from numerics.data import exact_moment_design
from numerics.experiments.linear import population_spectrum
from numerics.experiments.linear_training import cluster_margins, design_weights
from numerics.pytest_plugin import examples
from numerics.report import general as ex
from numerics.training import min_norm_interpolant
from theory import GMM, linear
from theory.gmm import aligned_fraction, effective_imbalance
from theory.strategies import free_gmms, general_gmms, interpolation_settings, multiclass_gmms, seeds

d1 = pytest.mark.claim("D1")
d3 = pytest.mark.claim("D3")


# ---- D1: the spectrum depends on the variances only through S -------------------------------------
@d1
def test_characteristic_polynomial_depends_on_the_variances_only_through_s_symbolically():
    """det(lambda I - M) = det((lambda - S) I - A) with SYMBOLIC per-cluster variances sigma_c^2 and a symbolic
    aligned fraction rho; S is typed here as sum_c pi_c sigma_c^2 (not taken from theory.linear)."""
    rho = sp.Symbol("rho", positive=True)
    sigma = sp.symbols("sigma1:7", positive=True)
    layout = [(1, 1, rho / 4, [1]), (1, 1, rho / 4, [-1]), (1, -1, (1 - rho) / 2, [0]),
              (-1, -1, rho / 4, [1]), (-1, -1, rho / 4, [-1]), (-1, 1, (1 - rho) / 2, [0])]
    weights = [w for _, _, w, _ in layout]
    gmm = GMM.general(1, Fraction(13, 10), [(y, b, w, sigma[c] ** 2, o) for c, (y, b, w, o) in enumerate(layout)])
    S = sum(w * s**2 for w, s in zip(weights, sigma))
    check = checks.exactly_zero("det(l I - M) - det((l - S) I - A)", ex.charpoly_residual(gmm, S))
    assert check.ok, check.detail
    # the negative control: an unweighted mean of the variances is not what M sees (shown at one point, where
    # the rule's simplify is instant on the nonzero residual)
    unweighted = sum(s**2 for s in sigma) / len(sigma)
    point = {rho: Fraction(9, 10), **{s: Fraction(c + 1, 7) for c, s in enumerate(sigma)}}
    control = checks.exactly_zero("with S the unweighted mean", ex.charpoly_residual(gmm, unweighted).subs(point))
    assert not control.ok, control.detail


def _d1_setting(gmm):
    """(design eigenvalues, float-M eigenvalues, SymPy eig(A) + S) of a general model."""
    predicted = ex.to_floats(linear.mean_part_eigenvalues(gmm))
    return ex.design_eigenvalues(gmm), ex.float_eigenvalues(gmm), predicted


@d1
@settings(max_examples=examples(15))
@given(gmm=st.one_of(general_gmms(), general_gmms(canonical_form=False), free_gmms(), multiclass_gmms()))
def test_spectrum_is_eig_a_plus_mixture_variance(gmm):
    """Measured eig(X^T X / n) of the exact-moment design and numpy's eig(M) equal SymPy's eig(A) + S."""
    design, numeric, predicted = _d1_setting(gmm)
    check = checks.all_of(checks.spectrum_through_mixture_variance(design, predicted, tol.D1_DESIGN_EIGENVALUES),
                          checks.spectrum_through_mixture_variance(numeric, predicted, tol.D1_POPULATION_EIGENVALUES))
    assert check.ok, check.detail


@d1
@settings(max_examples=examples(10))
@given(gmm=general_gmms(), data=st.data())
def test_redistributing_the_variances_at_equal_s_leaves_m_unchanged(gmm, data):
    """Any per-cluster variances with the same S give the same M, exactly (so the same spectrum)."""
    S = linear.mixture_variance(gmm)
    m = len(gmm.clusters)
    shares = data.draw(st.lists(st.integers(0, 5), min_size=m, max_size=m).filter(any))
    total = sum(w * k for w, k in zip(gmm.weights, shares))
    variances = [S * k / total for k in shares]                       # sum_c pi_c sigma_c'^2 = S
    other = GMM.from_arrays(gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, variances,
                            biases=gmm.biases)
    assert linear.second_moment(other) == linear.second_moment(gmm)


@d1
def test_negative_control_an_unweighted_mean_of_the_variances_misses_the_spectrum():
    """Power: S replaced by the unweighted mean of the sigma_c^2 misses the design spectrum by far more than the
    rounding allowance (the report's general model: unequal weights and variances)."""
    gmm = ex.general_model()
    design, _, predicted = _d1_setting(gmm)
    S = float(linear.mixture_variance(gmm))
    unweighted = float(np.mean([float(v) for v in gmm.cluster_variances]))
    control = checks.spectrum_through_mixture_variance(design, predicted - S + unweighted, tol.D1_DESIGN_EIGENVALUES)
    assert not control.ok and control.worst >= tol.NEGATIVE_CONTROL_FACTOR * tol.D1_DESIGN_EIGENVALUES, control.detail


# ---- D1: L2, S1, S2, N1 carry over --------------------------------------------------------------
@d1
@settings(max_examples=examples(8))
@given(gmm=st.one_of(general_gmms(max_per_kind=2), free_gmms(), multiclass_gmms(per_class=(1, 1))))
def test_l2_population_route_on_the_general_model(gmm):
    """L2's rule on the general model: SymPy's eig(M) (characteristic polynomial route) and the m x m route
    equal numpy's eigh of M."""
    check = checks.population_eigenvalues(population_spectrum(gmm))
    assert check.ok, check.detail


def _reduction(gmm):
    reduced = linear.canonical_reduction(gmm)
    assert reduced is not None, "general_gmms() draws the canonical form: one alpha, one beta, balanced offsets"
    assert reduced["rho"] == aligned_fraction(effective_imbalance(gmm))
    return reduced


@d1
@given(gmm=general_gmms())
def test_s1_closed_form_holds_at_the_effective_imbalance(gmm):
    """S1 on the general model: M's spectrum contains the canonical eig_+- at p_eff = sum_c pi_c y_c b_c and
    s^2 = S, M has no (e_core, e_bias)-offset block, and the top eigenvector of the (e_core, e_bias) block is
    within S1's Davis-Kahan bound of the majority mean direction (alpha, sign(p_eff) beta)."""
    reduced = _reduction(gmm)
    M = linear.second_moment(gmm)
    assert M[:2, 2:] == sp.zeros(2, gmm.dim - 2)
    spectrum = ex.float_eigenvalues(gmm)
    closed = ex.canonical_closed_form(gmm)
    alpha, beta, p = float(reduced["alpha"]), float(reduced["beta"]), float(2 * reduced["rho"] - 1)
    block = np.array(M[:2, :2].tolist(), dtype=float)
    top = np.linalg.eigh(block)[1][:, -1]
    direction = np.array([alpha, (np.sign(p) or 1.0) * beta]) / np.hypot(alpha, beta)
    sin = float(np.sqrt(max(0.0, 1 - (top @ direction) ** 2)))
    check = checks.all_of(checks.canonical_form_carries(spectrum, closed, tol.CLOSED_FORM_ROUNDING),
                          checks.aligned_direction_bound(sin, (1 + abs(p)) / 2, alpha, beta))
    assert check.ok, check.detail


@d1
@settings(max_examples=examples(12))
@given(gmm=general_gmms(max_per_kind=3))
def test_s2_trained_weights_follow_the_canonical_closed_form_at_p_eff_and_s(gmm):
    """S2 on the general model: least squares on its exact-moment design (measured) equals the canonical
    w_core, w_bias at p = p_eff, s_c^2 = s_b^2 = S, and is 0 on the offset coordinates."""
    reduced = _reduction(gmm)
    values = linear.canonical_substitution(reduced["alpha"], reduced["beta"], reduced["rho"], reduced["var"])
    values.update({linear.CORE_VAR: values[linear.S], linear.BIAS_VAR: values[linear.S]})
    w_core, w_bias = (float(e.subs(values)) for e in linear.canonical_trained_weights())
    theory = np.array([w_core, w_bias] + [0.0] * (gmm.dim - 2))
    measured = design_weights(gmm)
    check = checks.at_most("||w_design - w(p_eff, S)|| / ||w||", np.linalg.norm(measured - theory)
                           / np.linalg.norm(theory), tol.DESIGN_WEIGHTS)
    assert check.ok, check.detail


@d1
@settings(max_examples=examples(10))
@given(gmm=st.one_of(general_gmms(variance=0, max_per_kind=3), multiclass_gmms(variance=0)))
def test_n1_zero_variance_fits_every_cluster(gmm):
    """N1 on the general model: with sigma_c = 0 for every cluster the trained outputs are the targets, y for
    two classes and the one-hot rows for K classes (the labels are linear in the means: f(x) = x_core / alpha),
    in SymPy (exactly; the pseudo-inverse route, G singular) and on the exact-moment design (numerically)."""
    assert linear.cluster_outputs(gmm) == gmm.targets
    if gmm.classes is None:
        check = checks.equal_training_margins(cluster_margins(gmm), 1, tol.INTERPOLATION_MARGIN)
    else:
        design = exact_moment_design(gmm)
        targets = np.array(gmm.targets.tolist(), dtype=float)
        W = np.column_stack([min_norm_interpolant(design.X, targets[design.cluster, k]) for k in range(gmm.classes)])
        means = np.array(gmm.means.T.tolist(), dtype=float)
        check = checks.equal_training_margins((means @ W)[targets == 1], 1, tol.INTERPOLATION_MARGIN)
    assert check.ok, check.detail


@d1
@settings(max_examples=examples(8))
@given(gmm=multiclass_gmms())
def test_more_than_two_classes_each_output_is_a_binary_problem(gmm):
    """K classes, one-hot targets: SymPy's W = M^-1 E[x t^T] (d x K) equals least squares on the exact-moment
    design column by column, and the m x m Woodbury route gives U^T W."""
    W = linear.trained_weights(gmm)
    design = exact_moment_design(gmm)
    targets = np.array(gmm.targets.tolist(), dtype=float)
    measured = np.column_stack([min_norm_interpolant(design.X, targets[design.cluster, k]) for k in range(gmm.classes)])
    theory = np.array(W.tolist(), dtype=float)
    check = checks.at_most("||W_design - W|| / ||W||", np.linalg.norm(measured - theory) / np.linalg.norm(theory),
                           tol.DESIGN_WEIGHTS)
    assert check.ok, check.detail
    assert sp.expand(linear.cluster_outputs(gmm) - gmm.means.T * W) == sp.zeros(len(gmm.clusters), gmm.classes)


# ---- D3: the per-cluster ridge and the count-variance exchange -------------------------------------
@d3
@settings(max_examples=examples(15))
@given(setting=interpolation_settings(), choice=st.data(), seed=seeds())
def test_count_times_c_acts_like_variance_over_c(setting, choice, seed):
    """D3's exchange: multiplying cluster k's count by c and dividing its variance by c give the same outputs,
    measured (two min-norm interpolants on fresh samples, within the sum of their D3 error orders), and each
    is within its order of the per-cluster ridge prediction, whose two values agree exactly."""
    gmm, counts, dim = setting
    k = choice.draw(st.integers(0, len(counts) - 1), label="cluster k")
    factor = choice.draw(st.integers(2, 4), label="c")
    check = checks.count_variance_exchange(**ex.exchange(gmm, counts, dim, k, factor, seed=seed), dim=dim, gamma=1)
    assert check.ok, check.detail


@d3
@settings(max_examples=examples(6))
@given(gmm=multiclass_gmms(per_class=(1, 2)), seed=seeds(), gamma=st.sampled_from([1, 3]))
def test_per_cluster_ridge_per_output_for_more_classes(gmm, seed, gamma):
    """D3 per output column (one-hot targets times gamma), K classes, counts 2..5 per cluster, d = 4000."""
    counts = [2 + c % 4 for c in range(len(gmm.clusters))]
    dim = 4000
    variances = [Fraction(n, dim) * sum(x * x for x in c.mean) for n, c in zip(counts, gmm.clusters)]
    model = GMM.from_arrays(gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, variances,
                            biases=gmm.biases, classes=gmm.classes)
    measured = ex.interpolated_outputs(model, counts, dim, seed=seed, gamma=gamma)
    check = checks.interpolation_within_order(measured, ex.predicted_outputs(model, counts, dim, gamma=gamma),
                                              sum(counts), dim, gamma)
    assert check.ok, check.detail


@d3
def test_error_falls_like_sqrt_n_over_d():
    """D3 is a limit: the seed-averaged error of the report's setting falls by a factor in RIDGE_RATE_RANGE when d/n
    grows 16x (6 seeds)."""
    ratios = (20, 320)
    check = checks.interpolation_rate(ratios, ex.rate_errors(ratios, seeds=range(6)))
    assert check.ok, check.detail


@d3
def test_negative_control_a_prediction_that_ignores_the_counts_misses():
    """Power of the measured check: three clusters with counts 24, 2, 6 and the second one's count times 4
    (2 -> 8 points, d = 100000). The measured outputs are within the D3 order of the per-cluster ridge, but a
    prediction that ignores n_c (every cluster at the mean count n / m, typed here in numpy) misses them by at
    least D3_EXCHANGE_POWER times that order."""
    dim, counts = 100_000, [24, 8, 6]
    means = [[1, Fraction(1, 2)], [Fraction(-1, 2), 1], [Fraction(1, 2), Fraction(-1, 2)]]
    ridges = [Fraction(1, 2), Fraction(1, 2), 1]                      # d sigma_c^2 / n_c / ||mu_c||^2
    variances = [r * n * sum(x * x for x in mu) / dim for r, n, mu in zip(ridges, counts, means)]
    gmm = GMM.from_arrays([Fraction(1, 3)] * 3, means, [1, -1, 1], variances)
    measured = ex.interpolated_outputs(gmm, counts, dim, seed=0)
    n = sum(counts)
    check = checks.interpolation_within_order(measured, ex.predicted_outputs(gmm, counts, dim), n, dim, 1)
    assert check.ok, check.detail
    U = np.array(gmm.means.T.tolist(), dtype=float)
    G, v = U @ U.T, np.array([float(x) for x in variances])
    ignored = G @ np.linalg.solve(G + np.diag(dim * v * len(counts) / n), np.array(gmm.labels, dtype=float))
    control = checks.interpolation_within_order(measured, ignored[:, None], n, dim, 1)
    assert not control.ok, control.detail
    power = checks.at_least("n_c-ignored miss / D3 order", control.worst, tol.D3_EXCHANGE_POWER)
    assert power.ok, power.detail


@d3
@example(counts=[3, 5, 2], c=3)
@given(counts=st.lists(st.integers(1, 9), min_size=2, max_size=4), c=st.integers(2, 5))
def test_prediction_depends_on_count_and_variance_only_through_their_ratio_exactly(counts, c):
    """SymPy: interpolation_outputs at (n_k c, sigma_k^2) equals it at (n_k, sigma_k^2 / c), exactly."""
    means = [[1, Fraction(13, 10)], [-1, Fraction(13, 10)], [Fraction(1, 2), -1], [0, 1]][:len(counts)]
    labels = [1, -1, 1, -1][:len(counts)]
    variances = [Fraction(k + 1, 200) for k in range(len(counts))]
    gmm = GMM.from_arrays([Fraction(1, len(counts))] * len(counts), means, labels, variances)
    more = [counts[0] * c] + counts[1:]
    thinner = ex.with_variance(gmm, 0, variances[0] / c)
    assert linear.interpolation_outputs(gmm, more, dim=1000) == linear.interpolation_outputs(thinner, counts, dim=1000)
