"""Networks with a scalar output, float64 by default (docs/theory.md#L1, R1).

Parameterizations follow docs/theory.md: the one-layer model f(x) = w.x has NTK x.x' exactly;
deep linear networks use the NTK parameterization (every layer divides by sqrt(fan_in),
standard normal weights, no biases), whose NTK tends to (L/d) x.x' as width grows.
Every constructor that draws weights takes an explicit ``seed``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from numerics.seeds import torch_generator


def _positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class OneLayerLinear(nn.Module):
    """f(x) = w.x. ``weight`` defaults to zeros (f_0 = 0) or is drawn N(0, 1) from ``seed``."""

    def __init__(self, d: int, *, seed: int | None = None, dtype=torch.float64):
        super().__init__()
        _positive_int(d, "d")
        w = torch.zeros(d, dtype=dtype) if seed is None else torch.randn(d, generator=torch_generator(seed), dtype=dtype)
        self.weight = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight


class DeepLinear(nn.Module):
    """f(x) = W_L ... W_1 x / sqrt(d width^(L-1)): L >= 1 weight matrices, NTK parameterization.

    Hidden layers have ``width`` units; W_L is 1 x width. Its NTK converges to (L/d) x.x'
    (claim L1) with an O(1/sqrt(width)) finite-width deviation.
    """

    def __init__(self, d: int, width: int, depth: int, *, seed: int, dtype=torch.float64):
        super().__init__()
        for name, value in (("d", d), ("width", width), ("depth", depth)):
            _positive_int(value, name)
        gen = torch_generator(seed)
        fan_ins = [d] + [width] * (depth - 1)
        fan_outs = [width] * (depth - 1) + [1]
        self.layers = nn.ParameterList(
            nn.Parameter(torch.randn(o, i, generator=gen, dtype=dtype)) for i, o in zip(fan_ins, fan_outs))
        self.scales = [1 / math.sqrt(i) for i in fan_ins]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for weight, scale in zip(self.layers, self.scales):
            h = scale * h @ weight.T
        return h[..., 0]


class TwoLayerReLU(nn.Module):
    """f(x) = W2 relu(W1 x / sqrt(d)) / sqrt(width): no biases, standard normal weights (claim R1).

    This is neural-tangents' NTK parameterization with W_std = 1, b_std = 0; its NTK tends to
    numerics.kernels.relu_ntk as width grows, with an O(1/sqrt(width)) deviation.
    ``hidden`` is W1 (width x d), ``readout`` is W2 (width,).
    ``antisymmetric=True`` (even width) draws the first half of the units and mirrors it: hidden
    rows repeated, readout negated, so f_0 = 0 (to rounding) while the NTK at initialization equals that
    of the half-width network (the "doubling trick"; used to compare training from f_0 = 0 with
    kernel regression, claims E3/E4).
    """

    def __init__(self, d: int, width: int, *, seed: int, dtype=torch.float64, antisymmetric: bool = False):
        super().__init__()
        for name, value in (("d", d), ("width", width)):
            _positive_int(value, name)
        if antisymmetric and width % 2:
            raise ValueError(f"width must be even when antisymmetric=True, got {width}")
        gen = torch_generator(seed)
        drawn = width // 2 if antisymmetric else width
        hidden = torch.randn(drawn, d, generator=gen, dtype=dtype)
        readout = torch.randn(drawn, generator=gen, dtype=dtype)
        if antisymmetric:
            hidden, readout = torch.cat([hidden, hidden]), torch.cat([readout, -readout])
        self.hidden = nn.Parameter(hidden)
        self.readout = nn.Parameter(readout)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """h = W1 x / sqrt(d), shape (n, width)."""
        return x @ self.hidden.T / math.sqrt(self.hidden.shape[1])

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, D), each (n, width): A = relu(h) / sqrt(width), the readout's gradient, and
        D = W2 relu'(h) / sqrt(width), the first-layer signal: df/dW1 = D^T x / sqrt(d) per sample."""
        h = self.preactivation(x)
        scale = 1 / math.sqrt(self.hidden.shape[0])
        return torch.relu(h) * scale, (h > 0).to(h.dtype) * self.readout * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.preactivation(x)) @ self.readout / math.sqrt(self.hidden.shape[0])



def relu_architecture(depth, W_std, b_std) -> tuple[int, float, float]:
    """Validated (depth, W_std, b_std) of a deep ReLU network or kernel (claims R1, P1): depth a positive
    int, W_std a finite number > 0, b_std a finite number >= 0; ValueError naming the argument otherwise."""
    _positive_int(depth, "depth")
    for name, value, lowest in (("W_std", W_std, "> 0"), ("b_std", b_std, ">= 0")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < 0 or (value == 0 and lowest == "> 0"):
            raise ValueError(f"{name} must be a finite number {lowest}, got {value!r}")
    return depth, float(W_std), float(b_std)


class ReLUMLP(nn.Module):
    """neural-tangents' stax.serial([Dense(width, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std)) in
    NTK parameterization, at finite width (claims R1, P1): with a_0 = x and fan_in n_l (d, then width),
        h_l = W_std W_l a_l / sqrt(n_l) + b_std b_l,   a_{l+1} = relu(h_l),   f(x) = h_depth,
    all weights and biases standard normal, drawn from ``seed`` layer by layer (weight, then bias). Its NTK
    tends to numerics.kernels.relu_ntk(depth=depth, W_std=W_std, b_std=b_std) as width grows, with an
    O(1/sqrt(width)) deviation. With b_std = 0 the biases (zero gradient, zero contribution) are not
    parameters, and depth = 1, W_std = 1 draws exactly TwoLayerReLU(d, width, seed=seed)'s weights: the
    same network. ``weights[l]`` is (fan_out, fan_in), ``biases[l]`` (fan_out,).
    """

    def __init__(self, d: int, width: int, depth: int, W_std: float = 1.0, b_std: float = 0.0, *, seed: int,
                 dtype=torch.float64):
        super().__init__()
        for name, value in (("d", d), ("width", width)):
            _positive_int(value, name)
        depth, self.W_std, self.b_std = relu_architecture(depth, W_std, b_std)
        gen = torch_generator(seed)
        weights, biases = [], []
        for fan_in, fan_out in zip([d] + [width] * depth, [width] * depth + [1]):
            weights.append(nn.Parameter(torch.randn(fan_out, fan_in, generator=gen, dtype=dtype)))
            if self.b_std > 0:
                biases.append(nn.Parameter(torch.randn(fan_out, generator=gen, dtype=dtype)))
        self.weights, self.biases = nn.ParameterList(weights), nn.ParameterList(biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x
        for layer, weight in enumerate(self.weights):
            h = self.W_std * (a @ weight.T) / math.sqrt(weight.shape[1])
            if self.b_std > 0:
                h = h + self.b_std * self.biases[layer]
            a = torch.relu(h) if layer + 1 < len(self.weights) else h
        return a[..., 0]

from numerics.resnet import resnet18  # noqa: E402,F401  (ResNet-18, torchvision layout)
