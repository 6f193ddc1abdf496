"""Colored digits: a real-image shortcut data set with an exact label-bias correlation (docs/theory.md).

Source: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download). The split is
by index parity: "train" holds the even indices (899 images), "test" the odd ones (898), so the
two never share an image.

    label      y = +1 for digits in classes[0] (default 0-4), -1 for classes[1] (default 5-9);
               the core attribute: the digit's shape
    bias       b = +1: red stroke, b = -1: green stroke  (the shortcut attribute: its colour)
    aligned    b = y;  conflicting  b = -y

Imbalance is EXACT, not Bernoulli: round(rho n) (halves rounded up) of the n images are aligned,
so two sets with the same n and rho have identical cluster counts and any two rho values are
compared on counts, not on sampling luck. Clusters follow theory.gmm's canonical order
    0: (y, b) = (+1, +1),  1: (-1, -1)  (aligned),   2: (+1, -1),  3: (-1, +1)  (conflicting)
with counts (ceil(nA/2), floor(nA/2), floor(nC/2), ceil(nC/2)), nA = round(rho n), nC = n - nA,
so the classes are balanced to within one image. The images are returned grouped by cluster.

Image. Each 8x8 digit is scaled to unit RMS gray level, g = pixels / rms(pixels) (the amount of
ink, which a ReLU kernel otherwise sees first, carries no label), coloured, centred and upsampled
to size x size (bilinear, torch.nn.functional.interpolate, align_corners=False):
    image[ch] = colour[ch] * g - mean_colour[ch] * gbar + noise * eps[ch],
    colour = base(b) + jitter * z,   base(b) = ((1 + contrast b) / 2, (1 - contrast b) / 2, 0),
mean_colour = (1/2, 1/2, 0), gbar = the mean scaled digit of the train split's images of the two
classes (a fixed constant: centring does not depend on rho, seed or split), z ~ N(0, I_3) per image,
eps ~ N(0, 1) per pixel and channel (added after upsampling). ``contrast`` is the colour's
salience (the canonical model's beta): 1 gives pure red (b = +1) against pure green (b = -1),
0 the same yellow for both, so the bias attribute is absent (a negative control). Within-cluster
variance has three sources: the handwriting itself, the colour ``jitter`` and the pixel
``noise``; jitter = noise = 0 leaves only the handwriting.

Default classes are 0-4 against 5-9. ``classes`` picks other digit groups; a random-init network's
NTK barely separates 0-4 from 5-9 at the cluster level (see numerics.experiments.resnet), so the
ResNet experiments use 0 against 1.

The image pipeline (``render``, ``centring_digit``, ``split_digits``, ``check_image_arguments``) also serves
numerics.multiclass_digits (K classes in K colours); this module's sets are unchanged by it.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from numerics.counts import half_up
from numerics.seeds import numpy_generator

SPLITS = ("train", "test")
DEFAULT_CLASSES = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))
MEAN_COLOUR = np.array([0.5, 0.5, 0.0])


class ColoredDigits(NamedTuple):
    """images (n, 3, size, size), y (n,) and b (n,) in {-1, +1} (same dtype as images)."""

    images: torch.Tensor
    y: torch.Tensor
    b: torch.Tensor

    @property
    def aligned(self) -> np.ndarray:
        """Boolean (n,): b == y."""
        return (self.y == self.b).cpu().numpy()

    @property
    def cluster(self) -> np.ndarray:
        """Cluster index (n,) in theory.gmm's canonical order (module docstring)."""
        y = self.y.cpu().numpy() > 0
        return np.where(self.aligned, np.where(y, 0, 1), np.where(y, 2, 3))


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits scaled to unit RMS gray level (8x8 each), and their digit values."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = data.images / np.sqrt(np.mean(data.images**2, axis=(1, 2), keepdims=True))
    return images, data.target


def pool_sizes(split: str = "train", classes=DEFAULT_CLASSES) -> dict[int, int]:
    """How many images of each label (+1, -1) the split holds: the most ``colored_digits`` can use."""
    _check_split(split)
    _, target = _digits()
    labels = _labels(target[SPLITS.index(split)::2], _check_classes(classes))
    return {+1: int(np.sum(labels > 0)), -1: int(np.sum(labels < 0))}


def cluster_counts(n: int, rho) -> tuple[int, int, int, int]:
    """Exact counts of the four clusters (module docstring) for n images and aligned fraction rho."""
    n_aligned = half_up(Fraction(rho) * n)
    n_conflicting = n - n_aligned
    return ((n_aligned + 1) // 2, n_aligned // 2, n_conflicting // 2, (n_conflicting + 1) // 2)


def colored_digits(n: int, rho, *, seed, size: int = 16, noise: float = 0.1, jitter: float = 0.1,
                   contrast: float = 1.0, split: str = "train", classes=DEFAULT_CLASSES, dtype=torch.float32,
                   device="cpu") -> ColoredDigits:
    """n colored digit images with exactly round(rho n) bias-aligned (module docstring).

    Each label's images are drawn without replacement from the split (``pool_sizes``), so n is
    limited by the smaller pool: every label needs about n/2 images. Deterministic in ``seed``
    (an int or numpy Generator; nothing reads global random state).
    """
    given = rho
    rho = check_image_arguments(n, rho, size, noise, jitter, contrast, split)
    rng = numpy_generator(seed)
    counts = cluster_counts(n, rho)
    need = {+1: counts[0] + counts[2], -1: counts[1] + counts[3]}
    classes = _check_classes(classes)
    available = pool_sizes(split, classes)
    for label in (+1, -1):
        if need[label] > available[label]:
            raise ValueError(f"n = {n} with rho = {given} needs {need[label]} images of label {label:+d}, but the "
                             f"{split!r} split holds {available[label]}; use n <= {2 * min(available.values())}")
    indices, digits = split_digits(split)
    labels = _labels(digits, classes)
    chosen = {label: rng.permutation(indices[labels == label])[:need[label]] for label in (+1, -1)}
    # clusters in canonical order: (label, bias, images of that label taken in order)
    y_b = ((+1, +1), (-1, -1), (+1, -1), (-1, +1))
    taken = {+1: 0, -1: 0}
    rows, ys, bs = [], [], []
    for (y, b), count in zip(y_b, counts):
        rows.append(chosen[y][taken[y]:taken[y] + count])
        taken[y] += count
        ys += [y] * count
        bs += [b] * count
    index = np.concatenate(rows).astype(np.int64)
    b = np.array(bs, dtype=np.float64)
    base = np.stack([(1 + contrast * b) / 2, (1 - contrast * b) / 2, np.zeros(n)], axis=1)
    colours = base + jitter * rng.standard_normal((n, 3))
    pictures = render(index, colours, MEAN_COLOUR, centring_digit(classes[0] + classes[1]), size=size, noise=noise,
                      rng=rng)
    as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return ColoredDigits(as_tensor(pictures), as_tensor(np.array(ys, dtype=np.float64)), as_tensor(b))


def split_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's image indices into the 1797 digits (even: "train", odd: "test") and their digit values."""
    _check_split(split)
    _, target = _digits()
    indices = np.arange(SPLITS.index(split), len(target), 2)
    return indices, target[indices]


def centring_digit(digits) -> np.ndarray:
    """gbar (module docstring): the mean scaled 8x8 digit over the train split's images of the given digit
    values (a constant of the data set's classes: centring depends on neither rho, seed nor split)."""
    images, _ = _digits()
    indices, values = split_digits("train")
    return images[indices[np.isin(values, list(digits))]].mean(axis=0)


def render(index, colours, mean_colour, centre, *, size: int, noise: float, rng) -> torch.Tensor:
    """The image pipeline (module docstring), float64 (n, 3, size, size): digit images[index] (scaled 8x8) in
    colours (n, 3), minus mean_colour (3,) times the centring digit ``centre`` (8x8), bilinearly upsampled to
    size x size, plus ``noise`` times N(0, 1) pixel noise drawn from ``rng`` after upsampling."""
    images, _ = _digits()
    small = colours[:, :, None, None] * images[index][:, None] - np.asarray(mean_colour)[:, None, None] * centre
    pictures = F.interpolate(torch.from_numpy(small), size=(size, size), mode="bilinear", align_corners=False)
    return pictures + noise * torch.from_numpy(rng.standard_normal((len(index), 3, size, size)))


def _labels(digits: np.ndarray, classes=DEFAULT_CLASSES) -> np.ndarray:
    """+1 / -1 for digits in classes[0] / classes[1], 0 for digits in neither (unused)."""
    return np.where(np.isin(digits, classes[0]), 1, np.where(np.isin(digits, classes[1]), -1, 0))


def _check_classes(classes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    try:
        positive, negative = (tuple(sorted({int(d) for d in group})) for group in classes)
    except (TypeError, ValueError):
        raise ValueError(f"classes must be two groups of digits (label +1, label -1), got {classes!r}") from None
    if not positive or not negative or set(positive) & set(negative) or not set(positive + negative) <= set(range(10)):
        raise ValueError(f"classes must be two non-empty disjoint groups of digits 0-9, got {classes!r}")
    return positive, negative


def _check_split(split) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def check_image_arguments(n, rho, size, noise, jitter, contrast, split) -> Fraction:
    """Validate the arguments shared with numerics.multiclass_digits (ValueError / TypeError naming the argument);
    returns rho as a Fraction."""
    _check_split(split)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(rho, bool) or not isinstance(rho, (int, float, Fraction, np.floating, np.integer)):
        raise TypeError(f"rho must be a real number in [0, 1], got {rho!r}")
    if not math.isfinite(rho) or not 0 <= rho <= 1:
        raise ValueError(f"rho must lie in [0, 1], got {rho!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer >= 8 (the digits are 8x8), got {size!r}")
    for name, value, upper in (("noise", noise, math.inf), ("jitter", jitter, math.inf), ("contrast", contrast, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
                math.isfinite(value) and 0 <= value <= upper):
            allowed = ">= 0" if upper == math.inf else f"in [0, {upper}]"
            raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    return Fraction(rho)
