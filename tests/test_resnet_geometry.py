"""ResNet-18 forward geometry (numerics.resnet): the parameter-free parts of torchvision's layout that a
state_dict comparison cannot see -- strides, paddings, the max-pool and where each block downsamples.

Expected values come from torchvision's architecture description (He et al. 2016; torchvision/models/
resnet.py), written out here as conv arithmetic, never from running numerics.resnet:
    conv1 7x7 stride 2 pad 3 -> bn -> relu -> maxpool 3x3 stride 2 pad 1
    layer1: 2 BasicBlocks, stride 1; layer2-4: 2 BasicBlocks, the FIRST block's first 3x3 conv has
        stride 2 (pad 1) and its shortcut is a 1x1 conv stride 2 (pad 0); every other 3x3 conv has
        stride 1 pad 1.
Output size of a (kernel k, stride s, pad p) layer on L inputs: floor((L + 2p - k) / s) + 1.
Infrastructure of claims E2/E3 (the ResNet-18 experiments), so tagged E2.
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.checks import same_geometry
from numerics.models import resnet18
from numerics.pytest_plugin import examples

pytestmark = pytest.mark.claim("E2")

STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
CONV1, MAXPOOL = (7, 2, 3), (3, 2, 1)                          # (kernel, stride, pad)
CONV3_STRIDE1, CONV3_STRIDE2, SHORTCUT_STRIDE2 = (3, 1, 1), (3, 2, 1), (1, 2, 0)
WIDTH = 2                                                      # stage widths 2, 4, 8, 16: fast


def out_size(length: int, layer) -> int:
    k, s, p = layer
    return math.floor((length + 2 * p - k) / s) + 1


def expected_sizes(height: int, width: int) -> dict:
    """(H, W) after each stage, from the conv arithmetic (module docstring)."""
    sizes, hw = {}, (height, width)
    hw = tuple(out_size(x, CONV1) for x in hw)
    sizes["conv1"] = hw
    hw = tuple(out_size(x, MAXPOOL) for x in hw)
    sizes["maxpool"] = hw
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        first = CONV3_STRIDE1 if stage == "layer1" else CONV3_STRIDE2
        hw = tuple(out_size(out_size(x, first), CONV3_STRIDE1) for x in hw)          # block 0
        hw = tuple(out_size(out_size(x, CONV3_STRIDE1), CONV3_STRIDE1) for x in hw)  # block 1
        sizes[stage] = hw
    return sizes


def expected_channels(width: int) -> dict:
    return {"conv1": width, "maxpool": width, "layer1": width, "layer2": 2 * width, "layer3": 4 * width,
            "layer4": 8 * width}


def measured_shapes(model, images) -> dict:
    """(C, H, W) of every stage's output, from forward hooks."""
    shapes, handles = {}, []
    for name in STAGES:
        handles.append(getattr(model, name).register_forward_hook(
            lambda module, args, output, name=name: shapes.__setitem__(name, tuple(output.shape[1:]))))
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in handles:
            h.remove()
    return shapes


# ---- feature-map sizes ---------------------------------------------------------------------------
def test_224_gives_torchvisions_feature_map_sizes():
    """The standard ImageNet input: 112 after conv1, 56 after the max-pool and layer1, then 28, 14, 7
    (torchvision's documented ResNet-18 geometry; also what the arithmetic gives)."""
    model = resnet18(1, WIDTH, seed=0)
    shapes = measured_shapes(model, torch.zeros(1, 3, 224, 224))
    torchvision = {"conv1": 112, "maxpool": 56, "layer1": 56, "layer2": 28, "layer3": 14, "layer4": 7}
    expected = {s: (expected_channels(WIDTH)[s], torchvision[s], torchvision[s]) for s in STAGES}
    assert expected_sizes(224, 224) == {s: (v, v) for s, v in torchvision.items()}   # the arithmetic itself
    check = same_geometry("(C, H, W) after each stage at 224 x 224", shapes, expected)
    assert check.ok, check.detail


@settings(max_examples=examples(10))
@given(height=st.integers(17, 80), width=st.integers(17, 80))
def test_feature_map_sizes_follow_the_conv_arithmetic_at_any_input_size(height, width):
    """Odd, even and non-square inputs (odd sizes expose a wrong pad: floor((L + 2p - k)/s) + 1 then
    differs for p and p - 1)."""
    model = resnet18(1, WIDTH, seed=0)
    shapes = measured_shapes(model, torch.zeros(1, 3, height, width))
    expected = {s: (expected_channels(WIDTH)[s], *expected_sizes(height, width)[s]) for s in STAGES}
    check = same_geometry(f"(C, H, W) after each stage at {height} x {width}", shapes, expected)
    assert check.ok, check.detail


# ---- receptive fields ----------------------------------------------------------------------------
def influenced(interval, layer, length: int):
    """Output positions of a (k, s, p) layer on ``length`` inputs whose window meets the input positions
    [lo, hi]: output o reads inputs o s - p .. o s - p + k - 1, so lo + p - k + 1 <= o s <= hi + p."""
    if interval is None:
        return None
    lo, hi = interval
    k, s, p = layer
    first, last = max(0, -(-(lo + p - k + 1) // s)), min(out_size(length, layer) - 1, (hi + p) // s)
    return (first, last) if first <= last else None


def union(a, b):
    """Two intervals that overlap (a residual block's main path and shortcut): their union."""
    if a is None or b is None:
        return a or b
    assert a[0] <= b[1] + 1 and b[0] <= a[1] + 1, (a, b)
    return (min(a[0], b[0]), max(a[1], b[1]))


def expected_influence(pixel: int, length: int) -> dict:
    """Along one axis: the positions of each stage's output that depend on input position ``pixel``."""
    out = {}
    span = influenced((pixel, pixel), CONV1, length)
    length = out_size(length, CONV1)
    out["conv1"] = span
    span, length = influenced(span, MAXPOOL, length), out_size(length, MAXPOOL)
    out["maxpool"] = span
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        for block in (0, 1):
            downsample = stage != "layer1" and block == 0
            first = CONV3_STRIDE2 if downsample else CONV3_STRIDE1
            main = influenced(influenced(span, first, length), CONV3_STRIDE1, out_size(length, first))
            shortcut = influenced(span, SHORTCUT_STRIDE2, length) if downsample else span
            span, length = union(main, shortcut), out_size(length, first)
        out[stage] = span
    return out


def _monotone_network():
    """The ResNet with every conv weight set to 1 / fan_in (float64): all weights positive, so for a
    positive input every pre-activation is positive, each ReLU is the identity, the eval-mode BN a
    positive scaling, and a large positive bump at one pixel strictly raises EVERY output whose window
    reads it (through max-pools too) and leaves every other output exactly as it was. What changes is
    then the geometry alone, not the weights."""
    model = resnet18(1, WIDTH, seed=0, dtype=torch.float64)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.fill_(1.0 / (module.in_channels * math.prod(module.kernel_size)))
    return model


@settings(max_examples=examples(8))
@given(height=st.integers(60, 130), width=st.integers(60, 130), data=st.data())
def test_one_pixel_changes_exactly_its_receptive_field_at_every_stage(height, width, data):
    """Perturb input pixel (i, j): the changed outputs of each stage are exactly the rectangle of positions
    whose receptive field holds (i, j), from the interval arithmetic of ``expected_influence`` (a stride
    moved to the block's second conv, or a max-pool with kernel 2, keeps every feature-map size but moves
    these rectangles)."""
    i = data.draw(st.sampled_from([0, 1, height // 2, height - 2, height - 1]), label="i")
    j = data.draw(st.sampled_from([0, 1, width // 3, width - 2, width - 1]), label="j")
    model = _monotone_network()
    base = torch.ones(1, 3, height, width, dtype=torch.float64)
    bumped = base.clone()
    bumped[0, :, i, j] += 1e6
    outputs = {}
    for name, images in (("base", base), ("bumped", bumped)):
        captured, handles = {}, []
        for stage in STAGES:
            handles.append(getattr(model, stage).register_forward_hook(
                lambda module, args, output, stage=stage, captured=captured: captured.__setitem__(stage, output[0])))
        with torch.no_grad():
            model(images)
        for h in handles:
            h.remove()
        outputs[name] = captured
    rows, cols = expected_influence(i, height), expected_influence(j, width)
    measured, expected = {}, {}
    for stage in STAGES:
        changed = (outputs["bumped"][stage] != outputs["base"][stage]).any(dim=0)
        where = changed.nonzero()
        measured[stage] = (changed.sum().item(), *(
            (int(where[:, a].min()), int(where[:, a].max())) if len(where) else None for a in (0, 1)))
        (r0, r1), (c0, c1) = rows[stage], cols[stage]
        expected[stage] = ((r1 - r0 + 1) * (c1 - c0 + 1), (r0, r1), (c0, c1))
    check = same_geometry(f"changed (count, rows, cols) per stage for pixel ({i}, {j}) of {height} x {width}",
                          measured, expected)
    assert check.ok, check.detail
