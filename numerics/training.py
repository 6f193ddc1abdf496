"""Training by real full-batch gradient descent, and the kernel-regression limit (THEORY.md 1, 5).

Loss L = 1/2 ||f(X) - Y||^2 (a sum, not a mean), so one step with a constant NTK K moves the
training residual by r <- (I - eta K) r: exactly the law of claim T1.
"""
from __future__ import annotations

import sys

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


def gradient_descent(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, *, eta: float, steps: int,
                     record=(), progress: bool | None = None) -> dict[int, np.ndarray]:
    """Train ``model`` in place for ``steps`` steps of w <- w - eta dL/dw.

    Returns {t: f_t(X)} for every t in ``record`` (0 <= t <= steps). A tqdm bar is shown
    when ``progress`` is True, or when None and stderr is a terminal.
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a finite positive step size, got {eta!r}")
    if Y.shape != (X.shape[0],):
        raise ValueError(f"Y must have shape ({X.shape[0]},) to match X, got {tuple(Y.shape)}")
    record = set(record)
    if any(t < 0 or t > steps for t in record):
        raise ValueError(f"record must hold steps in [0, {steps}], got {sorted(record)}")
    params = [p for p in model.parameters() if p.requires_grad]
    outputs = {}
    show = sys.stderr.isatty() if progress is None else progress
    for t in tqdm(range(steps + 1), disable=not show, desc="gradient descent", leave=False):
        f = model(X)
        if t in record:
            outputs[t] = f.detach().cpu().numpy().copy()
        if t == steps:
            break
        loss = 0.5 * torch.sum((f - Y) ** 2)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= eta * g
        if not torch.isfinite(loss):
            raise FloatingPointError(f"gradient descent diverged at step {t}: eta = {eta} is too large")
    return outputs


def min_norm_interpolant(X: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """w = X^T (X X^T)^+ targets: the limit of gradient descent from w = 0 for f(x) = w.x.

    With n > d this is the least-squares solution in the row space, with n < d and X X^T
    invertible it interpolates (THEORY.md section 6). lstsq's SVD cut-off is the stated
    pseudo-inverse rule: singular values below max(n, d) * eps * sigma_max are dropped.
    """
    return np.linalg.lstsq(X, targets, rcond=None)[0]
