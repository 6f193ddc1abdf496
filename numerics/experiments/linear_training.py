"""Experiments for the linear claims after training: S2, S3 and N1 (docs/theory.md)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from numerics.data import MixtureArrays, canonical_counts, exact_moment_design, sample_gmm
from numerics.experiments.linear import to_floats
from numerics.models import DeepLinear, OneLayerLinear
from numerics.training import hard_margin_svm, min_norm_interpolant, train_to_convergence
from theory import linear
from theory.concentration import weight_deviation_bound
from theory.gmm import GMM


def end_to_end_weights(model) -> np.ndarray:
    """w with f(x) = w . x for a linear network (the product of its scaled layers)."""
    d = model.weight.shape[0] if isinstance(model, OneLayerLinear) else model.layers[0].shape[1]
    with torch.no_grad():
        return model(torch.eye(d, dtype=torch.float64)).numpy()


@dataclass(frozen=True)
class TrainedWeights:
    trained: np.ndarray       # end-to-end weights after gradient descent
    theory: np.ndarray        # SymPy w_inf = M^+ E[y x]
    error: float              # ||trained - theory|| / ||theory||
    bound: float              # a-posteriori optimization bound ||X^T r|| / lambda_min(X^T X) / ||theory||
    steps: int
    lazy_distance: float      # ||W_1 - W_1(0)||_F / ||W_1(0)||_F (0 for the one-layer model)
    travel: float             # ||w_inf - w(0)||: the end-to-end distance from the initialization to w_inf


def trained_weights_on_design(gmm: GMM, *, depth: int = 1, width: int = 0, seed: int = 0,
                              rtol: float = 1e-12) -> TrainedWeights:
    """Train a linear network by real gradient descent on the exact-moment design of ``gmm`` until
    ||X^T (f - Y)|| <= rtol ||X^T Y||, and compare its end-to-end weights with SymPy's w_inf.

    On the design X^T X / n = M and X^T Y / n = E[y x] exactly, so the least-squares solution
    IS w_inf; a deep network (depth >= 2) converges to the same end-to-end solution, and its
    first layer moves less, relative to its size, as width grows (the lazy regime)."""
    design = exact_moment_design(gmm)
    X = torch.tensor(design.X, dtype=torch.float64)
    Y = torch.tensor(design.y, dtype=torch.float64)
    gram = np.linalg.eigvalsh(design.X.T @ design.X)
    if depth == 1:
        model, scale = OneLayerLinear(gmm.dim), 1.0
    else:
        model, scale = DeepLinear(gmm.dim, width, depth, seed=seed), depth / gmm.dim
    start = [p.detach().clone() for p in model.parameters()]
    initial = end_to_end_weights(model)
    # Step 2 / (lambda_max + lambda_min) of the (limiting) NTK scale * X X^T: the optimal rate.
    eta = 2 / (scale * (gram[-1] + gram[0])) * (1.0 if depth == 1 else 0.5)
    steps = train_to_convergence(model, X, Y, eta=eta, rtol=rtol)
    trained = end_to_end_weights(model)
    theory = to_floats(linear.trained_weights(gmm))
    residual = design.X.T @ (design.X @ trained - design.y)
    norm = np.linalg.norm(theory)
    first = next(iter(model.parameters())).detach()
    lazy = 0.0 if depth == 1 else float(torch.linalg.norm(first - start[0]) / torch.linalg.norm(start[0]))
    return TrainedWeights(trained, theory, float(np.linalg.norm(trained - theory) / norm),
                          float(np.linalg.norm(residual) / gram[0] / norm), steps, lazy,
                          float(np.linalg.norm(theory - initial)))


@dataclass(frozen=True)
class SampledWeights:
    trained: np.ndarray
    theory: np.ndarray
    deviation: float     # ||w_hat - w_inf||
    bound: float         # fourth-moment Markov bound (theory/concentration.py), probability >= 1 - delta


def sampled_weights(gmm: GMM, n: int, *, seed: int, delta: float = 1e-3) -> SampledWeights:
    """Least-squares weights on n i.i.d. samples against w_inf and its concentration bound (S2)."""
    sample = sample_gmm(gmm, n, seed=seed)
    w = min_norm_interpolant(sample.X, sample.y)
    theory = to_floats(linear.trained_weights(gmm))
    bound = float(sp.N(weight_deviation_bound(gmm, n, sp.Rational(delta)), 30))
    return SampledWeights(w, theory, float(np.linalg.norm(w - theory)), bound)


def design_weights(gmm: GMM, *, gamma: float = 1.0) -> np.ndarray:
    """Least-squares weights (the t -> infinity limit of gradient descent from 0) on the exact-moment
    design of ``gmm`` with targets gamma * y; they equal w_inf up to rounding."""
    design = exact_moment_design(gmm)
    return min_norm_interpolant(design.X, gamma * design.y)


def feature_energy_ratio(gmm: GMM, *, gamma: float = 1.0) -> tuple[float, float]:
    """(theory, measured) top/second feature-energy ratio E[f^(1)^2] / E[f^(2)^2] (claims S2, S3).

    theory: SymPy's (u_i.m)^2 / eig_i(M). measured: least squares on the exact-moment design with
    targets gamma * y, w projected on the eigenvectors u_i of X^T X / n: energy_i = (u_i.w)^2 eig_i."""
    (_, top), (_, second) = linear.feature_energies(gmm)[:2]
    theory = np.inf if second == 0 else float(sp.N(top / second, 30))
    design = exact_moment_design(gmm)
    w = design_weights(gmm, gamma=gamma)
    values, vectors = np.linalg.eigh(design.X.T @ design.X / design.n)
    measured = (vectors[:, ::-1].T @ w) ** 2 * values[::-1]
    with np.errstate(divide="ignore"):
        return theory, float(np.float64(measured[0]) / measured[1])


def cluster_margins(gmm: GMM, *, gamma: float = 1.0) -> np.ndarray:
    """y_c f(mu_c) for every cluster c of the model trained by least squares on the exact-moment
    design with targets gamma * y (claims S2, S3, N1); equals the expected margin on fresh points."""
    arrays = MixtureArrays.from_gmm(gmm)
    return arrays.labels * (arrays.means @ design_weights(gmm, gamma=gamma))


@dataclass(frozen=True)
class Interpolation:
    training_margins: np.ndarray   # y_i f(x_i), each should equal gamma
    aligned_margin: float          # y f(mu) averaged over aligned cluster means = mean over fresh points
    conflicting_margin: float
    signal: np.ndarray             # min-norm weights on (e_core, e_bias)
    ridge: np.ndarray              # docs/theory.md ridge formula on the sample's own mean part
    ridge_error: float             # ||signal - ridge|| / ||ridge||
    svm_cosine: float              # cos(hard-margin SVM direction, min-norm w) on the SAME samples
    svm_aligned_margin: float      # the SVM's fresh-point margins, in units of its training margin
    svm_conflicting_margin: float

    @property
    def gap(self) -> float:
        """Aligned minus conflicting fresh-point margin of the min-norm interpolant (units of gamma)."""
        return self.aligned_margin - self.conflicting_margin

    @property
    def svm_gap(self) -> float:
        """The same gap for the hard-margin SVM on the same samples (units of its training margin)."""
        return self.svm_aligned_margin - self.svm_conflicting_margin


def _ridge(S: np.ndarray, targets: np.ndarray, total_variance: float) -> np.ndarray:
    """docs/theory.md S3: the ridge formula (S^T S / n + (d sigma^2 / n) I)^-1 S^T gamma Y / n on the sample's own
    noiseless mean rows S (n x 2), total_variance = d sigma^2."""
    n = S.shape[0]
    return np.linalg.solve(S.T @ S / n + total_variance / n * np.eye(2), S.T @ targets / n)


def ridge_error(alpha, beta, rho, sigma2, *, n: int, d: int, seed: int) -> float:
    """``interpolation(...).ridge_error`` (same sample, same min-norm interpolant, gamma = 1) without the SVM and
    the fresh-point margins: ||w_signal - ridge|| / ||ridge||, S's rows the clusters' (core, bias) means."""
    if n >= d:
        raise ValueError(f"d must exceed n for interpolation, got n = {n}, d = {d}")
    gmm = GMM.canonical(alpha, beta, rho, sigma2, dim=d)
    sample = sample_gmm(gmm, seed=seed, counts=canonical_counts(rho, n))
    w = min_norm_interpolant(sample.X, sample.y)
    signal_means = np.array([[float(c.mean[0]), float(c.mean[1])] for c in gmm.clusters])
    ridge = _ridge(signal_means[sample.cluster], sample.y, d * float(sigma2))
    return float(np.linalg.norm(w[:2] - ridge) / np.linalg.norm(ridge))


def interpolation(alpha, beta, rho, sigma2, *, n: int, d: int, seed: int, gamma: float = 1.0) -> Interpolation:
    """Min-norm interpolation (n < d) of targets gamma * y on the canonical GMM with noise sigma2 on
    every coordinate (docs/theory.md, claim S3), and the hard-margin SVM on the same samples (like for
    like: the margin-maximizing solution of the same data). The noise draw depends on ``seed`` only,
    so two rho values on one seed share it. Fresh-point margins are exact expectations: f is linear,
    so the mean of y f(x) over a cluster is y f(mu)."""
    if n >= d:
        raise ValueError(f"d must exceed n for interpolation, got n = {n}, d = {d}")
    gmm = GMM.canonical(alpha, beta, rho, sigma2, dim=d)
    sample = sample_gmm(gmm, seed=seed, counts=canonical_counts(rho, n))
    targets = gamma * sample.y
    w = min_norm_interpolant(sample.X, targets)
    arrays = MixtureArrays.from_gmm(gmm)
    margins = arrays.labels * (arrays.means @ w) / gamma
    S = arrays.means[sample.cluster][:, :2]
    ridge = _ridge(S, targets, d * float(sigma2))
    direction, svm_margin = hard_margin_svm(sample.X, sample.y)
    svm_margins = arrays.labels * (arrays.means @ direction) / svm_margin
    return Interpolation(sample.y * (sample.X @ w), float(margins[:2].mean()), float(margins[2:].mean()),
                         w[:2], ridge, float(np.linalg.norm(w[:2] - ridge) / np.linalg.norm(ridge)),
                         float(direction @ w / np.linalg.norm(w)), float(svm_margins[:2].mean()),
                         float(svm_margins[2:].mean()))
