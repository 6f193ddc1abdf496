"""Data-set integrity as a property: the sets the experiments build are what their claims say they are.

(a) Within one draw no two points or images are copies: GMM points carry their own noise (the residuals
    x - mu_c are pairwise distinct), and no colored-digit image is a recoloured or re-noised copy of
    another (the underlying digits are distinct, and so are the pixel-noise fields).
(b) A probe/test set claimed balanced is balanced at EVERY training imbalance (rho is drawn away from 1/2:
    at rho = 1/2 every set is balanced anyway), and a training set has its exact imbalance.
(c) A test set shares nothing with its training set: no noise residual (the GMM probe is drawn from
    seed + 1), no digit image and no noise field (the images' test split and stream).
Tested through the functions the experiments build their sets with: numerics.experiments.relu.train_and_probe
(E2, E3, E4, G1 ridge outputs), numerics.experiments.resnet.train_and_test (ResNet E2, E3), and the
samplers underneath (numerics.data.sample_gmm, numerics.colored_digits.colored_digits).

Expected values are written from the definitions, not from the code: the canonical means
mu_{y,b} = y alpha e_core + b beta e_bias in cluster order (y, b) = (+,+), (-,-), (+,-), (-,+) (docs/theory.md);
the colored-digit image (numerics/colored_digits.py docstring) image[ch] = colour[ch] g - mean_colour[ch]
gbar + noise eps[ch], colour = ((1 + contrast b)/2, (1 - contrast b)/2, 0) + jitter z: with contrast 1 and
jitter = noise = 0, red - green = b * upsample(g), the digit itself; with noise sigma the pixel noise is
(image(sigma) - image(0)) / sigma on the same seed.
"""
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.checks import canonical_cluster_counts, label_colour_table, no_copies
from numerics.colored_digits import colored_digits
from numerics.data import sample_gmm
from numerics.experiments import multiclass as multiclass_ex
from numerics.experiments import resnet as resnet_ex
from numerics.experiments.relu import balanced_probe, canonical_sample, train_and_probe
from numerics.multiclass_digits import label_colour_counts, multiclass_digits
from numerics.pytest_plugin import examples
from theory import GMM
from theory.strategies import seeds

#: canonical cluster order: (y, b) per cluster (docs/theory.md)
Y_B = np.array([(1, 1), (-1, -1), (1, -1), (-1, 1)])
HALF = Fraction(1, 2)

# rho away from 1/2 (an unbalanced probe is invisible at rho = 1/2)
relu_rhos = st.fractions(Fraction(3, 5), Fraction(19, 20), max_denominator=40)
image_rhos = st.one_of(st.fractions(0, Fraction(2, 5), max_denominator=40),
                       st.fractions(Fraction(3, 5), 1, max_denominator=40))
strengths = st.fractions(Fraction(1, 5), Fraction(3), max_denominator=20)
variances = st.fractions(Fraction(1, 100), Fraction(2), max_denominator=100)


def residuals(sample, alpha, beta):
    """x - mu_c for every point, mu_c from the definition (first two coordinates core, bias; rest 0)."""
    means = np.zeros_like(sample.X)
    means[:, 0] = float(alpha) * Y_B[sample.cluster, 0]
    means[:, 1] = float(beta) * Y_B[sample.cluster, 1]
    return sample.X - means


# ---- GMM: sample_gmm and the ReLU experiments' train/probe pair (E2, E3, E4, G1) -------------------
@pytest.mark.claim("L3")
@given(alpha=strengths, beta=strengths, rho=st.fractions(HALF, 1, max_denominator=40), var=variances,
       n=st.integers(2, 600), dim=st.integers(3, 12), seed=seeds())
def test_a_gmm_draw_gives_every_point_its_own_noise(alpha, beta, rho, var, n, dim, seed):
    """sample_gmm with multinomial counts (the L3 / S1 / S2 samples): residuals pairwise distinct."""
    sample = sample_gmm(GMM.canonical(alpha, beta, rho, var, dim=dim), n, seed=seed)
    check = no_copies("sample_gmm residuals x - mu_c", residuals(sample, alpha, beta))
    assert check.ok, check.detail


@pytest.mark.claim("E2")
@given(alpha=strengths, beta=strengths, rho=relu_rhos, var=variances, n=st.integers(20, 300).map(lambda k: 2 * k),
       per_cluster=st.integers(5, 100), dim=st.integers(3, 30), seed=seeds())
def test_relu_train_and_probe_sets_are_distinct_balanced_and_disjoint(alpha, beta, rho, var, n, per_cluster, dim,
                                                                    seed):
    """train_and_probe at rho != 1/2: (a) each set's residuals are pairwise distinct; (b) the training set
    has the exact imbalance rho and the probe is balanced (each cluster per_cluster points); (c) no probe
    residual equals a training residual (independent draws, seed + 1)."""
    train, probe = train_and_probe(alpha, beta, rho, var, n=n, dim=dim, seed=seed, per_cluster=per_cluster)
    r_train, r_probe = residuals(train, alpha, beta), residuals(probe, alpha, beta)
    for check in (no_copies("training residuals", r_train), no_copies("probe residuals", r_probe),
                  canonical_cluster_counts("training set", train.cluster, rho),
                  canonical_cluster_counts("probe", probe.cluster, HALF),
                  no_copies("probe vs training residuals", r_probe, r_train)):
        assert check.ok, check.detail
    assert probe.n == 4 * per_cluster and np.all(np.bincount(probe.cluster, minlength=4) == per_cluster)
    assert np.all(train.y == Y_B[train.cluster, 0]) and np.all(probe.y == Y_B[probe.cluster, 0])


@pytest.mark.claim("E2")
@settings(max_examples=examples(10))
@given(rho=relu_rhos, per_cluster=st.integers(5, 50), seed=seeds())
def test_negative_controls_the_rules_see_a_shared_seed_and_an_unbalanced_probe(rho, per_cluster, seed):
    """Power of the two rules above: a probe drawn from the training seed shares residuals with the
    training set, and a probe drawn at the training rho is not balanced."""
    alpha, beta, var, n, dim = 1, Fraction(13, 10), Fraction(1, 4), 2 * per_cluster, 5
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    same_seed = balanced_probe(alpha, beta, var, per_cluster=per_cluster, dim=dim, seed=seed)
    shared = no_copies("probe (same seed) vs training residuals", residuals(same_seed, alpha, beta),
                       residuals(train, alpha, beta))
    assert not shared.ok, shared.detail
    unbalanced = canonical_sample(alpha, beta, rho, var, n=4 * per_cluster, dim=dim, seed=seed + 1)
    check = canonical_cluster_counts("probe drawn at rho", unbalanced.cluster, HALF)
    assert not check.ok, check.detail


# ---- colored digits and the ResNet experiments' train/test pair (E2, E3) ---------------------------
def digits_of(data) -> torch.Tensor:
    """upsample(g) per image, from a contrast-1, jitter-0, noise-0 draw: b (red - green) (module docstring)."""
    return data.b[:, None, None] * (data.images[:, 0] - data.images[:, 1])


def _plain(**kwargs):
    return colored_digits(**kwargs, contrast=1.0, jitter=0.0, noise=0.0)


@pytest.mark.claim("E2")
@settings(max_examples=examples(15))
@given(n=st.integers(2, 400), rho=image_rhos, size=st.sampled_from([8, 12, 16]),
       split=st.sampled_from(["train", "test"]), seed=seeds())
def test_no_colored_digit_image_is_a_copy_of_another(n, rho, size, split, seed):
    """colored_digits (default classes 0-4 against 5-9): (a) the digits of one draw are distinct (no image
    is a recoloured copy of another), and so are the pixel-noise fields (no image is a re-noised copy,
    no noise field is shared)."""
    plain = _plain(n=n, rho=rho, seed=seed, size=size, split=split, dtype=torch.float64)
    noisy = colored_digits(n, rho, seed=seed, size=size, split=split, contrast=1.0, jitter=0.0, noise=0.1,
                           dtype=torch.float64)
    noise = (noisy.images - plain.images) / 0.1
    for check in (no_copies("digits of one draw", digits_of(plain)), no_copies("pixel-noise fields", noise)):
        assert check.ok, check.detail


def _resnet_sets(rho, seed, **changes):
    setting = resnet_ex.DEFAULT.with_(dtype=torch.float64, **changes)
    return resnet_ex.train_and_test(rho, seed=seed, setting=setting)


@pytest.mark.claim("E3")
@settings(max_examples=examples(10))
@given(rho=image_rhos, seed=seeds())
def test_resnet_test_set_is_balanced_and_training_set_exact_at_any_rho(rho, seed):
    """train_and_test (the ResNet E2/E3 sets, DigitsSetting defaults: 160 + 160 images of digits 0 and 1):
    the test set is balanced whatever rho the training set has, and the training set has rho exactly."""
    train, test = _resnet_sets(rho, seed)
    for check in (canonical_cluster_counts("ResNet training set", train.cluster, rho),
                  canonical_cluster_counts("ResNet test set", test.cluster, HALF)):
        assert check.ok, check.detail


@pytest.mark.claim("E3")
@settings(max_examples=examples(10))
@given(rho=image_rhos, seed=seeds())
def test_resnet_train_and_test_sets_share_no_digit_and_no_noise(rho, seed):
    """train_and_test: (a) within each set the digits and the noise fields are distinct; (c) no test digit
    is a training digit (the splits are disjoint) and no test noise field is a training one (independent
    streams)."""
    train, test = _resnet_sets(rho, seed, contrast=1.0, jitter=0.0, noise=0.0)
    noisy_train, noisy_test = _resnet_sets(rho, seed, contrast=1.0, jitter=0.0, noise=0.1)
    noise_train, noise_test = ((a.images - b.images) / 0.1 for a, b in ((noisy_train, train), (noisy_test, test)))
    for check in (no_copies("training digits", digits_of(train)), no_copies("test digits", digits_of(test)),
                  no_copies("training noise fields", noise_train), no_copies("test noise fields", noise_test),
                  no_copies("test vs training digits", digits_of(test), digits_of(train)),
                  no_copies("test vs training noise fields", noise_test, noise_train)):
        assert check.ok, check.detail


# ---- multi-class colored digits (E3 per output column, issue 15) ----------------------------------
def expected_table(n: int, rho, K: int) -> np.ndarray:
    """The K x K label-colour counts from the definition (numerics/multiclass_digits.py docstring): class sizes
    n // K (+1 for the first n % K labels), diagonal floor(rho n_k + 1/2), the rest spread over colours k+1, k+2,
    ... (mod K), the first (n_k - a_k) % (K - 1) of them one more."""
    table = np.zeros((K, K), dtype=int)
    for k in range(K):
        n_k = n // K + (1 if k < n % K else 0)
        a = int(np.floor(Fraction(rho) * n_k + HALF))
        table[k, k] = a
        for step in range(1, K):
            table[k, (k + step) % K] = (n_k - a) // (K - 1) + (1 if step <= (n_k - a) % (K - 1) else 0)
    return table


def multiclass_digits_of(data) -> torch.Tensor:
    """upsample(g) per image of a contrast-1, jitter-0, noise-0 draw: its own colour's channel minus the next
    colour's channel (both carry -mean_colour gbar; only the own one carries the digit)."""
    rows = torch.arange(len(data.labels))
    own, other = torch.as_tensor(data.colours), torch.as_tensor((data.colours + 1) % data.classes)
    return data.images[rows, own] - data.images[rows, other]


@pytest.mark.claim("E3")
@settings(max_examples=examples(15))
@given(K=st.sampled_from([2, 3]), per_class=st.integers(1, 86), extra=st.integers(0, 2),
       rho=st.fractions(0, 1, max_denominator=40), split=st.sampled_from(["train", "test"]), seed=seeds())
def test_multiclass_label_colour_table_is_exact(K, per_class, extra, rho, split, seed):
    """multiclass_digits: (b) the counted (label, colour) table equals the definition's table and
    label_colour_counts, each label's diagonal fraction is rho up to the half-up rounding, class sizes and
    off-diagonal counts within one image; images grouped by cell in the order label K + colour; (colour) with
    contrast 1, jitter 0 and noise 0, each channel j is the same picture (-mean_j gbar, upsampled) in every image
    whose colour is not j, so the colour is the stated one; (a) no two digits of the draw are copies."""
    n = K * per_class + min(extra, K - 1)
    data = multiclass_digits(n, rho, seed=seed, classes=tuple((d,) for d in range(K)), split=split, contrast=1.0,
                             jitter=0.0, noise=0.0)
    counted = np.zeros((K, K), dtype=int)
    np.add.at(counted, (data.labels, data.colours), 1)
    assert counted.tolist() == expected_table(n, rho, K).tolist() == label_colour_counts(n, rho, K).tolist()
    assert np.all(np.diff(data.cell) >= 0) and data.cell.tolist() == (data.labels * K + data.colours).tolist()
    for j in range(K):
        background = data.images[data.colours != j, j]
        assert all(torch.equal(picture, background[0]) for picture in background)
        assert not any(torch.equal(picture, background[0]) for picture in data.images[data.colours == j, j])
    for check in (label_colour_table(counted, rho), no_copies("digits of one draw", multiclass_digits_of(data))):
        assert check.ok, check.detail


@pytest.mark.claim("E3")
@settings(max_examples=examples(10))
@given(rho=st.fractions(Fraction(1, 3), 1, max_denominator=40), seed=seeds())
def test_multiclass_train_and_test_sets_are_exact_distinct_and_disjoint(rho, seed):
    """numerics.experiments.multiclass.train_and_test (K = 3): the training table has diagonal mass rho, the test
    table is uniform (rho = 1/K) whatever rho; within each set no digit and no noise field is a copy, and the
    test set shares no digit and no noise field with the training set (splits and streams)."""
    plain = multiclass_ex.DEFAULT.with_(contrast=1.0, jitter=0.0, noise=0.0)
    train, test = multiclass_ex.train_and_test(rho, seed=seed, setting=plain)
    noisy_train, noisy_test = multiclass_ex.train_and_test(rho, seed=seed, setting=plain.with_(noise=0.3))
    noise_train, noise_test = ((a.images - b.images) / 0.3 for a, b in ((noisy_train, train), (noisy_test, test)))
    tables = [np.zeros((3, 3), dtype=int) for _ in range(2)]
    for table, data in zip(tables, (train, test)):
        np.add.at(table, (data.labels, data.colours), 1)
    for check in (label_colour_table(tables[0], rho), label_colour_table(tables[1], Fraction(1, 3)),
                  no_copies("training digits", multiclass_digits_of(train)),
                  no_copies("test digits", multiclass_digits_of(test)),
                  no_copies("training noise fields", noise_train), no_copies("test noise fields", noise_test),
                  no_copies("test vs training digits", multiclass_digits_of(test), multiclass_digits_of(train)),
                  no_copies("test vs training noise fields", noise_test, noise_train)):
        assert check.ok, check.detail


@pytest.mark.claim("E3")
def test_label_colour_table_rule_sees_a_table_one_image_off():
    """Power of label_colour_table: the exact 3 x 3 table at rho = 9/10, n = 240 holds; moving one image from
    a diagonal cell to an off-diagonal one, or the 1/K table judged at rho = 9/10, fails."""
    table = expected_table(240, Fraction(9, 10), 3)
    assert label_colour_table(table, Fraction(9, 10)).ok
    moved = table.copy()
    moved[0, 0] -= 1
    moved[0, 1] += 1
    for check in (label_colour_table(moved, Fraction(9, 10)),
                  label_colour_table(expected_table(240, Fraction(1, 3), 3), Fraction(9, 10))):
        assert not check.ok, check.detail
