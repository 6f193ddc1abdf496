"""L2: population eigenpairs of the linear NTK (docs/theory.md), derived by SymPy."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import checks
from numerics.experiments.linear import population_spectrum
from numerics.tolerances import CLOSED_FORM_ROUNDING, DEGENERATE_GAP, NEGATIVE_CONTROL_FACTOR, POPULATION_EIGENVALUES, davis_kahan_rounding
from theory import GMM, linear
from theory.strategies import canonical_gmms, orthogonal_gmms

pytestmark = pytest.mark.claim("L2")


@given(gmm=st.one_of(canonical_gmms(dim=3), canonical_gmms(dim=4, per_attribute=True), orthogonal_gmms()))
def test_symbolic_eigenvalues_equal_numpy_eigenvalues(gmm):
    check = checks.population_eigenvalues(population_spectrum(gmm))
    assert check.ok, check.detail


@given(gmm=canonical_gmms(dim=3))
def test_symbolic_top_eigenspace_matches_numpy_within_davis_kahan(gmm):
    result = population_spectrum(gmm)
    top = result.symbolic[0]
    below = result.symbolic[~np.isclose(result.symbolic, top, rtol=CLOSED_FORM_ROUNDING, atol=0)]
    assume(below.size and top - below[0] > DEGENERATE_GAP * top)
    assert result.subspace_sin <= davis_kahan_rounding(top, top - below[0], dim=3)


def test_canonical_closed_form_simplifies_to_theory():
    a, b, p, s = linear.ALPHA, linear.BETA, linear.P, linear.S
    root = sp.sqrt(((a**2 - b**2) / 2) ** 2 + p**2 * a**2 * b**2)
    theory = ((a**2 + b**2) / 2 + root + s**2, (a**2 + b**2) / 2 - root + s**2)   # docs/theory.md#L2
    derived = linear.canonical_eigenvalues()
    assert all(sp.simplify(d - t) == 0 for d, t in zip(derived, theory))


def test_symbolic_orthogonal_means_give_weight_times_squared_norm_plus_variance():
    a = sp.symbols("a1:4", positive=True)
    w = sp.symbols("w1:3", positive=True)
    s = sp.Symbol("s", positive=True)
    weights = [w[0], w[1], 1 - w[0] - w[1]]
    means = [[a[0], 0, 0], [0, a[1], 0], [0, 0, a[2]]]
    gmm = GMM.from_arrays(weights, means, [1, -1, 1], [s**2] * 3)
    derived = [v for v, _ in linear.population_eigenpairs(gmm)]
    theory = [weights[c] * a[c] ** 2 + s**2 for c in range(3)]      # docs/theory.md#L2
    assert sp.simplify(sum(derived) - sum(theory)) == 0
    assert sorted(map(sp.srepr, map(sp.expand, derived))) == sorted(map(sp.srepr, map(sp.expand, theory)))


def test_gram_route_equals_the_general_route_symbolically():
    """det(x I - H) = x^2 det(x I - A_block): the m x m route has the same nonzero spectrum as A
    (then eig(M) = eig(A) + s^2), for symbolic alpha, beta, p."""
    gmm = GMM.canonical(linear.ALPHA, linear.BETA, (1 + linear.P) / 2, 0)
    x = sp.Symbol("x")
    gram = linear.weighted_gram(gmm).charpoly(x).as_expr()
    general = linear.mean_moment(gmm)[:2, :2].charpoly(x).as_expr()
    assert sp.expand(gram - x**2 * general) == 0


def test_negative_control_a_dropped_variance_is_detected():
    """Power: a spectrum that forgets s^2 misses numpy's eigenvalues by s^2 / eig_1 >> rounding."""
    gmm = GMM.canonical(1, sp.Rational(13, 10), sp.Rational(9, 10), sp.Rational(1, 4), dim=3)
    noiseless = GMM.canonical(1, sp.Rational(13, 10), sp.Rational(9, 10), 0, dim=3)
    wrong = population_spectrum(noiseless).symbolic
    right = population_spectrum(gmm).numeric
    check = checks.at_most("forgotten-variance spectrum vs numpy (relative)", np.max(np.abs(wrong - right)) / right[0],
                           NEGATIVE_CONTROL_FACTOR * POPULATION_EIGENVALUES)
    assert not check.ok, check.detail


def _exactly_zero(expr) -> bool:
    """expr == 0 exactly: expanded and its denominators rationalised (both exact rewritings, so a nonzero
    expr never comes out 0), with sp.simplify for what that leaves unreduced. 25x faster than simplify alone on
    these square-root expressions (0.2 s against 5.0 s over the ci draws)."""
    return sp.radsimp(sp.expand(expr)) == 0 or sp.simplify(expr) == 0


@given(gmm=canonical_gmms(dim=3).filter(lambda g: g.isotropic_variance is not None))
def test_gram_route_vectors_are_unit_eigenvectors_of_m(gmm):
    """u = U Pi^1/2 h / sqrt(eta) is a UNIT eigenvector of M with eigenvalue eta + s^2 (exact arithmetic)."""
    M = linear.second_moment(gmm)
    for value, u in linear.gram_route_eigenpairs(gmm):
        assert _exactly_zero((u.T * u)[0] - 1)
        assert all(_exactly_zero(entry) for entry in M * u - value * u)


def test_gram_route_needs_isotropic_noise():
    with pytest.raises(ValueError, match=r"^gmm must have isotropic noise \(S = s\^2 I\) for the Gram route$"):
        linear.gram_route_eigenpairs(GMM.canonical(1, 2, sp.Rational(9, 10), 1, var_core=2))
