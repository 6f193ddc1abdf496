"""L2 through the eigensolver core: the population route of top_eigenpairs on a cluster model."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, strategies as st

from numerics.data import MixtureArrays
from numerics.eigen import top_eigenpairs
from numerics.tolerances import POPULATION_EIGENVALUES, davis_kahan_rounding
from theory import GMM, linear
from theory.strategies import canonical_gmms, orthogonal_gmms

pytestmark = pytest.mark.claim("L2")


@given(gmm=st.one_of(canonical_gmms(dim=4), orthogonal_gmms(m=3, dim=5)), k=st.integers(1, 4))
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
    assume(gap > 1e-6 * numeric[0])
    P, Q = result.vectors @ result.vectors.T, vectors[:, :k] @ vectors[:, :k].T
    assert np.linalg.norm(P - Q, 2) <= davis_kahan_rounding(numeric[0], gap, gmm.dim)


def test_population_route_needs_isotropic_noise():
    gmm = GMM.canonical(1, 2, sp.Rational(9, 10), 1, var_core=2)
    with pytest.raises(ValueError, match="isotropic noise"):
        top_eigenpairs(gmm, 1)
