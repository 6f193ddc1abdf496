"""Shared argument checks: one clear error naming the argument (DESIGN.md conventions)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def finite_matrix(X, name: str) -> np.ndarray:
    """X (numpy array or torch tensor) as a 2-D float64 array; ValueError naming ``name`` when it
    is not 2-D or holds NaN/inf."""
    X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return X


def check_ntk_inputs(model: nn.Module, X1: torch.Tensor, X2) -> torch.Tensor:
    """The empirical NTK's input checks: eval mode when the model has BatchNorm, tensors that are
    finite batches (n x ...) with n >= 1 and matching sample shapes. Returns X2, or X1 when X2 is None."""
    batchnorms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if model.training and batchnorms:
        raise ValueError("model must be in eval mode (model.eval()): in train mode BatchNorm mixes "
                         "the samples of a batch and the NTK is not a kernel of single inputs")
    for name, X in (("X1", X1), ("X2", X2)):
        if X is None:
            continue
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
        if X.ndim < 2 or X.shape[0] < 1:
            raise ValueError(f"{name} must be a batch (n x ...) with n >= 1, got shape {tuple(X.shape)}")
        if not torch.isfinite(X).all():
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    if X2 is not None and X1.shape[1:] != X2.shape[1:]:
        raise ValueError(f"X1 and X2 must have the same sample shape, got {tuple(X1.shape[1:])} and {tuple(X2.shape[1:])}")
    return X1 if X2 is None else X2


def check_scalar_output(model: nn.Module, X1: torch.Tensor) -> None:
    """The model returns one scalar per sample (shape (n,)), probed on the first sample."""
    with torch.no_grad():
        out = model(X1[:1])
    if out.shape != (1,):
        raise ValueError(f"model must return one scalar per sample (shape (n,)), got {tuple(out.shape)} for n = 1")
