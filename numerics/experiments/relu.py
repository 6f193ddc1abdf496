"""Experiments for the two-layer ReLU claims R1, G1, E2, E3, E4 (THEORY.md 7).

Data: the canonical 4-cluster model (theory.GMM.canonical) with EXACT cluster counts: the aligned
clusters hold round(rho n / 2) points each, the conflicting ones the rest, so two values of rho
with the same seed differ only in which noise rows belong to which cluster (common random
numbers: ``sample_gmm`` with counts draws one (n, d) noise matrix from the seed). Probe and test
sets are balanced (rho = 1/2, equal counts per cluster) and drawn from ``seed + 1``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from numerics.clusters import (ClusterKernel, ClusterReduction, cluster_kernel, cluster_reduction,
                               ridge_cluster_outputs)
from numerics.data import Sample, canonical_counts, sample_gmm
from numerics.eigen import top_eigenpairs
from numerics.eigenfunctions import LabelFeatures, label_features, predicted_label_features
from numerics.experiments.linear import WidthConvergence, log_log_slope
from numerics.features import feature_outputs
from numerics.kernels import empirical_ntk, relu_nngp, relu_ntk
from numerics.models import TwoLayerReLU
from numerics.training import gradient_descent, kernel_regression
from theory import cluster_kernel as theory_ck
from theory.gmm import CANONICAL_ALIGNED, CANONICAL_LABELS, GMM

#: canonical cluster order (theory.gmm): (y, b) = (+1, +1), (-1, -1), (+1, -1), (-1, +1)
LABELS = np.array(CANONICAL_LABELS, dtype=np.float64)
ALIGNED = np.array(CANONICAL_ALIGNED)


# ---- data -------------------------------------------------------------------------------------
def canonical_sample(alpha, beta, rho, var, *, n: int, dim: int, seed: int) -> Sample:
    """n points of GMM.canonical(alpha, beta, rho, var, dim) with exact counts (module docstring)."""
    gmm = GMM.canonical(alpha, beta, rho, var, dim=dim)
    return sample_gmm(gmm, n, seed=seed, counts=canonical_counts(rho, n))


def balanced_probe(alpha, beta, var, *, per_cluster: int, dim: int, seed: int) -> Sample:
    """A balanced (rho = 1/2) probe/test set: ``per_cluster`` points in each of the 4 clusters."""
    return sample_gmm(GMM.canonical(alpha, beta, 0.5, var, dim=dim), seed=seed, counts=[per_cluster] * 4)


def _aligned(sample: Sample) -> np.ndarray:
    return ALIGNED[sample.cluster]


# ---- R1 ---------------------------------------------------------------------------------------
def relu_width_convergence(X: np.ndarray, widths, *, seeds) -> WidthConvergence:
    """Mean over seeds of ||K_emp - relu_ntk||_F / ||relu_ntk||_F for TwoLayerReLU at each width,
    and the log-log slope (claim R1: -1/2)."""
    Xt = torch.tensor(X, dtype=torch.float64)
    limit = relu_ntk(X)
    errors = np.array([np.mean([np.linalg.norm(empirical_ntk(TwoLayerReLU(X.shape[1], w, seed=s), Xt).numpy() - limit)
                                for s in seeds]) / np.linalg.norm(limit) for w in widths])
    return WidthConvergence(tuple(widths), errors, log_log_slope(widths, errors))


def strategy_disagreement(X: np.ndarray, width: int, *, seed: int, X2: np.ndarray | None = None) -> float:
    """max over every registered strategy usable for TwoLayerReLU of max|K_s - K_jacobian| / max|K_jacobian|."""
    model = TwoLayerReLU(X.shape[1], width, seed=seed)
    X1t = torch.tensor(X, dtype=torch.float64)
    X2t = None if X2 is None else torch.tensor(X2, dtype=torch.float64)
    reference = empirical_ntk(model, X1t, X2t, method="jacobian")
    worst = 0.0
    for method in ("ntvp", "mlp_factorized", "auto"):
        K = empirical_ntk(model, X1t, X2t, method=method)
        worst = max(worst, float(torch.max(torch.abs(K - reference)) / torch.max(torch.abs(reference))))
    return worst


# ---- G1 ---------------------------------------------------------------------------------------
def relu_cluster_reduction(alpha, beta, rho, var, *, n: int, dim: int, seed: int) -> ClusterReduction:
    """G1 for the ReLU NTK on a canonical sample."""
    sample = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    return cluster_reduction(relu_ntk(sample.X), sample.cluster)


@dataclass(frozen=True)
class ClusterSpectrumVsImbalance:
    rhos: np.ndarray
    gram: np.ndarray        # (len(rhos), 4) top-4 Gram eigenvalues / n
    predicted: np.ndarray   # (len(rhos), 4) G1 eig(N^1/2 Kbar N^1/2) / n


def relu_spectrum_vs_imbalance(alpha, beta, var, rhos, *, n: int, dim: int, seed: int) -> ClusterSpectrumVsImbalance:
    """The ReLU NTK's top-4 Gram eigenvalues as rho sweeps, with G1's prediction (claims G1, E2)."""
    rows = [relu_cluster_reduction(alpha, beta, rho, var, n=n, dim=dim, seed=seed) for rho in rhos]
    return ClusterSpectrumVsImbalance(np.array([float(r) for r in rhos]), np.array([r.gram for r in rows]) / n,
                               np.array([r.predicted for r in rows]) / n)


# ---- E2 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelFeatureRatio:
    rho: float
    measured: LabelFeatures    # phi_A, phi_C from the Gram's top-k eigenpairs on the probe
    predicted: LabelFeatures   # the same selection on G1's cluster-level eigenpairs (same Kbar)
    odd_diagonal: float        # nA (a - a') / (nC (e - e')), Kbar entries averaged over the symmetry
    odd_eigenvalues: tuple     # (larger, smaller) eigenvalue of the odd block (theory.cluster_kernel)

    @property
    def ratio(self) -> float:
        return self.measured.ratio


_SYMBOLS = (*theory_ck.KERNEL_VALUES, theory_ck.N_A, theory_ck.N_C)
_odd_diagonal = sp.lambdify(_SYMBOLS, theory_ck.odd_diagonal_ratio())
_odd_pair = sp.lambdify(_SYMBOLS, theory_ck.parity_eigenvalues()[2:])


def symmetrized_kernel_values(ck: ClusterKernel) -> tuple[float, ...]:
    """(a, a', c, c', e, e') of theory.cluster_kernel from a measured Kbar, each the mean of the
    entries the canonical symmetry says are equal."""
    K = ck.mean
    return ((K[0, 0] + K[1, 1]) / 2, K[0, 1], (K[0, 2] + K[1, 3]) / 2, (K[0, 3] + K[1, 2]) / 2,
            (K[2, 2] + K[3, 3]) / 2, K[2, 3])


def relu_label_feature_ratio(alpha, beta, rho, var, *, n: int, dim: int, seed: int, k: int = 16,
                             probe_per_cluster: int = 100) -> LabelFeatureRatio:
    """lambda(phi_A) / lambda(phi_C) for the ReLU NTK (claim E2), measured and G1-predicted."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    probe = balanced_probe(alpha, beta, var, per_cluster=probe_per_cluster, dim=dim, seed=seed + 1)
    K = relu_ntk(train.X)
    measured = label_features(K, relu_ntk(probe.X, train.X), probe.y, _aligned(probe), k=k)
    ck = cluster_kernel(K, train.cluster, 4)
    args = (*symmetrized_kernel_values(ck), ck.counts[0], ck.counts[2])      # in the order of _SYMBOLS
    return LabelFeatureRatio(float(rho), measured, predicted_label_features(ck, LABELS, ALIGNED),
                             float(_odd_diagonal(*args)), tuple(float(v) for v in _odd_pair(*args)))


# ---- E3 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GmmMargins:
    """Margins y f(x) / gamma of a predictor trained to targets gamma y on a canonical sample."""

    train_error: float        # max_i |y_i f(x_i) / gamma - 1|
    conflicting: float        # mean y f(x) / gamma over fresh bias-conflicting test points
    aligned: float            # mean y f(x) / gamma over fresh aligned test points
    conflicting_accuracy: float

    @property
    def gap(self) -> float:
        """Aligned minus conflicting mean test margin (claim E3's quantity)."""
        return self.aligned - self.conflicting


def _margins(train: Sample, train_outputs, test: Sample, test_outputs, gamma: float) -> GmmMargins:
    margin = test.y * test_outputs / gamma
    conflicting = ~_aligned(test)
    return GmmMargins(float(np.max(np.abs(train.y * train_outputs / gamma - 1))), float(margin[conflicting].mean()),
                      float(margin[~conflicting].mean()), float(np.mean(margin[conflicting] > 0)))


def gmm_kernel_regression_margins(alpha, beta, rho, var, *, n: int, dim: int, seed: int, gamma: float = 1.0,
                              test_per_cluster: int = 200, kernel=relu_ntk) -> GmmMargins:
    """Min-norm kernel interpolation f = k(., X) K^-1 gamma Y (every training margin = gamma; claim E3)."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seed + 1)
    train_outputs, test_outputs = kernel_regression(kernel(train.X), kernel(test.X, train.X), gamma * train.y)
    return _margins(train, train_outputs, test, test_outputs, gamma)


def trained_network_margins(alpha, beta, rho, var, *, n: int, dim: int, seed: int, width: int, steps: int = 3000,
                            gamma: float = 1.0, test_per_cluster: int = 200) -> GmmMargins:
    """Real full-batch gradient descent of an antisymmetric TwoLayerReLU (f_0 = 0) on targets
    gamma y, step 1.9 / lambda_max(relu_ntk Gram) (stable: < 2 / lambda_max), ``steps`` steps (claim E3).
    The default 3000 steps: at n = 200, dim = 20, var = 0.36 the slowest mode has eta lambda_min >= 2.5e-3
    (measured, rho up to 0.9), so the analytic NTK's residual is <= e^-7.5 ~ 6e-4 (T1); the finite
    network lags it (numerics.tolerances.RELU_GD_MARGIN)."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seed + 1)
    eta = 1.9 / top_eigenpairs(relu_ntk(train.X), 1).values[0]
    model = TwoLayerReLU(dim, width, seed=seed, antisymmetric=True)
    X = torch.tensor(train.X, dtype=torch.float64)
    trained = gradient_descent(model, X, gamma * torch.tensor(train.y, dtype=torch.float64), eta=eta, steps=steps,
                               record=[steps])[steps]
    with torch.no_grad():
        test_outputs = model(torch.tensor(test.X, dtype=torch.float64)).numpy()
    return _margins(train, trained, test, test_outputs, gamma)


# ---- E4 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearizationGap:
    widths: tuple
    errors: np.ndarray          # mean over seeds of ||f_net - f_lin|| / ||f_lin|| on test points
    slope: float                # log-log slope of errors vs width (nan for one width)
    control_errors: np.ndarray  # the same networks against the NNGP's prediction (negative control)
    control_slope: float
    regression_gap: float       # ||f_lin - kernel regression|| / ||kernel regression||: distance from convergence


def _kernel_gd_prediction(kernel, train: Sample, test: Sample, eta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(f after ``steps`` GD steps of kernel regression from f_0 = 0, its t -> infinity limit) on the test
    points: sum_i f^(i) (1 - (1 - eta lambda_i)^steps) over all Gram eigenpairs (claim T1, numerics.features)."""
    K = kernel(train.X)
    eig = top_eigenpairs(K, train.n, method="full")
    k_test = kernel(test.X, train.X)
    return (feature_outputs(k_test, eig.values, eig.vectors, train.y, eta=eta, steps=steps).sum(axis=1),
            k_test @ np.linalg.solve(K, train.y))


def linearization_gap(alpha, beta, rho, var, *, n: int, dim: int, widths, seeds, steps: int,
                      test_per_cluster: int = 25) -> LinearizationGap:
    """Trained antisymmetric TwoLayerReLU (f_0 = 0), ``steps`` full-batch GD steps of
    eta = 1 / lambda_max(relu_ntk Gram), against the analytic NTK's prediction after the same steps, on
    a balanced test set (claim E4). The same networks are also compared with the NNGP's prediction
    (no first-layer term): a wrong kernel whose gap must not close (negative control)."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seeds[0])
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seeds[0] + 1)
    eta = 1.0 / top_eigenpairs(relu_ntk(train.X), 1).values[0]
    ntk, regression = _kernel_gd_prediction(relu_ntk, train, test, eta, steps)
    nngp, _ = _kernel_gd_prediction(relu_nngp, train, test, eta, steps)
    X, Y, Xt = (torch.tensor(a, dtype=torch.float64) for a in (train.X, train.y, test.X))
    errors = np.zeros((2, len(widths)))
    for w, width in enumerate(widths):
        for s in seeds:
            model = TwoLayerReLU(dim, width, seed=s, antisymmetric=True)
            gradient_descent(model, X, Y, eta=eta, steps=steps)
            with torch.no_grad():
                outputs = model(Xt).numpy()
            errors[:, w] += [np.linalg.norm(outputs - f) / np.linalg.norm(f) / len(seeds) for f in (ntk, nngp)]
    return LinearizationGap(tuple(widths), errors[0], log_log_slope(widths, errors[0]), errors[1], log_log_slope(widths, errors[1]),
                            float(np.linalg.norm(ntk - regression) / np.linalg.norm(regression)))


# ---- G1 ridge outputs (d >> n) -----------------------------------------------------------------
@dataclass(frozen=True)
class RidgeOutputs:
    measured: np.ndarray      # mean kernel-regression output over fresh test points of each cluster
    predicted: np.ndarray     # Kbar (N Kbar + diag(r))^-1 N y
    error: float              # max |measured - predicted|


def ridge_outputs(alpha, beta, rho, var, *, n: int, dim: int, seed: int, test_per_cluster: int = 200,
                  kernel=relu_ntk) -> RidgeOutputs:
    """Kernel-regression outputs per cluster against G1's ridge approximation (regime d >> n)."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seed + 1)
    K = kernel(train.X)
    _, outputs = kernel_regression(K, kernel(test.X, train.X), train.y)
    measured = np.array([outputs[test.cluster == c].mean() for c in range(4)])
    predicted = ridge_cluster_outputs(cluster_kernel(K, train.cluster, 4), LABELS)
    return RidgeOutputs(measured, predicted, float(np.max(np.abs(measured - predicted))))
