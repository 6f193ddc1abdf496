"""The one seed normaliser: every random draw in numerics takes an explicit seed (DESIGN.md).

A seed is a non-negative int or a Generator of the library that draws (numpy or torch, CPU); a
function that allows ``None`` says so and passes its own default. Nothing reads global state.
"""
from __future__ import annotations

import numpy as np
import torch


def _seed_int(seed, expected: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be {expected}, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be {expected}, got {seed}")
    return int(seed)


def numpy_generator(seed, *, default: int | None = None) -> np.random.Generator:
    """A numpy Generator from an int >= 0 or a Generator (returned as is); ``None`` only when the
    caller gives a ``default`` seed."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None and default is not None:
        seed = default
    expected = "an int >= 0, None or a numpy Generator" if default is not None else "an int >= 0 or a numpy Generator"
    return np.random.default_rng(_seed_int(seed, expected))


def torch_generator(seed) -> torch.Generator:
    """A CPU torch Generator from an int >= 0 or a CPU torch.Generator (returned as is)."""
    if isinstance(seed, torch.Generator):
        if seed.device.type != "cpu":
            raise ValueError(f"seed: a torch.Generator must live on the CPU, got {seed.device}")
        return seed
    return torch.Generator().manual_seed(_seed_int(seed, "an int >= 0 or a torch.Generator"))
