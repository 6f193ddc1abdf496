"""S1 and its controls N1: shortcut features are the top eigenfunctions (docs/theory.md)."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.data import MixtureArrays
from numerics.experiments.linear import aligned_direction_sin, spectrum_vs_imbalance
from numerics.pytest_plugin import examples
from numerics.settings import RHO_SWEEP
from numerics.tolerances import CLOSED_FORM_ROUNDING, DEGENERATE_GAP, DIRECTION_ROUNDING
from theory import GMM, linear
from theory.gmm import aligned_fraction
from theory.strategies import correlations, margins, orthogonal_gmms, seeds, variances


def _numeric_eigenvalues(alpha, beta, p, var):
    M = MixtureArrays.from_gmm(GMM.canonical(alpha, beta, aligned_fraction(p), var)).second_moment
    return np.linalg.eigvalsh(M)[::-1]


@pytest.mark.claim("S1")
def test_symbolic_derivatives_have_the_sign_of_p():
    """d eig_+/dp = p * (positive) and d eig_-/dp = p * (negative): the square root's radicand is
    ((alpha^2 - beta^2)^2 + 4 p^2 alpha^2 beta^2) / 4 >= 0, so replacing its root by a positive symbol
    lets SymPy decide the sign."""
    plus, minus = linear.canonical_eigenvalues()
    a, b, p = linear.ALPHA, linear.BETA, linear.P
    radicand = (a**2 - b**2) ** 2 + 4 * p**2 * a**2 * b**2
    root = sp.Symbol("root", positive=True)
    [sqrt_term] = [t for t in sp.preorder_traversal(plus) if isinstance(t, sp.Pow) and t.exp == sp.Rational(1, 2)]
    assert sp.expand(4 * sqrt_term.base - radicand) == 0
    assert sp.simplify(sp.diff(plus, p).subs(sqrt_term, root) / p).is_positive
    assert sp.simplify(sp.diff(minus, p).subs(sqrt_term, root) / p).is_negative


@pytest.mark.claim("S1")
@given(ab=margins(), var=variances(), p1=correlations(), p2=correlations())
def test_eigenvalues_are_monotone_in_the_imbalance(ab, var, p1, p2):
    assume(abs(p1) < abs(p2))
    lo, hi = _numeric_eigenvalues(*ab, p1, var), _numeric_eigenvalues(*ab, p2, var)
    a, b = map(float, ab)
    gap = 2 * np.sqrt(((a * a - b * b) / 2) ** 2 + float(p2) ** 2 * a * a * b * b)
    check = checks.all_of(checks.monotone("eig_+ as |p| grows", [lo[0], hi[0]], +1),
                          checks.monotone("eig_- as |p| grows", [lo[1], hi[1]], -1),
                          checks.at_most("eigengap vs 2 sqrt(((a^2-b^2)/2)^2 + p^2 a^2 b^2) (relative)",
                                         abs(hi[0] - hi[1] - gap) / gap, CLOSED_FORM_ROUNDING))
    assert check.ok, check.detail


@pytest.mark.claim("S1")
@given(ab=margins(), var=variances(), rho=st.fractions(Fraction(1, 2), 1, max_denominator=200))
def test_top_eigenvector_tends_to_the_aligned_mean(ab, var, rho):
    """Davis-Kahan around rho = 1 (A rank one, gap alpha^2 + beta^2, ||E|| = (1 - p) alpha beta):
    sin <= 2 (1 - p) alpha beta / (alpha^2 + beta^2), so sin -> 0 as rho -> 1."""
    check = checks.aligned_direction_bound(aligned_direction_sin(GMM.canonical(*ab, rho, var)), rho, *ab)
    assert check.ok, check.detail


@pytest.mark.claim("S1")
@given(gmm=orthogonal_gmms(m=3))
def test_orthogonal_means_rank_features_by_weight_times_squared_norm(gmm):
    arrays = MixtureArrays.from_gmm(gmm)
    score = arrays.weights * np.sum(arrays.means**2, axis=1)
    order = np.argsort(-score)
    assume(score[order[0]] > score[order[1]] * (1 + DEGENERATE_GAP))
    top_value, top_vector = linear.population_eigenpairs(gmm)[0]
    top_cluster_direction = arrays.means[order[0]] / np.linalg.norm(arrays.means[order[0]])
    expected = score[order[0]] + arrays.variances[0, 0]
    cosine = abs(np.array([float(x) for x in top_vector]) @ top_cluster_direction)
    check = checks.all_of(checks.at_most("top eigenvalue vs pi_c |mu_c|^2 + s^2 (relative)",
                                         abs(float(top_value) - expected) / expected, CLOSED_FORM_ROUNDING),
                          checks.at_most("1 - |cos(top eigenvector, top cluster mean)|", 1 - cosine, DIRECTION_ROUNDING))
    assert check.ok, check.detail


@pytest.mark.claim("N1")
def test_control_no_imbalance_no_core_bias_mixing_symbolically():
    gmm = GMM.canonical(linear.ALPHA, linear.BETA, sp.Rational(1, 2), linear.S**2)
    for _, u in linear.population_eigenpairs(gmm):
        assert sp.simplify(u[0] * u[1]) == 0


@pytest.mark.claim("N1")
@given(ab=margins(), var=variances(), p=correlations())
def test_control_mixing_appears_exactly_when_p_is_nonzero(ab, var, p):
    """The control has power: core-bias mixing u_core u_bias of the top eigenvector is 0 iff p = 0."""
    gmm = GMM.canonical(*ab, aligned_fraction(p), var)
    mixing = [sp.simplify(u[0] * u[1]) for _, u in linear.population_eigenpairs(gmm)]
    assert all(m == 0 for m in mixing) == (p == 0)


@pytest.mark.claim("N1")
@given(norm=st.fractions(Fraction(1, 5), 3, max_denominator=20), var=variances())
def test_control_equal_weights_give_no_ordering_by_alignment(norm, var):
    """Orthogonal clusters of equal norm: equal weights -> one repeated eigenvalue (no cluster is
    preferred); tilting one weight up makes that cluster's direction strictly the top one."""
    means = [[norm, 0, 0], [0, norm, 0], [0, 0, norm]]
    equal = GMM.from_arrays([Fraction(1, 3)] * 3, means, [1, -1, 1], [var] * 3)
    values = {sp.simplify(v) for v, _ in linear.population_eigenpairs(equal)}
    assert len(values) == 1
    tilted = GMM.from_arrays([Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)], means, [1, -1, 1], [var] * 3)
    (top, u), (second, _) = linear.population_eigenpairs(tilted)[:2]
    assert top > second and abs(u[0]) == 1


@pytest.mark.claim("S1")
@settings(max_examples=examples(5))
@given(ab=margins(), var=variances(), seed=seeds())
def test_spectrum_sweep_of_the_report_rises_and_falls_with_rho(ab, var, seed):
    """The report's S1 experiment (spectrum_vs_imbalance over the rho sweep): closed-form eig_+ rises and
    eig_- falls, and the top eigenvector approaches the aligned mean within its Davis-Kahan bound."""
    result = spectrum_vs_imbalance(*ab, var, RHO_SWEEP, n=2000, seed=seed)
    check = checks.shortcut_spectrum(result.rhos, result.closed_form, result.top_direction_sin, *ab)
    assert check.ok, check.detail


@pytest.mark.claim("N1")
@given(ab=margins(), var=variances())
def test_control_balance_leaves_the_top_eigenvector_on_an_axis(ab, var):
    """p = 0: no core-bias mixing, so the top eigenvector of M is an axis and its angle to the aligned
    mean is fixed by alpha and beta alone, not by any imbalance (the report's N1 row)."""
    assume(ab[0] != ab[1])                       # alpha = beta: a tie, no unique top eigenvector
    check = checks.no_mixing_at_balance(aligned_direction_sin(GMM.canonical(*ab, Fraction(1, 2), var)), *ab)
    assert check.ok, check.detail
