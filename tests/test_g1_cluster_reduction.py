"""G1: the top-m Gram eigenvalues of any kernel from the m x m cluster kernel (docs/theory.md)."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.clusters import cluster_kernel, membership, predicted_eigenvalues, ridge_cluster_outputs
from numerics.data import canonical_counts, sample_gmm
from numerics.experiments.relu import LABELS, canonical_sample, cluster_reduction, relu_cluster_reduction
from numerics.kernels import linear_ntk, relu_nngp, relu_ntk
from numerics.pytest_plugin import examples
from numerics.tolerances import EPS, RELU_G1_SMALL_VARIANCE, RELU_G1_VARIANCE_ORDER
from theory import cluster_kernel as theory_ck
from theory import linear
from theory.gmm import GMM
from theory.strategies import imbalances, margins, seeds, variances

pytestmark = pytest.mark.claim("G1")

KERNELS = {"relu_ntk": relu_ntk, "relu_nngp": relu_nngp, "linear": linear_ntk}



def _rounding(K):
    """eigh is backward stable: |computed - exact| <= c n eps ||K||; c n = 10 n here."""
    return 10 * K.shape[0] * EPS * np.abs(np.linalg.eigvalsh(K)).max()


@given(ab=margins(), rho=imbalances(max_rho=Fraction(9, 10)), dim=st.integers(2, 12), seed=seeds(),
       kernel=st.sampled_from(sorted(KERNELS)), n=st.sampled_from([40, 100, 200]))
def test_zero_variance_top_eigenvalues_are_exactly_the_cluster_prediction(ab, rho, dim, seed, kernel, n):
    """At zero variance K = Z Kbar Z^T, so its nonzero spectrum is eig(N^1/2 Kbar N^1/2): equal to rounding."""
    sample = canonical_sample(*ab, rho, 0, n=n, dim=dim, seed=seed)
    K = KERNELS[kernel](sample.X)
    result = cluster_reduction(K, sample.cluster)
    assert np.max(np.abs(result.gram - result.predicted)) <= _rounding(K)
    # every point sits on its mean, so r = 0 up to the rounding of n-term sums
    assert np.max(np.abs(result.kernel.excess)) <= 10 * n * EPS * np.abs(K).max()


@given(ab=margins(), rho=imbalances(), var=variances(max_value=Fraction(2)), dim=st.integers(2, 30),
       seed=seeds(), kernel=st.sampled_from(sorted(KERNELS)))
def test_compression_interlaces_below_the_gram_spectrum(ab, rho, var, dim, seed, kernel):
    """Exact at ANY variance: N^1/2 Kbar N^1/2 + diag(r) is K compressed onto the orthonormal
    cluster-constant vectors Z N^-1/2, so by Cauchy interlacing its i-th eigenvalue is <= lambda_i(K).
    Kbar[c, c] averages over pairs in a cluster: every cluster needs 2 points (at n = 120, rho = 39/40
    leaves one conflicting point per cluster: half-up counts, numerics.counts)."""
    assume(canonical_counts(rho, 120)[2] >= 2)
    sample = canonical_sample(*ab, rho, var, n=120, dim=dim, seed=seed)
    K = KERNELS[kernel](sample.X)
    ck = cluster_kernel(K, sample.cluster, 4)
    Q = membership(sample.cluster, 4) / np.sqrt(ck.counts)
    assert np.max(np.abs(Q.T @ K @ Q - ck.compression)) <= 10 * 120 * EPS * np.abs(K).max()
    ritz, gram = predicted_eigenvalues(ck, with_excess=True), np.linalg.eigvalsh(K)[::-1][:4]
    assert np.all(ritz <= gram + _rounding(K))


@settings(max_examples=examples(6))
@given(ab=margins(min_value=Fraction(1, 2), max_value=Fraction(2)), rho=imbalances(max_rho=Fraction(9, 10)),
       seed=seeds())
def test_error_shrinks_with_the_within_cluster_variance(ab, rho, seed):
    """sigma = 0.2, 0.05, 0.0125 on the same noise draw (n = 400, d = 50). Perturbation theory: the
    first-order shift is the excess r = O(sigma^2) and the rest is ||E||^2 / gap = O(sigma^2), so
    the error is O(sigma^2); the fitted order over this range must exceed RELU_G1_VARIANCE_ORDER
    (numerics.tolerances).
    Where G1 is claimed (sigma = 0.0125) every top-4 eigenvalue is within 1%."""
    sigmas = (Fraction(1, 5), Fraction(1, 20), Fraction(1, 80))
    errors = [relu_cluster_reduction(*ab, rho, s * s, n=400, dim=50, seed=seed).error.max() for s in sigmas]
    order = np.polyfit(np.log([float(s) for s in sigmas]), np.log(errors), 1)[0]
    check = checks.all_of(checks.cluster_spectrum_converges(errors),
                          checks.at_least("fitted order of the error in sigma", order, RELU_G1_VARIANCE_ORDER),
                          checks.at_most("max relative error at sigma = 0.0125", errors[2], RELU_G1_SMALL_VARIANCE))
    assert check.ok, check.detail


def _six_values(alpha, beta):
    """(a, a', c, c', e, e') = relu_ntk between the canonical means (numeric, independent of SymPy)."""
    means = np.array([[alpha, beta], [-alpha, -beta], [alpha, -beta], [-alpha, beta]], dtype=float)
    K = relu_ntk(means)
    return K[0, 0], K[0, 1], K[0, 2], K[0, 3], K[2, 2], K[2, 3]


_CLOSED_FORMS = sp.lambdify((*theory_ck.KERNEL_VALUES, theory_ck.N_A, theory_ck.N_C), theory_ck.parity_eigenvalues())


@given(ab=margins(), n_a=st.integers(2, 200), n_c=st.integers(2, 200))
def test_sympy_parity_blocks_give_the_numeric_cluster_eigenvalues(ab, n_a, n_c):
    """The SymPy even/odd closed forms, fed the six ReLU kernel values at the means, equal numpy's
    eigenvalues of N^1/2 Kbar N^1/2 measured from a zero-variance Gram (float64 rounding)."""
    predicted = np.sort(_CLOSED_FORMS(*_six_values(*map(float, ab)), n_a, n_c))[::-1]
    drawn = sample_gmm(GMM.canonical(*ab, Fraction(1, 2), 0), seed=0, counts=[n_a, n_a, n_c, n_c])
    numeric = predicted_eigenvalues(cluster_kernel(relu_ntk(drawn.X), drawn.cluster, 4))
    assert np.allclose(predicted, numeric, rtol=0, atol=100 * EPS * numeric[0])


def test_sympy_linear_kernel_recovers_the_linear_theory():
    """Linear kernel, nA = n (1 + p)/4, nC = n (1 - p)/4: the even block vanishes (x.x' is odd) and
    the odd block's eigenvalues are n eig_+-(M) of docs/theory.md at s = 0 (derived there independently
    from the second moment)."""
    n = sp.Symbol("n", positive=True)
    gmm = GMM.canonical(linear.ALPHA, linear.BETA, (1 + linear.P) / 2, 0)
    values = theory_ck.canonical_kernel_values(gmm, theory_ck.linear_kernel)
    values.update({theory_ck.N_A: n * (1 + linear.P) / 4, theory_ck.N_C: n * (1 - linear.P) / 4})
    even, odd = (block.subs(values) for block in theory_ck.parity_blocks())
    assert sp.simplify(even) == sp.zeros(2, 2)
    plus, minus = theory_ck.block_eigenvalues(sp.simplify(odd))
    eig_plus, eig_minus = (e.subs(linear.S, 0) for e in linear.canonical_eigenvalues())
    assert sp.simplify(plus / n - eig_plus) == 0 and sp.simplify(minus / n - eig_minus) == 0


def test_negative_control_the_parity_split_needs_the_symmetry():
    """A kernel with k(-x, -x') != k(x, x') (an offset coordinate) has no even/odd block structure."""
    gmm = GMM.canonical(1, 2, Fraction(9, 10), 0)
    with pytest.raises(ValueError, match="canonical symmetry"):
        theory_ck.canonical_kernel_values(gmm, lambda x, x_: (x.T * x_)[0] + x[0] + x_[0])


@given(ab=margins(), rho=imbalances(max_rho=Fraction(9, 10)), seed=seeds())
def test_negative_control_zero_variance_ridge_outputs_fit_every_cluster(ab, rho, seed):
    """r = 0 and Kbar invertible: F = Kbar (N Kbar)^-1 N y = y, conflicting clusters included
    (the ridge needs within-cluster variance to bend them)."""
    sample = canonical_sample(*ab, rho, 0, n=100, dim=3, seed=seed)
    ck = cluster_kernel(relu_ntk(sample.X), sample.cluster, 4)
    condition = np.linalg.cond(ck.mean)
    assert np.allclose(ridge_cluster_outputs(ck, LABELS), LABELS, rtol=0, atol=100 * condition * EPS)


@pytest.mark.parametrize("make, message", [
    (lambda: cluster_kernel(np.eye(3), np.array([0, 0, 1])), "at least 2 points"),
    (lambda: cluster_kernel(np.eye(3), np.array([0, 0])), "one entry per row"),
    (lambda: cluster_kernel(np.ones((2, 3)), np.array([0, 0])), "square Gram"),
    (lambda: cluster_kernel(np.eye(2), np.array([0.0, 0.0])), "integer array"),
    (lambda: cluster_kernel(np.eye(2), np.array([0, 3]), 2), r"indices must lie in \[0, 2\)"),
    (lambda: ridge_cluster_outputs(cluster_kernel(np.eye(4), np.array([0, 0, 1, 1])), [1.0]), "one entry per cluster"),
])
def test_bad_input_raises_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_relative_errors_are_finite_when_the_gram_is_rank_deficient():
    """Linear kernel at zero variance: rank 2 < m = 4, so lambda_3 = lambda_4 = 0 to rounding; the
    per-eigenvalue relative errors stay finite (the thorough run saw 0/0 -> NaN here): rounding-sized
    for the two nonzero eigenvalues, at most 10 (the rounding bound 10 n eps |K| over the floor
    n eps lambda_1) for the zero ones."""
    sample = canonical_sample(1, 2, Fraction(9, 10), 0, n=40, dim=3, seed=0)
    result = cluster_reduction(sample.X @ sample.X.T, sample.cluster)
    assert np.all(np.isfinite(result.error)) and np.all(np.isfinite(result.ritz_error))
    assert result.error[:2].max() <= 10 * 40 * EPS and result.error[2:].max() <= 10
