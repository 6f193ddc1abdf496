"""Shared argument checks: one clear error naming the argument (DESIGN.md conventions)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def check_steps(steps) -> None:
    """ValueError unless ``steps`` (a trainer's step count) is a non-negative int."""
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")


def finite_matrix(X, name: str) -> np.ndarray:
    """X (numpy array or torch tensor) as a 2-D float64 array; ValueError naming ``name`` when it
    is not 2-D or holds NaN/inf."""
    X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return X


_BATCHNORM = nn.modules.batchnorm._BatchNorm
#: Layers that draw random numbers in every train-mode forward (a fresh mask or slope per call).
_RANDOM_IN_TRAINING = (nn.modules.dropout._DropoutNd, nn.RReLU)
OUTPUTS = ("trace", "full")


def _check_per_sample_modules(model: nn.Module) -> None:
    """The empirical NTK needs f(x; theta) to be a deterministic function of one sample x: reject, naming
    them, train-mode BatchNorm (normalises by the batch's statistics, mixing the samples), BatchNorm
    without running statistics (does so in every mode), and train-mode Dropout (every variant) and RReLU
    (random masks or slopes)."""
    batch, random, unstable = [], [], []
    for name, module in model.named_modules():
        where = f"{type(module).__name__} ({name or '<root>'!r})"
        if isinstance(module, _BATCHNORM) and module.running_mean is None:
            unstable.append(where)
        elif isinstance(module, _BATCHNORM) and module.training:
            batch.append(where)
        elif isinstance(module, _RANDOM_IN_TRAINING) and module.training:
            random.append(where)
    if unstable:
        raise ValueError(f"model has BatchNorm without running statistics (track_running_stats=False): "
                         f"{', '.join(unstable)} normalises every batch by its own statistics in train and eval "
                         "mode, so the NTK is not a kernel of single inputs")
    reasons = []
    if batch:
        reasons.append("BatchNorm mixes the samples of a batch and the NTK is not a kernel of single inputs")
    if random:
        reasons.append("Dropout/RReLU draw random masks or slopes and the NTK is not a deterministic function "
                       "of the inputs")
    if reasons:
        raise ValueError(f"model must be in eval mode (model.eval()): in train mode {'; '.join(reasons)}; "
                         f"found {', '.join(batch + random)}")


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The one floating dtype of the model's parameters (the NTK sums over them); ValueError when there are
    none or their dtypes differ."""
    dtypes = {p.dtype for p in model.parameters()}
    if not dtypes:
        raise ValueError("model must have parameters: the NTK is a sum over them, and this model has none")
    if len(dtypes) > 1 or not next(iter(dtypes)).is_floating_point:
        raise ValueError(f"model parameters must share one floating dtype, got {sorted(map(str, dtypes))}")
    return dtypes.pop()


def _probe(model: nn.Module, X1: torch.Tensor) -> int:
    """k, the outputs per sample: two forwards on the batch X1[:2], in the model's current mode, must give
    bit-identical finite outputs of shape (b,) or (b, k) (b = 1 or 2 samples). A RuntimeError of the forward
    (e.g. a width or channel mismatch) becomes a ValueError naming X1's sample shape."""
    batch = X1[:2]
    try:
        with torch.no_grad():
            first, second = model(batch), model(batch)
    except RuntimeError as err:
        raise ValueError(f"X1 has sample shape {tuple(X1.shape[1:])} (dtype {X1.dtype}), which the model "
                         f"cannot take: {err}") from err
    b = batch.shape[0]
    if not isinstance(first, torch.Tensor) or first.ndim not in (1, 2) or first.shape[0] != b:
        shape = tuple(first.shape) if isinstance(first, torch.Tensor) else type(first).__name__
        raise ValueError(f"model must return outputs of shape (n,), (n, 1) or (n, k) for a batch of n samples, "
                         f"got {shape} for n = {b}")
    if not torch.isfinite(first).all():
        raise ValueError("model output must be finite (no NaN or inf), got non-finite values on X1[:2]")
    if not torch.equal(first, second):
        raise ValueError("model forward is not deterministic: two calls on the same batch X1[:2] gave different "
                         f"outputs (max difference {float((first - second).abs().max()):.3g}); the NTK needs "
                         "f(x; theta) to be a function of x and theta (put random layers in eval mode)")
    return 1 if first.ndim == 1 else first.shape[1]


def check_ntk_inputs(model: nn.Module, X1: torch.Tensor, X2, outputs: str = "trace") -> tuple[torch.Tensor, int]:
    """The empirical NTK's checks. ``outputs`` is "trace" or "full"; the model's forward is a deterministic
    function of each sample (no train-mode BatchNorm, Dropout or RReLU; two calls on X1[:2] bit-identical)
    with outputs (n,), (n, 1) or (n, k); X1 and X2 are finite batches (n x ...) with n >= 1, of the
    parameters' dtype, with matching sample shapes the model can take. Returns (X2, k): X2 (X1 when X2 is
    None) and k, the outputs per sample (1 for an (n,) output)."""
    if outputs not in OUTPUTS:
        raise ValueError(f"outputs must be one of {OUTPUTS}, got {outputs!r}")
    _check_per_sample_modules(model)
    dtype = _model_dtype(model)
    for name, X in (("X1", X1), ("X2", X2)):
        if X is None:
            continue
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
        if X.ndim < 2 or X.shape[0] < 1:
            raise ValueError(f"{name} must be a batch (n x ...) with n >= 1, got shape {tuple(X.shape)}")
        if X.dtype != dtype:
            raise ValueError(f"{name} must have the model parameters' dtype {dtype}, got {X.dtype} "
                             f"(convert one: {name}.to({dtype}) or model.to({X.dtype}))")
        if not torch.isfinite(X).all():
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    if X2 is not None and X1.shape[1:] != X2.shape[1:]:
        raise ValueError(f"X1 and X2 must have the same sample shape, got {tuple(X1.shape[1:])} and {tuple(X2.shape[1:])}")
    return (X1 if X2 is None else X2), _probe(model, X1)
