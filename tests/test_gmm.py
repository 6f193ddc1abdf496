"""The cluster model itself (docs/theory.md): construction paths agree, derived views are
the definitions written out."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory import GMM

pytestmark = pytest.mark.claim("L2")

HALF = sp.Rational(1, 2)


def test_per_coordinate_variances_and_their_mixture_average():
    gmm = GMM.from_arrays([Fraction(1, 4), Fraction(3, 4)], [[1, 0], [0, 1]], [1, -1], [[1, 2], [3, 4]])
    assert gmm.clusters[0].variances == sp.Matrix([1, 2]) and gmm.clusters[1].variances == sp.Matrix([3, 4])
    # S = sum_c pi_c diag(sigma_c^2): (1/4 + 9/4, 2/4 + 12/4)
    assert gmm.noise_variances == [sp.Rational(5, 2), sp.Rational(7, 2)]
    assert gmm.noise_covariance == sp.diag(sp.Rational(5, 2), sp.Rational(7, 2))
    assert gmm.isotropic_variance is None
    isotropic = GMM.from_arrays([HALF, HALF], [[1, 0], [0, 1]], [1, -1], [2, [2, 2]])
    assert isotropic.isotropic_variance == 2


def test_labels_given_as_numpy_integers_or_floats_become_python_ints():
    for labels in (np.array([1, -1]), np.array([1.0, -1.0])):
        gmm = GMM.from_arrays([HALF, HALF], [[1, 0], [0, 1]], labels, [0, 0])
        assert gmm.labels == [1, -1] and all(type(label) is int for label in gmm.labels)


def test_aligned_marks_the_canonical_clusters_and_is_undecided_otherwise():
    assert [c.aligned for c in GMM.canonical(1, 2, sp.Rational(9, 10), 1).clusters] == [True, True, False, False]
    beta = sp.Symbol("beta")                                  # sign unknown: undecided
    assert [c.aligned for c in GMM.canonical(1, beta, sp.Rational(9, 10), 1).clusters] == [None] * 4
    assert [c.aligned for c in GMM.canonical(1, 0, sp.Rational(9, 10), 1).clusters] == [None] * 4
    one_dim = GMM.from_arrays([HALF, HALF], [[1], [-1]], [1, -1], [0, 0])
    assert [c.aligned for c in one_dim.clusters] == [None, None]


def test_substitution_equals_direct_construction():
    alpha, beta, rho, s = sp.symbols("alpha beta rho s", positive=True)
    values = {alpha: 1, beta: sp.Rational(3, 2), rho: sp.Rational(9, 10), s: sp.Rational(1, 2)}
    substituted = GMM.canonical(alpha, beta, rho, s**2, dim=3, var_core=2 * s**2).subs(values)
    direct = GMM.canonical(1, sp.Rational(3, 2), sp.Rational(9, 10), sp.Rational(1, 4), dim=3,
                           var_core=sp.Rational(1, 2))
    for got, want in zip(substituted.clusters, direct.clusters, strict=True):
        assert (got.label, got.weight, got.mean, got.variances) == (want.label, want.weight, want.mean, want.variances)
    assert substituted.dim == 3 and substituted.weights == [sp.Rational(9, 20)] * 2 + [sp.Rational(1, 20)] * 2
    assert substituted.means == direct.means and substituted.noise_variances == direct.noise_variances
