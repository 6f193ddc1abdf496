"""G1, ridge form (docs/theory.md): in the d >> n regime the within-cluster part of the Gram acts as a ridge
diag(r), and kernel regression's mean output on a fresh point of cluster c is
    F = Kbar (N Kbar + diag(r))^-1 N y                  (numerics.clusters.ridge_cluster_outputs),
up to an error that shrinks like sqrt(n/d). Tested at variance > 0 (at zero variance r = 0 and F = y
whatever the formula's ridge: tests/test_g1_cluster_reduction.py), with the noise norm^2 d var held fixed
as d grows, against the order's bound (numerics.checks.ridge_outputs_within_order), and with wrong ridges
(2r, and none) that must fall outside the same bound."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from numerics.checks import ridge_outputs_within_order
from numerics.clusters import ridge_cluster_outputs
from numerics.experiments.relu import LABELS, ridge_outputs
from numerics.pytest_plugin import examples
from numerics.tolerances import RIDGE_FORMULA_ROUNDING
from theory.strategies import seeds

pytestmark = pytest.mark.claim("G1")

N = 100
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)    # an example costs ~1 s: report it, do not shrink
DIMS = (400, 1600, 6400)          # d / n = 4, 16, 64: the bound's spread 2 sqrt(n/d) + n/d = 1.25, 0.56, 0.27


def theory_ridge_outputs(ck, ridge_scale) -> np.ndarray:
    """docs/theory.md, typed here: Kbar (N Kbar + s diag(r))^-1 N y with the ridge scaled by s (s = 1: G1;
    s = 2 and s = 0: wrong ridges)."""
    N_ = np.diag(ck.counts)
    return ck.mean @ np.linalg.solve(N_ @ ck.mean + ridge_scale * np.diag(ck.excess), N_ @ LABELS)


def _runs(alpha, beta, rho, noise, seed):
    """ridge_outputs at each d with var = noise / d (noise norm^2 fixed), and per run the predictions of
    the right ridge and the two wrong ones."""
    out = []
    for d in DIMS:
        result = ridge_outputs(alpha, beta, rho, Fraction(noise) / d, n=N, dim=d, seed=seed)
        out.append((result, {s: theory_ridge_outputs(result.kernel, s) for s in (1, 2, 0)}))
    return out


@settings(max_examples=examples(3), phases=NO_SHRINK)
@given(alpha=st.fractions(Fraction(1, 2), Fraction(3, 2), max_denominator=10),
       beta=st.fractions(Fraction(1, 2), Fraction(3, 2), max_denominator=10),
       rho=st.fractions(Fraction(7, 10), Fraction(9, 10), max_denominator=20),
       noise=st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(2)]), seed=seeds())
def test_ridge_outputs_error_shrinks_like_sqrt_n_over_d_and_wrong_ridges_fail(alpha, beta, rho, noise, seed):
    """At d = 400, 1600, 6400 (n = 100, ReLU NTK): |measured - F| <= 2 (2 sqrt(n/d) + n/d) S, S the
    prediction's response to doubling the ridge (numerics.tolerances.RIDGE_SENSITIVITY_FACTOR). Measured over
    378 runs: error / ((2 sqrt(n/d) + n/d) S) <= 1.02, mean 0.39; mean error 0.028, 0.014, 0.0062 at the three
    d (slope -0.55). At d = 6400 the same bound rejects the ridge 2r and the dropped ridge (F = y): their
    errors are >= 3.5 (2 sqrt(n/d) + n/d) S, >= 4.2x the right ridge's."""
    runs = _runs(alpha, beta, rho, noise, seed)
    for result, predictions in runs:          # the library's F is the formula (independent of the measurement)
        assert np.max(np.abs(result.predicted - predictions[1])) <= RIDGE_FORMULA_ROUNDING
        assert np.max(np.abs(ridge_cluster_outputs(result.kernel, LABELS) - predictions[1])) <= RIDGE_FORMULA_ROUNDING
    sensitivities = [np.max(np.abs(p[2] - p[1])) for _, p in runs]
    errors = [np.max(np.abs(r.measured - p[1])) for r, p in runs]
    check = ridge_outputs_within_order(errors, DIMS, N, sensitivities)
    assert check.ok, check.detail
    result, predictions = runs[-1]
    for scale in (2, 0):
        wrong = ridge_outputs_within_order([np.max(np.abs(result.measured - predictions[scale]))], DIMS[-1:], N,
                                           sensitivities[-1:])
        assert not wrong.ok, f"ridge x{scale} should be rejected: {wrong.detail}"
