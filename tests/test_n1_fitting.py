"""N1: without within-cluster variance every cluster mean is fitted exactly (THEORY.md 5)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, strategies as st

from numerics.experiments.linear_training import cluster_margins
from theory import GMM, linear
from theory.strategies import cluster_weights, variances

pytestmark = pytest.mark.claim("N1")


@st.composite
def general_position_gmms(draw, var=None):
    """m = 3 clusters in d = 3 with integer means (G = U^T U generically invertible)."""
    means = draw(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=3, max_size=3))
    labels = draw(st.lists(st.sampled_from([-1, 1]), min_size=3, max_size=3))
    weights = draw(cluster_weights(3))
    return GMM.from_arrays(weights, means, labels, [draw(variances()) if var is None else var] * 3)


@given(gmm=general_position_gmms(var=0))
def test_zero_variance_fits_every_cluster_symbolically_and_numerically(gmm):
    assume(gmm.means.det() != 0)
    assert linear.cluster_outputs(gmm) == sp.Matrix(gmm.labels)
    np.testing.assert_allclose(cluster_margins(gmm), 1, rtol=1e-10)


@given(gmm=general_position_gmms())
def test_control_variance_shrinks_every_cluster_output(gmm):
    """Power of the control: with s^2 > 0 the variance acts as a ridge and F != y; the trained
    model's cluster margins equal SymPy's Woodbury outputs."""
    assume(gmm.means.det() != 0 and gmm.isotropic_variance != 0)
    F = linear.cluster_outputs(gmm)
    assert F != sp.Matrix(gmm.labels)
    np.testing.assert_allclose(cluster_margins(gmm), [float(l * f) for l, f in zip(gmm.labels, F)], rtol=1e-9)
