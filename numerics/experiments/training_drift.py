"""Beyond the lazy regime: how the empirical NTK of a trained two-layer ReLU network moves (issue 13).

The paper's claims (docs/theory.md) are about the NTK at initialization, i.e. the lazy regime in which
the kernel does not move during training. This module measures, for TwoLayerReLU (numerics.models;
NTK parameterization) trained by real full-batch gradient descent on a canonical sample
(numerics.experiments.relu.train_and_probe), the empirical NTK (numerics.kernels.empirical_ntk)
before (K_0) and after (K_T) training:

    drift       ||K_T - K_0||_F / ||K_0||_F on the training set. In NTK parameterization at a fixed
                step eta = eta_fraction * 2 / lambda_1(K_0) and a fixed number of steps, every
                weight moves by O(1/sqrt(width)), so the drift is O(1/sqrt(width)) (Jacot et al.
                2018; Lee et al. 2019): the tested property (checks.kernel_drift_falls_with_width).
    ratio       lambda(phi_A) / lambda(phi_C) (numerics.eigenfunctions.label_features: top-k
                Gram eigenpairs, Nystrom on the balanced probe), before and after.
    alignment   kernel-target alignment A(K, g) = g^T K g / (||K||_F ||g||^2) of the probe Gram
                with g_A = y 1[aligned] and g_C = y 1[conflicting] (numerics.eigenfunctions.cluster_functions),
                before and after.

Whether training amplifies the shortcut (ratio or g_A's alignment rising more than g_C's) is an
OPEN question: it is measured and reported, not predicted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics.eigen import top_eigenpairs
from numerics.eigenfunctions import cluster_functions, label_features
from numerics.experiments.linear import log_log_slope
from numerics.experiments.relu import ALIGNED, train_and_probe
from numerics.kernels import empirical_ntk
from numerics.models import TwoLayerReLU
from numerics.training import gradient_descent


def kernel_alignment(K, g) -> float:
    """A(K, g) = g^T K g / (||K||_F ||g||^2) (Cristianini et al. 2002): in [-1, 1] for symmetric K, and
    invariant to scaling K, so kernels of different size (before/after training) compare."""
    K, g = np.asarray(K, dtype=np.float64), np.asarray(g, dtype=np.float64)
    return float(g @ K @ g / (np.linalg.norm(K) * (g @ g)))


def kernel_drift(K_t, K_0) -> float:
    """||K_t - K_0||_F / ||K_0||_F: how far training moved the empirical NTK, relative to its start."""
    K_t, K_0 = np.asarray(K_t, dtype=np.float64), np.asarray(K_0, dtype=np.float64)
    return float(np.linalg.norm(K_t - K_0) / np.linalg.norm(K_0))


@dataclass(frozen=True)
class KernelSnapshot:
    """What one empirical NTK says about the shortcut (module docstring)."""

    ratio: float                # lambda(phi_A) / lambda(phi_C)
    alignment_aligned: float    # A(K_probe, g_A)
    alignment_conflicting: float


@dataclass(frozen=True)
class DriftRun:
    width: int
    eta_fraction: float
    seed: int
    drift: float                # ||K_T - K_0||_F / ||K_0||_F on the training set
    before: KernelSnapshot
    after: KernelSnapshot
    train_residual: float       # ||f_T(X) - y|| / ||y||: how far training got


def _snapshot(K_all: np.ndarray, n: int, probe, k: int) -> KernelSnapshot:
    K, K_probe_train, K_probe = K_all[:n, :n], K_all[n:, :n], K_all[n:, n:]
    aligned = ALIGNED[probe.cluster]
    g_a, g_c = cluster_functions(probe.y, aligned)
    ratio = label_features(K, K_probe_train, probe.y, aligned, k=k).ratio
    return KernelSnapshot(float(ratio), kernel_alignment(K_probe, g_a), kernel_alignment(K_probe, g_c))


def drift_run(alpha, beta, rho, var, *, n: int, dim: int, seed: int, width: int, eta_fraction: float,
              steps: int, probe_per_cluster: int = 25, k: int = 16) -> DriftRun:
    """Train TwoLayerReLU(dim, width, seed) on ``train_and_probe``'s sample (targets y) for ``steps``
    full-batch GD steps of eta = eta_fraction * 2 / lambda_1(K_0) (stable for eta_fraction < 1), and
    compare its empirical NTK on the training and probe points before and after (module docstring)."""
    if not 0 < eta_fraction < 1:
        raise ValueError(f"eta_fraction must lie in (0, 1) (a stable step), got {eta_fraction}")
    train, probe = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed, per_cluster=probe_per_cluster)
    X = torch.tensor(train.X, dtype=torch.float64)
    X_all = torch.tensor(np.concatenate([train.X, probe.X]), dtype=torch.float64)
    Y = torch.tensor(train.y, dtype=torch.float64)
    model = TwoLayerReLU(dim, width, seed=seed)
    K0 = empirical_ntk(model, X_all).numpy()
    eta = eta_fraction * 2 / top_eigenpairs(K0[:n, :n], 1).values[0]
    f = gradient_descent(model, X, Y, eta=float(eta), steps=steps, record=[steps], progress=False)[steps]
    KT = empirical_ntk(model, X_all).numpy()
    return DriftRun(width, float(eta_fraction), seed, kernel_drift(KT[:n, :n], K0[:n, :n]), _snapshot(K0, n, probe, k),
                    _snapshot(KT, n, probe, k), float(np.linalg.norm(f - train.y) / np.linalg.norm(train.y)))


@dataclass(frozen=True)
class DriftVsWidth:
    widths: tuple
    drifts: np.ndarray          # mean over seeds of the drift at each width
    slope: float                # log-log slope of drifts vs widths (lazy regime: -1/2)
    runs: tuple                 # every DriftRun, widths outer, seeds inner


def drift_vs_width(alpha, beta, rho, var, *, n: int, dim: int, widths, seeds, eta_fraction: float, steps: int,
                   probe_per_cluster: int = 25, k: int = 16) -> DriftVsWidth:
    """drift_run at every width and seed; the seed-mean drift per width and its log-log slope."""
    runs = tuple(drift_run(alpha, beta, rho, var, n=n, dim=dim, seed=s, width=w, eta_fraction=eta_fraction,
                           steps=steps, probe_per_cluster=probe_per_cluster, k=k) for w in widths for s in seeds)
    drifts = np.array([np.mean([r.drift for r in runs if r.width == w]) for w in widths])
    return DriftVsWidth(tuple(widths), drifts, log_log_slope(widths, drifts), runs)
