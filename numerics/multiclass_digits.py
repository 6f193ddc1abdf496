"""Multi-class colored digits: K digit classes in K colours, a K x K label-colour table with mass rho on its
diagonal (claim E3 per output column, docs/theory.md#E3).

    label    k in 0..K-1: the digits in classes[k] (default K = 3: digit 0, 1, 2); one-hot target e_k
    colour   j in 0..K-1: PALETTE[j] (red, green, blue)
    aligned  j = k (a diagonal cell);  conflicting  j != k

Counts are EXACT, as in numerics.colored_digits (no Bernoulli draws): class sizes n_k = floor(n / K) + [k < n mod K]
(balanced to within one image); label k's diagonal cell holds a_k = half_up(rho n_k) images, and its
c_k = n_k - a_k conflicting images are spread over the other K - 1 colours in the cyclic order k+1, k+2, ...
(mod K): each gets floor(c_k / (K - 1)), the first c_k mod (K - 1) of them one more. So each label's
diagonal fraction is rho up to the half-up rounding, and rho = 1/K gives (up to rounding) a uniform table:
colour independent of the label (the negative control; 1/K, not 1/2). Cell (k, j) is cluster k K + j, and the
images are returned grouped by cluster in that order. Each label's digits, and the jitter and pixel noise of
each position, do not depend on rho (the class sizes do not): only the colour assignment does.

Image: numerics.colored_digits' pipeline (``render``: unit-RMS digit, coloured, centred, upsampled, pixel noise)
with colour_j = mean + contrast (PALETTE[j] - mean) + jitter z, mean = the palette's mean colour (1/K) sum_j
PALETTE[j], centred by the mean digit of the K classes. K = 2 gives the binary set's red and green.

Why K <= 3: the palette is K of the 3 RGB unit vectors, so permuting the colour channels permutes the colours
and fixes the mean colour, the isotropic jitter and the pixel noise. Any kernel of (x.x', |x|, |x'|) -- every
NTK of a fully connected network on the flattened image -- is invariant under that permutation, so at
rho = 1/K (a uniform table) a diagonal cell and an off-diagonal cell of one label have the same margin
distribution: the aligned - conflicting gap is zero in expectation, exactly. A fourth colour (e.g. yellow,
red + green) breaks that symmetry, and the control would carry a bias of its own.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np
import torch

from numerics.colored_digits import centring_digit, check_image_arguments, render, split_digits
from numerics.counts import half_up
from numerics.seeds import numpy_generator

PALETTE = np.eye(3)                       # red, green, blue
DEFAULT_CLASSES = ((0,), (1,), (2,))


class MulticlassDigits(NamedTuple):
    """images (n, 3, size, size), labels (n,) and colours (n,) in 0..K-1 (int64 numpy arrays), K classes."""

    images: torch.Tensor
    labels: np.ndarray
    colours: np.ndarray
    classes: int

    @property
    def aligned(self) -> np.ndarray:
        """Boolean (n,): colour == label (a diagonal cell)."""
        return self.colours == self.labels

    @property
    def cell(self) -> np.ndarray:
        """Cluster index (n,): label K + colour (module docstring)."""
        return self.labels * self.classes + self.colours

    def targets(self, gamma: float = 1.0) -> np.ndarray:
        """One-hot targets gamma e_label (n, K), float64."""
        return gamma * np.eye(self.classes)[self.labels]


def label_colour_counts(n: int, rho, classes: int) -> np.ndarray:
    """The exact K x K table of counts (row: label, column: colour) of ``multiclass_digits`` (module docstring)."""
    K = _check_count(classes)
    table = np.zeros((K, K), dtype=int)
    for k in range(K):
        n_k = n // K + (k < n % K)
        table[k, k] = half_up(Fraction(rho) * n_k)
        share, extra = divmod(n_k - table[k, k], K - 1)
        for step in range(1, K):
            table[k, (k + step) % K] = share + (step <= extra)
    return table


def pool_sizes(split: str = "train", classes=DEFAULT_CLASSES) -> list[int]:
    """How many images of each label the split holds: each label needs its class size n_k from its own pool."""
    _, digits = split_digits(split)
    return [int(np.sum(np.isin(digits, group))) for group in _check_groups(classes)]


def multiclass_digits(n: int, rho, *, seed, classes=DEFAULT_CLASSES, size: int = 8, noise: float = 0.1,
                      jitter: float = 0.1, contrast: float = 1.0, split: str = "train", dtype=torch.float64,
                      device="cpu") -> MulticlassDigits:
    """n images in len(classes) = K in {2, 3} classes with exactly the ``label_colour_counts`` table (module
    docstring). Each label's images are drawn without replacement from its pool in the split (``pool_sizes``),
    so n / K is limited by the smallest pool (about 90 per digit). Deterministic in ``seed`` (an int or numpy
    Generator)."""
    given = rho
    rho = check_image_arguments(n, rho, size, noise, jitter, contrast, split)
    groups = _check_groups(classes)
    K = len(groups)
    table = label_colour_counts(n, rho, K)
    available = pool_sizes(split, groups)
    for k, group in enumerate(groups):
        if table[k].sum() > available[k]:
            raise ValueError(f"n = {n} with rho = {given} needs {table[k].sum()} images of label {k} (digits {group}), "
                             f"but the {split!r} split holds {available[k]}; use n <= {K * min(available)}")
    rng = numpy_generator(seed)
    indices, digits = split_digits(split)
    # label k's images in the order drawn fill its cells (k, 0), ..., (k, K-1): in cluster order the index list is
    # the labels' draws concatenated, whatever rho (only the colours move with rho)
    index = np.concatenate([rng.permutation(indices[np.isin(digits, group)])[:table[k].sum()]
                            for k, group in enumerate(groups)]).astype(np.int64)
    labels = np.repeat(np.arange(K), table.sum(axis=1))
    colours = np.repeat(np.tile(np.arange(K), K), table.ravel())
    mean = PALETTE[:K].mean(axis=0)
    base = mean + contrast * (PALETTE[colours] - mean)
    pictures = render(index, base + jitter * rng.standard_normal((n, 3)), mean, centring_digit(sum(groups, ())),
                      size=size, noise=noise, rng=rng)
    return MulticlassDigits(pictures.to(dtype=dtype, device=device), labels, colours, K)


def _check_count(classes) -> int:
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not 2 <= classes <= len(PALETTE):
        raise ValueError(f"classes must be an integer in [2, {len(PALETTE)}] (one RGB colour each), got {classes!r}")
    return int(classes)


def _check_groups(classes) -> tuple[tuple[int, ...], ...]:
    """K in {2, 3} non-empty disjoint groups of digits 0-9 (ValueError otherwise)."""
    try:
        groups = tuple(tuple(sorted({int(d) for d in group})) for group in classes)
    except (TypeError, ValueError):
        raise ValueError(f"classes must be groups of digits, one per label, got {classes!r}") from None
    digits = sum(groups, ())
    if not all(groups) or len(set(digits)) != len(digits) or not set(digits) <= set(range(10)):
        raise ValueError(f"classes must be non-empty disjoint groups of digits 0-9, got {classes!r}")
    _check_count(len(groups))
    return groups
