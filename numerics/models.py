"""Networks with a scalar output, float64 by default (THEORY.md L1, R1).

Parameterizations follow THEORY.md: the one-layer model f(x) = w.x has NTK x.x' exactly;
deep linear networks use the NTK parameterization (every layer divides by sqrt(fan_in),
standard normal weights, no biases), whose NTK tends to (L/d) x.x' as width grows.
Every constructor that draws weights takes an explicit ``seed``.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _generator(seed) -> torch.Generator:
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class OneLayerLinear(nn.Module):
    """f(x) = w.x. ``weight`` defaults to zeros (f_0 = 0) or is drawn N(0, 1) from ``seed``."""

    def __init__(self, d: int, *, seed: int | None = None, dtype=torch.float64):
        super().__init__()
        _positive_int(d, "d")
        w = torch.zeros(d, dtype=dtype) if seed is None else torch.randn(d, generator=_generator(seed), dtype=dtype)
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
        gen = _generator(seed)
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
