"""Experiments for the two-layer ReLU claims R1, G1, E2, E3, E4 (docs/theory.md).

Data: the canonical 4-cluster model (theory.GMM.canonical) with EXACT cluster counts: the aligned
clusters hold round(rho n / 2) points each, the conflicting ones the rest, so two values of rho
with the same seed differ only in which noise rows belong to which cluster (common random
numbers: ``sample_gmm`` with counts draws one (n, d) noise matrix from the seed). Probe and test
sets are balanced (rho = 1/2, equal counts per cluster) and drawn from ``seed + 1``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import numpy as np
import sympy as sp
import torch

from numerics.clusters import ClusterKernel, ClusterReduction, cluster_kernel, cluster_reduction, ridge_cluster_outputs
from numerics.data import Sample, canonical_counts, sample_gmm
from numerics.eigen import top_eigenpairs
from numerics.eigenfunctions import LabelFeatures, label_features, predicted_label_features
from numerics.experiments.linear import WidthConvergence, log_log_slope
from numerics.features import feature_outputs
from numerics.kernels import empirical_ntk, linear_ntk, relu_nngp, relu_ntk
from numerics.models import ReLUMLP, TwoLayerReLU
from numerics.training import gradient_descent, kernel_regression
from theory import cluster_kernel as theory_ck
from theory.gmm import CANONICAL_ALIGNED, CANONICAL_LABELS, GMM
from theory.strategies import offset_canonical

#: canonical cluster order (theory.gmm): (y, b) = (+1, +1), (-1, -1), (+1, -1), (-1, +1)
LABELS = np.array(CANONICAL_LABELS, dtype=np.float64)
ALIGNED = np.array(CANONICAL_ALIGNED)


# ---- data -------------------------------------------------------------------------------------
def _model(alpha, beta, rho, var, dim: int, offset) -> GMM:
    """GMM.canonical, or with offset != 0 theory.strategies.offset_canonical (every mean + offset e_2: the
    mixture is then not symmetric under x -> -x, a symmetry breaker of P1)."""
    return offset_canonical(alpha, beta, rho, var, offset, dim=dim) if offset else GMM.canonical(alpha, beta, rho, var, dim=dim)


def canonical_sample(alpha, beta, rho, var, *, n: int, dim: int, seed: int, offset=0) -> Sample:
    """n points of GMM.canonical(alpha, beta, rho, var, dim) with exact counts (module docstring); with
    ``offset`` omega != 0, of offset_canonical (the same noise rows: the sample shifted by omega e_2)."""
    return sample_gmm(_model(alpha, beta, rho, var, dim, offset), n, seed=seed, counts=canonical_counts(rho, n))


def balanced_probe(alpha, beta, var, *, per_cluster: int, dim: int, seed: int, offset=0) -> Sample:
    """A balanced (rho = 1/2) probe/test set: ``per_cluster`` points in each of the 4 clusters."""
    return sample_gmm(_model(alpha, beta, Fraction(1, 2), var, dim, offset), seed=seed, counts=[per_cluster] * 4)


def train_and_probe(alpha, beta, rho, var, *, n: int, dim: int, seed: int, per_cluster: int,
                    offset=0) -> tuple[Sample, Sample]:
    """The (training set, probe/test set) pair of every ReLU experiment (E2, E3, E4, G1 ridge outputs):
    ``canonical_sample`` at rho from ``seed``, and a ``balanced_probe`` drawn independently from ``seed + 1``."""
    return (canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed, offset=offset),
            balanced_probe(alpha, beta, var, per_cluster=per_cluster, dim=dim, seed=seed + 1, offset=offset))


def relu_kernel(*, depth: int = 1, W_std=1.0, b_std=0.0):
    """numerics.kernels.relu_ntk of the given architecture as a kernel function k(X1, X2=None) (claims R1, P1);
    W_std and b_std may be Fractions (theory.strategies.relu_architectures)."""
    return partial(relu_ntk, depth=depth, W_std=float(W_std), b_std=float(b_std))


def _aligned(sample: Sample) -> np.ndarray:
    return ALIGNED[sample.cluster]


# ---- R1 ---------------------------------------------------------------------------------------
def relu_width_convergence(X: np.ndarray, widths, *, seeds, depth: int = 1, W_std: float = 1.0,
                           b_std: float = 0.0) -> WidthConvergence:
    """Mean over seeds of ||K_emp - relu_ntk||_F / ||relu_ntk||_F at each width, for ReLUMLP(depth, W_std,
    b_std) (its depth-1 bias-free case draws exactly TwoLayerReLU's weights), and the log-log slope
    (claim R1: -1/2)."""
    Xt = torch.tensor(X, dtype=torch.float64)
    limit = relu_ntk(X, depth=depth, W_std=W_std, b_std=b_std)

    def error(width, seed):
        model = ReLUMLP(X.shape[1], width, depth, W_std, b_std, seed=seed)
        return np.linalg.norm(empirical_ntk(model, Xt).numpy() - limit)

    errors = np.array([np.mean([error(w, s) for s in seeds]) / np.linalg.norm(limit) for w in widths])
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
def relu_cluster_reduction(alpha, beta, rho, var, *, n: int, dim: int, seed: int, depth: int = 1, W_std=1.0,
                           b_std=0.0, offset=0) -> ClusterReduction:
    """G1 for the ReLU NTK (architecture ``depth``, ``W_std``, ``b_std``: relu_kernel) on a canonical sample,
    its means shifted by ``offset`` e_2 (canonical_sample)."""
    sample = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed, offset=offset)
    return cluster_reduction(relu_kernel(depth=depth, W_std=W_std, b_std=b_std)(sample.X), sample.cluster)


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
    odd_diagonal: float        # nA (a - a') / (nC (e - e')), Kbar entries averaged over the symmetry (nan: offset)
    odd_eigenvalues: tuple     # (larger, smaller) eigenvalue of the odd block (theory.cluster_kernel; nan: offset)
    linear: LabelFeatures      # the same G1 selection on the LINEAR kernel's Kbar, same sample (P1 control)

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
                             probe_per_cluster: int = 100, depth: int = 1, W_std=1.0, b_std=0.0,
                             offset=0) -> LabelFeatureRatio:
    """lambda(phi_A) / lambda(phi_C) for the ReLU NTK of the given architecture (relu_kernel) on the canonical
    model, its means shifted by ``offset`` e_2 (claim E2): measured (Gram eigenpairs, Nystrom on the probe), the
    network's own G1 prediction (predicted_label_features on its Kbar: the general m x m selection, no symmetry
    assumed), and the LINEAR prediction: the same selection on the Kbar of x.x' on the same sample. Eigenvalue
    ratios and |cos| selections do not change when a kernel is scaled, so the linear kernel's scale (L1: c x.x';
    P1: the bias-free ReLU's odd part is W_std^4 x.x'/(2d)) is immaterial. Without an offset and with depth 1,
    b_std = 0, P1 makes the two predictions equal at zero variance; bias, depth >= 2 or an offset separate them.
    odd_diagonal and odd_eigenvalues use the x -> -x symmetry of theory.cluster_kernel: nan with an offset."""
    kernel = relu_kernel(depth=depth, W_std=W_std, b_std=b_std)
    train, probe = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed,
                                  per_cluster=probe_per_cluster, offset=offset)
    K = kernel(train.X)
    measured = label_features(K, kernel(probe.X, train.X), probe.y, _aligned(probe), k=k)
    ck = cluster_kernel(K, train.cluster, 4)
    args = (*symmetrized_kernel_values(ck), ck.counts[0], ck.counts[2])      # in the order of _SYMBOLS
    odd = (float(_odd_diagonal(*args)), tuple(float(v) for v in _odd_pair(*args))) if not offset else (np.nan, (np.nan, np.nan))
    linear = predicted_label_features(cluster_kernel(linear_ntk(train.X), train.cluster, 4), LABELS, ALIGNED)
    return LabelFeatureRatio(float(rho), measured, predicted_label_features(ck, LABELS, ALIGNED), *odd, linear)


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
                              test_per_cluster: int = 200, kernel=relu_ntk, offset=0) -> GmmMargins:
    """Min-norm kernel interpolation f = k(., X) K^-1 gamma Y (every training margin = gamma; claim E3), on the
    canonical model with its means shifted by ``offset`` e_2 (canonical_sample)."""
    train, test = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed,
                                  per_cluster=test_per_cluster, offset=offset)
    train_outputs, test_outputs = kernel_regression(kernel(train.X), kernel(test.X, train.X), gamma * train.y)
    return _margins(train, train_outputs, test, test_outputs, gamma)


def trained_network_margins(alpha, beta, rho, var, *, n: int, dim: int, seed: int, width: int, steps: int = 3000,
                            gamma: float = 1.0, test_per_cluster: int = 200) -> GmmMargins:
    """Real full-batch gradient descent of an antisymmetric TwoLayerReLU (f_0 = 0) on targets
    gamma y, step 1.9 / lambda_max(relu_ntk Gram) (stable: < 2 / lambda_max), ``steps`` steps (claim E3).
    The default 3000 steps: at n = 200, dim = 20, var = 0.36 the slowest mode has eta lambda_min >= 2.5e-3
    (measured, rho up to 0.9), so the analytic NTK's residual is <= e^-7.5 ~ 6e-4 (T1); the finite
    network lags it (numerics.tolerances.RELU_GD_MARGIN)."""
    train, test = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed,
                                  per_cluster=test_per_cluster)
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
    train, test = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seeds[0],
                                  per_cluster=test_per_cluster)
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
    kernel: ClusterKernel     # the training Gram's cluster kernel (Kbar, r, counts) the prediction uses


def ridge_outputs(alpha, beta, rho, var, *, n: int, dim: int, seed: int, test_per_cluster: int = 200,
                  kernel=relu_ntk) -> RidgeOutputs:
    """Kernel-regression outputs per cluster against G1's ridge approximation (regime d >> n)."""
    train, test = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed,
                                  per_cluster=test_per_cluster)
    K = kernel(train.X)
    _, outputs = kernel_regression(K, kernel(test.X, train.X), train.y)
    measured = np.array([outputs[test.cluster == c].mean() for c in range(4)])
    ck = cluster_kernel(K, train.cluster, 4)
    predicted = ridge_cluster_outputs(ck, LABELS)
    return RidgeOutputs(measured, predicted, float(np.max(np.abs(measured - predicted))), ck)
