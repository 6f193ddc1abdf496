"""Empirical NTK of ResNet-18: every strategy equals a float64 per-sample-gradient Gram (claims G1,
E2, E3 rest on it; docs/theory.md). The reference is the plain definition, one autograd backward per
sample and J J^T, independent of every strategy under test."""
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from numerics.blas import self_gram
from numerics.eigen import top_eigenpairs
from numerics.kernels import empirical_ntk
from numerics.models import resnet18
from numerics.pytest_plugin import examples
from numerics.structured_ntk import SMALL, GramProfile, chunked_gram, matrix_free_eigenpairs, structured_gram
from numerics.tolerances import EIGEN_VALUE_RTOL, NEGATIVE_CONTROL_FACTOR, RESNET_NTK_FLOAT32, RESNET_NTK_FLOAT64, davis_kahan_rounding
from numerics.validation import check_ntk_inputs
from theory.strategies import seeds


def per_sample_gradient_gram(model, X1, X2) -> torch.Tensor:
    """K = J1 J2^T with J's rows the flattened gradients of f(x_i), one backward per sample."""
    params = list(model.parameters())

    def jacobian(X):
        rows = []
        for i in range(X.shape[0]):
            grads = torch.autograd.grad(model(X[i:i + 1])[0], params, allow_unused=True)
            rows.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                                   for g, p in zip(grads, params)]))
        return torch.stack(rows)

    return jacobian(X1) @ jacobian(X2).T


def _relative(a, b) -> float:
    return float((a - b).abs().max() / b.abs().max())


def _inputs(seed, n, channels, size):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, channels, size, size, generator=gen, dtype=torch.float64)


VARIANTS = {
    "jacobian": lambda m, a, b: empirical_ntk(m, a, b, method="jacobian"),
    "ntvp": lambda m, a, b: empirical_ntk(m, a, b, method="ntvp"),
    "chunked": lambda m, a, b: empirical_ntk(m, a, b, method="chunked"),
    "chunked, chunk 2": lambda m, a, b: chunked_gram(m, a, b, chunk=2),
    "structured": lambda m, a, b: empirical_ntk(m, a, b, method="structured"),
    "structured, explicit form, chunk 2": lambda m, a, b: structured_gram(m, a, b, form="explicit", chunk=2),
    "structured, structured form, chunk 3": lambda m, a, b: structured_gram(m, a, b, form="structured", chunk=3,
                                                                         batch_size=2),
}


@settings(max_examples=examples(4))
@given(seed=seeds(), n=st.integers(1, 5), width=st.sampled_from([2, 4]), channels=st.sampled_from([1, 3]),
       size=st.sampled_from([16, 20]), cross=st.booleans())
def test_every_strategy_equals_per_sample_gradients(seed, n, width, channels, size, cross):
    """Float64: every entry is a sum of ~1e4 products, relative rounding <= 1e-13; RESNET_NTK_FLOAT64."""
    model = resnet18(1, width, channels, seed=seed % 2**31, dtype=torch.float64)
    X1 = _inputs(seed, n, channels, size)
    X2 = _inputs(seed + 1, n + 1, channels, size) if cross else X1
    reference = per_sample_gradient_gram(model, X1, X2)
    for name, gram in VARIANTS.items():
        K = gram(model, X1, X2 if cross else None)
        assert K.dtype == torch.float64 and K.shape == reference.shape, name
        assert _relative(K, reference) <= RESNET_NTK_FLOAT64, name


def test_negative_control_a_dropped_layer_is_detected():
    """The comparison can fail: the Gram without layer4's weights differs from the full one by far more
    than the tolerance (layer4 holds most parameters)."""
    model = resnet18(1, 4, seed=0, dtype=torch.float64)
    X = _inputs(0, 4, 3, 16)
    full = structured_gram(model, X)
    for p in model.layer4.parameters():
        p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    J = torch.stack([torch.cat([g.reshape(-1) for g in torch.autograd.grad(model(X[i:i + 1])[0], params)])
                     for i in range(4)])
    assert _relative(J @ J.T, full) > NEGATIVE_CONTROL_FACTOR * RESNET_NTK_FLOAT64


def test_float32_structured_gram_matches_float64():
    """Float32 contractions, float64 accumulation: relative Frobenius error ~ sqrt(depth) eps32 ~ 1e-6;
    RESNET_NTK_FLOAT32 = 1e-5."""
    model64 = resnet18(1, 8, seed=1, dtype=torch.float64)
    model32 = resnet18(1, 8, seed=1, dtype=torch.float32)
    X = _inputs(1, 6, 3, 16)
    K64, K32 = structured_gram(model64, X), structured_gram(model32, X.float())
    assert K32.dtype == torch.float64
    assert torch.linalg.norm(K32 - K64) / torch.linalg.norm(K64) <= RESNET_NTK_FLOAT32


@settings(max_examples=examples(3))
@given(seed=seeds(), method=st.sampled_from(["block", "eigsh"]))
def test_matrix_free_top_eigenpairs_equal_the_dense_gram(seed, method):
    """Matrix-free (vjp/jvp operator, K never formed) against eigh of the structured Gram: eigenvalues
    to EIGEN_VALUE_RTOL relative, subspace by Davis-Kahan with the measured gap (docs/theory.md)."""
    model = resnet18(1, 4, seed=seed % 2**31, dtype=torch.float64)
    X = _inputs(seed, 12, 3, 16)
    K = structured_gram(model, X).numpy()
    dense = top_eigenpairs(K, 4, method="full")
    free = matrix_free_eigenpairs(model, X, 3, method=method, seed=seed % 2**31)
    assert np.max(np.abs(free.values - dense.values[:3])) <= EIGEN_VALUE_RTOL * dense.values[0]
    gap = dense.values[2] - dense.values[3]
    U, V = dense.vectors[:, :3], free.vectors
    sin = np.linalg.norm(V - U @ (U.T @ V), 2)
    residual_bound = np.max(free.residuals) / gap   # Davis-Kahan for the returned (approximate) pairs
    assert sin <= residual_bound * np.sqrt(3) + davis_kahan_rounding(dense.values[0], gap, 12)


class _Grouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, groups=2, dtype=torch.float64)

    def forward(self, x):
        return self.conv(x).sum((1, 2, 3))


class _Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3, dtype=torch.float64)

    def forward(self, x):
        return self.lin(self.lin(x)).sum(1)


@pytest.mark.parametrize("model, match", [(_Grouped(), "groups=1"), (_Shared(), "called twice")])
def test_structured_route_refuses_what_it_cannot_do(model, match):
    X = torch.ones((2, 2, 4, 4) if isinstance(model, _Grouped) else (2, 3), dtype=torch.float64)
    with pytest.raises(ValueError, match=match):
        structured_gram(model, X)
    # ... and the chunked route still computes it (against the definition)
    assert _relative(chunked_gram(model, X), per_sample_gradient_gram(model, X, X)) <= RESNET_NTK_FLOAT64


@pytest.mark.parametrize("call, error, match", [
    (lambda m, X: structured_gram(m, X, batch_size=0), ValueError, "batch_size must be a positive integer"),
    (lambda m, X: structured_gram(m, X, form="magic"), ValueError, "form must be one of"),
    (lambda m, X: structured_gram(m, X, memory=10), ValueError, "memory must be"),
    (lambda m, X: chunked_gram(m, X, chunk=0), ValueError, "chunk must be a positive integer"),
    (lambda m, X: matrix_free_eigenpairs(m.train(), X, 2), ValueError, "eval mode"),
    (lambda m, X: structured_gram(m, X, outputs="sum"), ValueError, "outputs must be one of"),
    (lambda m, X: chunked_gram(m, X, outputs="sum"), ValueError, "outputs must be one of"),
])
def test_ntk_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(resnet18(1, 2, seed=0, dtype=torch.float64), torch.zeros(4, 3, 16, 16, dtype=torch.float64))


class _OddConvs(nn.Module):
    """Strided, dilated, asymmetric convs: the second one (stride 3, pad 1, on 3x3) reads its first kernel
    row and column only from zero padding, the offsets the structured route drops."""

    def __init__(self, seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.a = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(2, 0), dilation=(2, 1), dtype=torch.float64)
        self.b = nn.Conv2d(3, 4, 3, stride=3, padding=1, bias=False, dtype=torch.float64)
        self.fc = nn.Linear(4, 1, dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))

    def forward(self, x):
        return self.fc(self.b(torch.tanh(self.a(x))).flatten(1))[:, 0]


@pytest.mark.parametrize("form, chunk", [("explicit", None), ("structured", None), ("auto", 2), ("structured", 2)])
def test_strided_dilated_padded_convs_equal_per_sample_gradients(form, chunk):
    """Patches from the stored padded channels-last inputs (stride, dilation, asymmetric kernel, dropped
    always-zero offsets) give the definition's K, symmetric and cross, to float64 rounding."""
    model = _OddConvs(seed=3)
    X1, X2 = _inputs(3, 5, 2, 5)[..., :4], _inputs(4, 3, 2, 5)[..., :4]
    for X2_arg, reference in ((None, per_sample_gradient_gram(model, X1, X1)),
                              (X2, per_sample_gradient_gram(model, X1, X2))):
        K = structured_gram(model, X1, X2_arg, form=form, chunk=chunk)
        assert _relative(K, reference) <= RESNET_NTK_FLOAT64, (form, chunk, X2_arg is None)


class _ViewHead(nn.Module):
    """A conv whose output is flattened by .view, which a channels-last tensor refuses."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(11)
        self.conv = nn.Conv2d(2, 3, 3, padding=1, dtype=torch.float64)
        self.fc = nn.Linear(3 * 16, 1, dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))

    def forward(self, x):
        y = torch.tanh(self.conv(x))
        return self.fc(y.view(y.shape[0], -1))[:, 0]


def test_a_forward_that_refuses_channels_last_is_captured_in_its_own_format():
    """The capture runs channels-last; a model whose forward cannot (a .view of a conv output: the
    precondition is checked, channels-last raises) is captured in its own memory format, and K still
    equals the definition, symmetric and cross."""
    from numerics.structured_ntk import _channels_last_weights, _forward

    model, X1, X2 = _ViewHead(), _inputs(12, 4, 2, 4), _inputs(13, 3, 2, 4)
    with pytest.raises(RuntimeError, match="view"):
        _forward(model, X1, _channels_last_weights(model))
    for X2_arg, reference in ((None, per_sample_gradient_gram(model, X1, X1)),
                              (X2, per_sample_gradient_gram(model, X1, X2))):
        assert _relative(structured_gram(model, X1, X2_arg), reference) <= RESNET_NTK_FLOAT64


class _OneConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)

    def forward(self, x):
        return self.conv(x).sum((1, 2, 3))


@pytest.mark.parametrize("form", ["explicit", "structured"])
def test_profile_counts_the_products_torch_executes(form, monkeypatch):
    """GramProfile's MACs equal the executed products: torch.utils.flop_counter's count (FLOPs / 2) plus
    the r (r + 1) / 2 x k multiply-adds of each self-Gram (syrk through numpy, which the flop counter does
    not see) of an r x k argument, as a spy wrapped around numerics.blas.self_gram records them. The
    capture row is the forward's, and for a single conv with a bias under a plain sum (no backward
    products; the bias gradients are sums, their Gram one self-Gram) the whole profile is every product of
    the call but the input checks' probe forwards. The ResNet's capture row also equals the flop counter's
    forward; the profile leaves K unchanged and names every weight."""
    from torch.utils.flop_counter import FlopCounterMode

    from numerics import structured_ntk

    syrk = []

    def spy(a):
        syrk.append(a.shape[0] * (a.shape[0] + 1) // 2 * a.shape[1])
        return self_gram(a)

    monkeypatch.setattr(structured_ntk, "self_gram", spy)
    model, X = _OneConv(), _inputs(5, 7, 2, 6)
    profile = GramProfile()
    with FlopCounterMode(display=False) as counter:
        structured_gram(model, X, form=form, chunk=2, profile=profile)
    with FlopCounterMode(display=False) as probe:
        check_ntk_inputs(model, X, None)
    assert 2 * profile.macs == counter.get_total_flops() - probe.get_total_flops() + 2 * sum(syrk)
    # the bias Gram, and the diagonal squares of samples 0-1, 2-3, 4-5 and 6 (structured: U's and G's)
    assert len(syrk) == 1 + (4 if form == "explicit" else 8)

    resnet, X = resnet18(1, 4, seed=0, dtype=torch.float64), _inputs(0, 3, 3, 16)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        resnet(X)
    profile = GramProfile()
    assert torch.equal(structured_gram(resnet, X, profile=profile), structured_gram(resnet, X))
    assert 2 * profile.layers[0].macs == counter.get_total_flops()
    names = [name for name, m in resnet.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert [row.name for row in profile.merged()] == ["capture", SMALL] + names
    assert all(name in profile.table() for name in names)


def test_profile_merges_the_outputs_of_a_multi_output_model():
    """k outputs: one capture and one contraction per output and layer; ``merged`` sums them by name."""
    model = nn.Sequential(nn.Conv2d(2, 3, 3, dtype=torch.float64), nn.Flatten(), nn.Linear(12, 3, dtype=torch.float64))
    profile = GramProfile()
    structured_gram(model, _inputs(1, 4, 2, 4), profile=profile)
    merged = profile.merged()
    assert [row.name for row in merged] == ["capture", SMALL, "0", "2"]
    assert len(profile.layers) == 3 * len(merged)
    assert sum(row.macs for row in merged) == profile.macs


def test_profile_rows_are_timed_on_the_profiles_clock_and_default_to_the_devices():
    """A scripted clock that advances by exactly 1 at every reading gives every row 1 s: each row is one
    pair of readings of the profile's clock (process_time in its place would give CPU fractions of a
    second).  Without a clock, a CPU Gram's profile takes the CPU's (numerics.clock.device_clock)."""
    model = nn.Sequential(nn.Conv2d(2, 3, 3, dtype=torch.float64), nn.Flatten(), nn.Linear(12, 1, dtype=torch.float64))
    ticks = iter(range(10**6))
    profile = GramProfile(clock=lambda: float(next(ticks)))
    structured_gram(model, _inputs(1, 4, 2, 4), profile=profile)
    assert [row.seconds for row in profile.layers] == [1.0] * 4 and profile.seconds == 4.0
    default = GramProfile()
    structured_gram(model, _inputs(1, 4, 2, 4), profile=default)
    assert default.clock is time.process_time


class _WideConv(nn.Module):
    """One wide conv (64 x 144 weights; 74 kB of float64 gradient per sample) and a linear head."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(7)
        self.conv = nn.Conv2d(16, 64, 3, padding=1, bias=False, dtype=torch.float64)
        self.fc = nn.Linear(64 * 36, 1, dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) / p[0].numel() ** 0.5)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))[:, 0]


@pytest.mark.parametrize("form", ["explicit", "structured"])
def test_memory_bound_blocks_equal_per_sample_gradients(form):
    """With the least ``memory`` (1 MiB) the 20 samples' features do not all fit: row and column blocks
    are formed per product (diagonal blocks, off-diagonal ones, cross blocks), and K still equals the
    definition to float64 rounding."""
    model = _WideConv()
    X1, X2 = _inputs(8, 20, 16, 6), _inputs(9, 9, 16, 6)
    for X2_arg, reference in ((None, per_sample_gradient_gram(model, X1, X1)),
                              (X2, per_sample_gradient_gram(model, X1, X2))):
        K = structured_gram(model, X1, X2_arg, form=form, memory=2**20)
        assert _relative(K, reference) <= RESNET_NTK_FLOAT64, (form, X2_arg is None)


def test_a_memory_bound_beyond_the_machine_still_gives_the_gram():
    """``memory`` far beyond what the system can map (2**60 bytes): the feature buffers, reserved at that
    capacity on the CPU, fall back to the size asked, and K equals the definition."""
    model, X = _WideConv(), _inputs(8, 6, 16, 6)
    K = structured_gram(model, X, form="explicit", memory=2**60)
    assert _relative(K, per_sample_gradient_gram(model, X, X)) <= RESNET_NTK_FLOAT64
