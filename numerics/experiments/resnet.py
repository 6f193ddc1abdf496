"""Experiments for ResNet-18 on colored digits: spectrum vs rho, G1, E2 and E3 (docs/theory.md).

Setting (``DigitsSetting``): a ResNet-18 (numerics.resnet, eval mode, width 32 by default) and
colored digits (numerics.colored_digits) of size 16, digits 0 (label +1) against 1 (label -1),
colour contrast 0.3. Why not the data set's default 0-4 against 5-9 at full contrast: a random-init
network's NTK barely sees that label at the cluster level, so the label-carrying odd sector is
effectively rank one: a single colour-like eigenfunction is the most correlated with both g_A and
g_C, and E2's ratio is pinned at exactly 1 (measured, width 32, n = 200, seeds 0-2, rho in 0.5,
0.7, 0.9: phi_A = phi_C = eigenfunction 2 in all nine cases). 0 against 1 makes the core visible;
contrast 0.3 puts the colour's salience near the digit's (at contrast 1, 0 against 1, the ratio
is still exactly 1 at rho = 0.7 for one seed of three).

Seeds: one int ``seed`` per experiment fixes the network (resnet18(seed=seed)), the training
images (stream 0) and the test images (stream 1); the same seed at two rho values gives the same
network, nearly the same training digits, and different colour assignments.

Every Gram is numerics.structured_ntk.structured_gram (exact; float64 accumulation).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import torch

from numerics.clusters import cluster_kernel, predicted_eigenvalues, relative_eigenvalue_errors
from numerics.colored_digits import ColoredDigits, colored_digits
from numerics.eigen import top_eigenpairs
from numerics.eigenfunctions import label_features, predicted_label_features
from numerics.resnet import resnet18
from numerics.structured_ntk import structured_gram
from numerics.training import gradient_descent, kernel_regression
from theory.gmm import CANONICAL_ALIGNED, CANONICAL_LABELS


@dataclass(frozen=True)
class DigitsSetting:
    """Network and data sizes shared by the experiments (module docstring)."""

    width: int = 32
    size: int = 16
    n: int = 160
    n_test: int = 160
    classes: tuple = ((0,), (1,))
    contrast: float = 0.3
    noise: float = 0.1
    jitter: float = 0.1
    dtype: torch.dtype = torch.float32
    device: str = "cpu"

    def with_(self, **changes) -> DigitsSetting:
        return replace(self, **changes)


DEFAULT = DigitsSetting()


def digits_data(setting: DigitsSetting, n: int, rho, seed: int, stream: int, split: str) -> ColoredDigits:
    """Colored digits of the setting; ``stream`` separates independent draws of one seed (module docstring)."""
    return colored_digits(n, rho, seed=np.random.default_rng((seed, stream)), size=setting.size,
                          noise=setting.noise, jitter=setting.jitter, contrast=setting.contrast, split=split,
                          classes=setting.classes, dtype=setting.dtype, device=setting.device)


def train_and_test(rho, *, seed: int, setting: DigitsSetting = DEFAULT) -> tuple[ColoredDigits, ColoredDigits]:
    """The (training set, test set) pair of the E2/E3 experiments: ``setting.n`` training images at
    ``rho`` (train split, stream 0) and a BALANCED test set of ``setting.n_test`` images (rho = 1/2,
    test split, stream 1: other digits, independent colours and noise)."""
    return (digits_data(setting, setting.n, rho, seed, 0, "train"),
            digits_data(setting, setting.n_test, 0.5, seed, 1, "test"))


def network(setting: DigitsSetting, seed: int):
    """The setting's ResNet-18 (scalar output, eval mode) initialised from ``seed``."""
    return resnet18(1, setting.width, 3, seed=seed, dtype=setting.dtype, device=setting.device)


@dataclass(frozen=True)
class DigitsGrams:
    """A training set at one rho, a balanced test set (rho = 1/2), and the NTK Grams between them."""

    rho: float
    train: ColoredDigits
    test: ColoredDigits
    K: np.ndarray        # (n, n) train Gram
    K_test: np.ndarray   # (n_test, n) test-by-train Gram


def digits_grams(rho, *, seed: int, setting: DigitsSetting = DEFAULT) -> DigitsGrams:
    """The NTK Grams of one seed's network on its colored-digit train and balanced test sets."""
    model = network(setting, seed)
    train, test = train_and_test(rho, seed=seed, setting=setting)
    K = structured_gram(model, train.images).cpu().numpy()
    K_test = structured_gram(model, test.images, train.images).cpu().numpy()
    return DigitsGrams(float(rho), train, test, K, K_test)


# ---- spectrum vs rho and G1 -------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterSpectrum:
    rho: float
    eigenvalues: np.ndarray   # top-4 Gram eigenvalues
    predicted: np.ndarray     # eig(N^1/2 Kbar N^1/2), clusters = (label, colour) groups (G1)
    counts: np.ndarray        # n_c in canonical cluster order

    @property
    def relative_errors(self) -> np.ndarray:
        return relative_eigenvalue_errors(self.eigenvalues, self.predicted, int(self.counts.sum()))


def _cluster_spectrum(K: np.ndarray, data: ColoredDigits, rho) -> ClusterSpectrum:
    ck = cluster_kernel(K, data.cluster, 4)
    return ClusterSpectrum(float(rho), top_eigenpairs(K, 4).values, predicted_eigenvalues(ck), ck.counts)


def spectrum_vs_rho(rhos, *, seed: int, setting: DigitsSetting = DEFAULT) -> list[ClusterSpectrum]:
    """Top-4 NTK Gram eigenvalues and their G1 prediction from the 4 x 4 cluster kernel, per rho."""
    model = network(setting, seed)
    out = []
    for rho in rhos:
        train = digits_data(setting, setting.n, rho, seed, 0, "train")
        out.append(_cluster_spectrum(structured_gram(model, train.images).cpu().numpy(), train, rho))
    return out


def shrink_to_cluster_means(data: ColoredDigits, t: float) -> ColoredDigits:
    """Images x -> mean_c + t (x - mean_c) within each (label, colour) cluster c: within-cluster
    variance scaled by t^2, cluster means kept (t = 0: every image is its cluster's mean)."""
    images = data.images.clone()
    for c in np.unique(data.cluster):
        rows = torch.as_tensor(np.nonzero(data.cluster == c)[0], device=images.device)
        mean = images[rows].mean(0, keepdim=True)
        images[rows] = mean + t * (images[rows] - mean)
    return data._replace(images=images)


def digits_cluster_reduction(rho, shrinks, *, seed: int, setting: DigitsSetting = DEFAULT) -> list[ClusterSpectrum]:
    """G1 as the within-cluster variance shrinks: one ClusterSpectrum per factor t in ``shrinks``
    (images pulled towards their cluster mean, ``shrink_to_cluster_means``)."""
    model = network(setting, seed)
    train = digits_data(setting, setting.n, rho, seed, 0, "train")
    out = []
    for t in shrinks:
        shrunk = shrink_to_cluster_means(train, t)
        out.append(_cluster_spectrum(structured_gram(model, shrunk.images).cpu().numpy(), shrunk, rho))
    return out


# ---- E2 ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureRatio:
    rho: float
    ratio: float              # lambda(phi_A) / lambda(phi_C)
    index_aligned: int        # position of phi_A among the top-k eigenpairs
    index_conflicting: int
    values: np.ndarray        # the top-k Gram eigenvalues
    predicted: float          # G1: the same selection on the 4 x 4 (label, colour) cluster kernel of the Gram


def feature_ratio(grams: DigitsGrams, *, k: int = 20) -> FeatureRatio:
    """E2 on one set of Grams: phi_A, phi_C among the top-k Nystrom eigenfunctions, most correlated
    with g_A, g_C on the balanced test set (numerics.eigenfunctions), and G1's cluster-level
    prediction of the same ratio from the training Gram's (label, colour) cluster kernel."""
    test, train = grams.test, grams.train
    lf = label_features(grams.K, grams.K_test, _labels(test), test.aligned, k=k)
    ck = cluster_kernel(grams.K, train.cluster, 4)
    predicted = predicted_label_features(ck, np.array(CANONICAL_LABELS, dtype=np.float64), np.array(CANONICAL_ALIGNED))
    return FeatureRatio(grams.rho, lf.ratio, lf.index_aligned, lf.index_conflicting, lf.values, predicted.ratio)


# ---- E3 ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigitsMargins:
    """Margins / gamma of a trained predictor on colored digits (kernel regression or a trained network):
    y f(x) for the binary set, f_y(x) - max_{k != y} f_k(x) for K classes (numerics.experiments.multiclass)."""

    rho: float | Fraction
    train_margins: np.ndarray        # on the training set (kernel regression: all 1)
    conflicting_margins: np.ndarray  # on the test set's bias-conflicting images
    aligned_margins: np.ndarray      # on its bias-aligned images

    @property
    def conflicting_accuracy(self) -> float:
        return float(np.mean(self.conflicting_margins > 0))

    @property
    def conflicting_margin(self) -> float:
        return float(np.mean(self.conflicting_margins))

    @property
    def aligned_margin(self) -> float:
        return float(np.mean(self.aligned_margins))

    @property
    def gap(self) -> float:
        """Aligned minus conflicting mean test margin (claim E3's quantity)."""
        return self.aligned_margin - self.conflicting_margin


def _labels(data: ColoredDigits) -> np.ndarray:
    return data.y.cpu().numpy().astype(np.float64)


def _margins(rho, gamma, test: ColoredDigits, f_train, y_train, f_test) -> DigitsMargins:
    y_test = _labels(test)
    test_margins = y_test * f_test / gamma
    return DigitsMargins(float(rho), y_train * f_train / gamma, test_margins[~test.aligned], test_margins[test.aligned])


def digits_kernel_regression_margins(grams: DigitsGrams, *, gamma: float = 1.0) -> DigitsMargins:
    """f(x) = k(x, X) K^-1 gamma y: the t -> infinity limit of NTK gradient descent from f_0 = 0
    (docs/theory.md); every training margin equals gamma up to the solve's rounding."""
    y = _labels(grams.train)
    f_train, f_test = kernel_regression(grams.K, grams.K_test, gamma * y)
    return _margins(grams.rho, gamma, grams.test, f_train, y, f_test)


def trained_margins(rho, *, seed: int, setting: DigitsSetting = DEFAULT, gamma: float = 1.0, steps: int = 200,
                    eta_fraction: float = 0.5, progress=None) -> DigitsMargins:
    """Real full-batch gradient descent (numerics.training, loss 1/2 ||f - Y||^2) of the ResNet in
    eval mode for ``steps`` steps, eta = eta_fraction * 2 / lambda_1(K). The initial output is
    subtracted (targets gamma y + f_0(X), predictions f_t - f_0), so that the lazy-regime limit is
    kernel regression from f_0 = 0, the predictor of ``digits_kernel_regression_margins``."""
    if not 0 < eta_fraction < 1:
        raise ValueError(f"eta_fraction must lie in (0, 1) (a stable step), got {eta_fraction}")
    model = network(setting, seed)
    train, test = train_and_test(rho, seed=seed, setting=setting)
    top = top_eigenpairs(structured_gram(model, train.images).cpu().numpy(), 1).values[0]
    with torch.no_grad():
        f0_train, f0_test = model(train.images), model(test.images)
    targets = gamma * train.y + f0_train
    outputs = gradient_descent(model, train.images, targets, eta=eta_fraction * 2 / top, steps=steps,
                               record=[steps], progress=progress)
    with torch.no_grad():
        f_test = (model(test.images) - f0_test).cpu().numpy()
    f_train = outputs[steps] - f0_train.cpu().numpy()
    return _margins(rho, gamma, test, f_train, _labels(train), f_test)
