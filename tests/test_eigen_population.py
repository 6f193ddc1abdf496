"""L2 through the eigensolver core: the population route of top_eigenpairs on a cluster model."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given
from hypothesis import strategies as st

from numerics.data import MixtureArrays
from numerics.eigen import top_eigenpairs
from numerics.tolerances import DEGENERATE_GAP, FEW_ULPS, POPULATION_EIGENVALUES, davis_kahan_rounding, population_route_rounding
from theory import GMM, linear
from theory.strategies import canonical_gmms, orthogonal_gmms

pytestmark = pytest.mark.claim("L2")


@given(gmm=st.one_of(canonical_gmms(dim=4), orthogonal_gmms(m=3, dim=5)), k=st.integers(1, 4))
@example(gmm=GMM.canonical(Fraction(1, 5), 3, Fraction(1, 2), 3, dim=4), k=4)
def test_population_route_equals_sympy_and_numpy(gmm, k):
    result = top_eigenpairs(gmm, k)
    symbolic = np.array([float(sp.N(v, 30)) for v, _ in linear.population_eigenpairs(gmm)])
    M = MixtureArrays.from_gmm(gmm).second_moment
    numeric, vectors = np.linalg.eigh(M)
    numeric, vectors = numeric[::-1], vectors[:, ::-1]
    assert result.method == "population"
    np.testing.assert_allclose(result.values, symbolic[:k], rtol=0, atol=POPULATION_EIGENVALUES * symbolic[0])
    assert np.max(result.residuals) <= POPULATION_EIGENVALUES * symbolic[0]
    gap = numeric[k - 1] - numeric[k] if k < gmm.dim else numeric[-1]
    assume(gap > DEGENERATE_GAP * numeric[0])
    P, Q = result.vectors @ result.vectors.T, vectors[:, :k] @ vectors[:, :k].T
    arrays = MixtureArrays.from_gmm(gmm)
    B = arrays.means.T * np.sqrt(arrays.weights)                      # U Pi^1/2
    sigma = np.linalg.svd(B, compute_uv=False)[:np.linalg.matrix_rank(B)]
    assert np.linalg.norm(P - Q, 2) <= (davis_kahan_rounding(numeric[0], gap, gmm.dim)
                                        + population_route_rounding(sigma, k, gmm.dim))


@pytest.mark.parametrize("var_core", [2, 1 + sp.Rational(1, 10**7)])    # also a 1e-7 relative anisotropy
def test_population_route_needs_isotropic_noise(var_core):
    gmm = GMM.canonical(1, 2, sp.Rational(9, 10), 1, var_core=var_core)
    with pytest.raises(ValueError, match=r"^A \(a cluster model\) must have isotropic noise S = s\^2 I for the population route$"):
        top_eigenpairs(gmm, 1)


@given(alpha=st.integers(1, 5), var=st.sampled_from([0, sp.Rational(1, 4), 2]), dim=st.integers(2, 4))
def test_degenerate_top_eigenspace_alpha_equals_beta_and_p_zero(alpha, var, dim):
    """alpha = beta and rho = 1/2 (p = 0): M = alpha^2 (e0 e0^T + e1 e1^T) + s^2 I, a double top
    eigenvalue. No single top vector exists: the top-2 SUBSPACE (projector) is compared to
    span(e0, e1), and the cut k = 1 inside the eigenspace is flagged (gap_ok False)."""
    gmm = GMM.canonical(alpha, alpha, sp.Rational(1, 2), var, dim=dim)
    symbolic = linear.population_eigenpairs(gmm)
    top_value = alpha**2 + var
    assert sp.simplify(symbolic[0][0] - top_value) == 0 and sp.simplify(symbolic[1][0] - top_value) == 0
    two = top_eigenpairs(gmm, 2)
    span = np.zeros((dim, dim))
    span[0, 0] = span[1, 1] = 1
    assert np.abs(two.vectors @ two.vectors.T - span).max() <= 32 * dim * np.finfo(float).eps
    assert np.allclose(two.values, float(top_value), rtol=FEW_ULPS, atol=0)
    assert two.gap_ok                       # the next eigenvalue, s^2, is alpha^2 lower (or k = dim)
    assert not top_eigenpairs(gmm, 1).gap_ok
