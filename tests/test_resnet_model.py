"""ResNet-18 (numerics.resnet): torchvision's layout, deterministic init, eval-mode semantics,
and the colored-digits data set (numerics.colored_digits). Infrastructure of claims G1/E2/E3
(docs/theory.md), tested on its own: no claim marker."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.colored_digits import cluster_counts, colored_digits, pool_sizes
from numerics.kernels import empirical_ntk
from numerics.models import resnet18
from numerics.pytest_plugin import examples
from numerics.tolerances import CLOSED_FORM_ROUNDING, IMAGE_ROUNDING, NEGATIVE_CONTROL_FACTOR, UNIFORM_MAX_GAP
from theory.strategies import seeds

#: torchvision.models.resnet18's documented parameter count (ResNet18_Weights.IMAGENET1K_V1.meta["num_params"]).
TORCHVISION_PARAMETERS = 11_689_512


def torchvision_layout(num_classes=1000, width=64, in_channels=3) -> list[tuple[str, tuple]]:
    """state_dict (key, shape) of torchvision's resnet18, written from its architecture description
    (He et al. 2016, torchvision/models/resnet.py), independently of numerics.resnet."""
    spec = [("conv1.weight", (width, in_channels, 7, 7))]

    def bn(prefix, c):
        spec.extend([(f"{prefix}.weight", (c,)), (f"{prefix}.bias", (c,)), (f"{prefix}.running_mean", (c,)),
                     (f"{prefix}.running_var", (c,)), (f"{prefix}.num_batches_tracked", ())])

    bn("bn1", width)
    cin = width
    for stage, cout in enumerate((width, 2 * width, 4 * width, 8 * width), start=1):
        for block in (0, 1):
            p = f"layer{stage}.{block}"
            first_in = cin if block == 0 else cout
            spec.append((f"{p}.conv1.weight", (cout, first_in, 3, 3)))
            bn(f"{p}.bn1", cout)
            spec.append((f"{p}.conv2.weight", (cout, cout, 3, 3)))
            bn(f"{p}.bn2", cout)
            if block == 0 and stage > 1:
                spec.append((f"{p}.downsample.0.weight", (cout, cin, 1, 1)))
                bn(f"{p}.downsample.1", cout)
        cin = cout
    spec += [("fc.weight", (num_classes, 8 * width)), ("fc.bias", (num_classes,))]
    return spec


def _layout(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def test_width_64_is_torchvisions_resnet18_exactly():
    model = resnet18(1000, 64)
    assert _layout(model) == torchvision_layout()
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_PARAMETERS
    # the spec itself is not tautological: its parameter entries add up to the published count
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    spec_params = sum(math.prod(s) for k, s in torchvision_layout() if k.split(".")[-1] not in buffers)
    assert spec_params == TORCHVISION_PARAMETERS


@settings(max_examples=examples(5))
@given(width=st.integers(1, 12), num_classes=st.integers(1, 5), in_channels=st.integers(1, 4))
def test_width_scales_every_stage(width, num_classes, in_channels):
    model = resnet18(num_classes, width, in_channels, seed=0)
    assert _layout(model) == torchvision_layout(num_classes, width, in_channels)
    out = model(torch.zeros(3, in_channels, 16, 16))
    assert out.shape == ((3,) if num_classes == 1 else (3, num_classes))


def test_init_follows_torchvisions_rules():
    """Kaiming normal (fan_out, ReLU): var = 2 / (C_out k^2). The sample variance of m i.i.d. normals
    has relative standard deviation sqrt(2/m); 6 of them (layer4's 2.4M weights: 0.55%) bounds it."""
    model = resnet18(1000, 64, seed=3)
    w = model.layer4[1].conv2.weight.double()
    expected = 2 / (512 * 9)
    assert abs(w.var().item() / expected - 1) < 6 * math.sqrt(2 / w.numel())
    assert abs(w.mean().item()) < 6 * math.sqrt(expected / w.numel())
    bound = 1 / math.sqrt(512)
    # 512 x 1000 uniform draws on [-bound, bound]: the largest is within bound / 1e5 of it except with
    # probability (1 - 1e-5)^512000 ~ e^-5; the test pins one seed
    assert model.fc.weight.abs().max() <= bound and model.fc.weight.abs().max() > (1 - UNIFORM_MAX_GAP) * bound
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)
    assert torch.all(model.bn1.running_var == 1) and torch.all(model.bn1.running_mean == 0)


@given(seed=st.integers(0, 2**31 - 1))
@settings(max_examples=examples(5))
def test_init_is_deterministic_and_leaves_global_rng_alone(seed):
    state = torch.get_rng_state()
    a, b = resnet18(1, 4, seed=seed), resnet18(1, 4, seed=seed)
    assert torch.equal(state, torch.get_rng_state())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    c = resnet18(1, 4, seed=seed + 1)  # negative control: another seed, another network
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


@settings(max_examples=examples(5))
@given(seed=seeds(), n=st.integers(2, 6))
def test_eval_mode_output_depends_on_own_input_only(seed, n):
    """Same input twice gives the same output, and a sample's output does not depend on the rest of
    its batch (float64: only the summation order of the convolutions can differ, ~1e-15 relative)."""
    model = resnet18(1, 4, seed=seed % 2**31, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    X, other = torch.randn(n, 3, 16, 16, generator=gen, dtype=torch.float64), torch.randn(
        n, 3, 16, 16, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        alone = torch.stack([model(X[i:i + 1])[0] for i in range(n)])
        assert torch.equal(model(X), model(X))
        mixed = model(torch.cat([other, X]))[n:]
        assert torch.allclose(model(X), alone, rtol=CLOSED_FORM_ROUNDING, atol=0)
        assert torch.allclose(mixed, alone, rtol=CLOSED_FORM_ROUNDING, atol=0)
        # negative control: in train mode BatchNorm mixes the batch, and the check above fails by far
        model.train()
        assert not torch.allclose(model(torch.cat([other, X]))[n:], model(X),
                                  rtol=NEGATIVE_CONTROL_FACTOR * CLOSED_FORM_ROUNDING, atol=0)


@pytest.mark.parametrize("method", ["jacobian", "ntvp", "chunked", "structured"])
def test_empirical_ntk_refuses_train_mode(method):
    model = resnet18(1, 2, seed=0, dtype=torch.float64).train()
    with pytest.raises(ValueError, match="eval mode"):
        empirical_ntk(model, torch.zeros(2, 3, 16, 16, dtype=torch.float64), method=method)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(width=0), ValueError, "width must be a positive integer"),
    (dict(num_classes=0), ValueError, "num_classes must be a positive integer"),
    (dict(in_channels=2.5), ValueError, "in_channels must be a positive integer"),
    (dict(seed="x"), TypeError, "seed must be an int >= 0 or a"),
    (dict(dtype=torch.int32), TypeError, "dtype must be a floating"),
])
def test_resnet18_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        resnet18(**kwargs)


# ---- colored digits ---------------------------------------------------------------------------
@settings(max_examples=examples(10))
@given(seed=seeds(), n=st.integers(1, 200), rho=st.fractions(0, 1, max_denominator=40))
def test_colored_digits_exact_counts_and_determinism(seed, n, rho):
    data = colored_digits(n, rho, seed=seed)
    again = colored_digits(n, rho, seed=seed)
    for a, b in zip(data, again):
        assert torch.equal(a, b)
    assert data.images.shape == (n, 3, 16, 16)
    aligned = int((data.y == data.b).sum())
    # round(rho n) with halves up, from the exact rational rho n
    assert aligned == math.floor(Fraction(rho) * n + Fraction(1, 2))
    assert abs(int((data.y > 0).sum()) - int((data.y < 0).sum())) <= 1
    assert np.bincount(data.cluster, minlength=4).tolist() == list(cluster_counts(n, rho))


def test_colored_digits_train_and_test_never_share_an_image():
    """At zero noise and jitter R + G = g - gbar does not depend on the colour, so equal digits give
    equal R + G; distinct digits differ by O(1), far above rounding (IMAGE_ROUNDING)."""
    sizes = {s: 2 * min(pool_sizes(s).values()) for s in ("train", "test")}
    sets = {s: colored_digits(sizes[s], Fraction(1, 2), seed=0, size=8, noise=0.0, jitter=0.0, split=s,
                              dtype=torch.float64) for s in sizes}
    shapes = {s: (d.images[:, 0] + d.images[:, 1]).flatten(1) for s, d in sets.items()}
    exact = "donot_use_mm_for_euclid_dist"
    assert torch.cdist(shapes["test"], shapes["train"], compute_mode=exact).min() > IMAGE_ROUNDING
    # positive control: the same split against itself does find every image
    assert torch.cdist(shapes["test"], shapes["test"], compute_mode=exact).diagonal().max() <= IMAGE_ROUNDING


@settings(max_examples=examples(5))
@given(seed=seeds(), contrast=st.floats(0.05, 1.0))
def test_colour_is_the_bias_attribute(seed, contrast):
    """At zero noise and jitter, red minus green = contrast * b * g with g >= 0: its sign over the image
    is b, its size is linear in the contrast; at contrast 0 (negative control) it vanishes."""
    kw = dict(seed=seed, noise=0.0, jitter=0.0, dtype=torch.float64)
    data = colored_digits(40, 0.7, contrast=contrast, **kw)
    full = colored_digits(40, 0.7, contrast=1.0, **kw)
    diff = (data.images[:, 0] - data.images[:, 1]).sum((1, 2))
    assert torch.equal(torch.sign(diff), data.b)
    assert torch.allclose(diff, contrast * (full.images[:, 0] - full.images[:, 1]).sum((1, 2)), rtol=CLOSED_FORM_ROUNDING)
    none = colored_digits(40, 0.7, contrast=0.0, **kw)
    assert (none.images[:, 0] - none.images[:, 1]).abs().max() < CLOSED_FORM_ROUNDING


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(rho=1.5), ValueError, r"rho must lie in \[0, 1\]"),
    (dict(rho=-0.1), ValueError, r"rho must lie in \[0, 1\]"),
    (dict(rho=float("nan")), ValueError, r"rho must lie in \[0, 1\]"),
    (dict(rho="a"), TypeError, "rho must be a real number"),
    (dict(n=0), ValueError, "n must be a positive integer"),
    (dict(n=1000), ValueError, "use n <= 894"),
    (dict(size=7), ValueError, "size must be an integer >= 8"),
    (dict(noise=-1.0), ValueError, "noise must be a finite number >= 0"),
    (dict(jitter=float("inf")), ValueError, "jitter must be a finite number >= 0"),
    (dict(contrast=1.5), ValueError, r"contrast must be a finite number in \[0, 1\]"),
    (dict(split="val"), ValueError, "split must be one of"),
    (dict(classes=((0, 1), (1, 2))), ValueError, "classes must be two non-empty disjoint groups"),
    (dict(seed=None), TypeError, "seed must be an int >= 0 or a"),
])
def test_colored_digits_bad_input(kwargs, error, match):
    args = dict(n=10, rho=0.5, seed=0) | kwargs
    with pytest.raises(error, match=match):
        colored_digits(args.pop("n"), args.pop("rho"), **args)
