"""T1: residual decay along NTK eigenvectors, and the feature decomposition (docs/theory.md)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from numerics import checks
from numerics.experiments.linear import residual_decay
from numerics.tolerances import NULL_EIGENVALUE, RESIDUAL_LAW
from theory import dynamics
from theory.strategies import canonical_gmms, seeds

pytestmark = pytest.mark.claim("T1")



@given(gmm=canonical_gmms(dim=3), n=st.integers(4, 24), seed=seeds(), steps=st.integers(1, 300),
       eta_fraction=st.floats(0.05, 0.95))
def test_gradient_descent_follows_the_law_along_every_eigenvector(gmm, n, seed, steps, eta_fraction):
    result = residual_decay(gmm, n, seed=seed, steps=steps, eta_fraction=eta_fraction)
    check = checks.residual_law(result)
    assert check.ok, check.detail


@given(gmm=canonical_gmms(dim=3), seed=seeds())
def test_negative_control_a_wrong_rate_is_detected(gmm, seed):
    """The check has power: a law with eta off by 10% is far from the trained residual (the same rule,
    fed the wrong law, fails)."""
    result = residual_decay(gmm, 12, seed=seed, steps=40, eta_fraction=0.5)
    wrong = result.law[0] * (1 - 1.1 * result.eta * result.eigenvalues) ** np.arange(41)[:, None]
    top = result.eigenvalues > NULL_EIGENVALUE * result.eigenvalues[0]
    error = np.max(np.abs(result.measured[:, top] - wrong[:, top])) / np.linalg.norm(result.law[0])
    check = checks.at_most("trained residual vs a law with eta off by 10%", error, RESIDUAL_LAW)
    assert not check.ok, check.detail


def test_the_laws_are_solved_not_typed():
    """SymPy's solutions equal the textbook laws (1 - eta lambda)^t r0 and exp(-eta lambda t) r0."""
    eta, lam, r0, t, tau = dynamics.ETA, dynamics.LAM, dynamics.R0, dynamics.T, dynamics.TAU
    assert sp.simplify(dynamics.gradient_descent_law() - r0 * (1 - eta * lam) ** t) == 0
    assert sp.simplify(dynamics.gradient_flow_law() - r0 * sp.exp(-eta * lam * tau)) == 0


def test_gradient_flow_is_the_small_step_limit_of_descent():
    """(1 - eta lambda / N)^(N tau) -> exp(-eta lambda tau): the two laws are consistent."""
    eta, tau = dynamics.ETA, dynamics.TAU
    N = sp.Symbol("N", positive=True)
    gd = dynamics.gradient_descent_law().subs({eta: eta / N, dynamics.T: N * tau})
    assert sp.simplify(sp.limit(gd, N, sp.oo) - dynamics.gradient_flow_law()) == 0
