"""Training by real full-batch gradient descent, and the kernel-regression limit (docs/theory.md).

Loss L = 1/2 ||f(X) - Y||^2 (a sum, not a mean), so one step with a constant NTK K moves the
training residual by r <- (I - eta K) r: exactly the law of claim T1.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from numerics.progress import bar
from numerics.validation import check_steps, finite_matrix


def gradient_descent(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, *, eta: float, steps: int,
                     record=(), progress: bool | None = None) -> dict[int, np.ndarray]:
    """Train ``model`` in place for ``steps`` steps of w <- w - eta dL/dw.

    Returns {t: f_t(X)} for every t in ``record`` (0 <= t <= steps). A tqdm bar is shown
    when ``progress`` is True, or when None and stderr is a terminal.
    """
    check_steps(steps)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a finite positive step size, got {eta!r}")
    if Y.shape != (X.shape[0],):
        raise ValueError(f"Y must have shape ({X.shape[0]},) to match X, got {tuple(Y.shape)}")
    record = set(record)
    if any(t < 0 or t > steps for t in record):
        raise ValueError(f"record must hold steps in [0, {steps}], got {sorted(record)}")
    params = [p for p in model.parameters() if p.requires_grad]
    outputs = {}
    for t in bar(range(steps + 1), progress=progress, desc="gradient descent"):
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
    invertible it interpolates (docs/theory.md). lstsq's SVD cut-off is the stated
    pseudo-inverse rule: singular values below max(n, d) * eps * sigma_max are dropped.
    """
    X = finite_matrix(X, "X")
    targets = np.asarray(targets, dtype=np.float64)
    if targets.shape != (X.shape[0],) or not np.all(np.isfinite(targets)):
        raise ValueError(f"targets must be {X.shape[0]} finite numbers (one per row of X), got shape {targets.shape}")
    return np.linalg.lstsq(X, targets, rcond=None)[0]


def kernel_regression(K: np.ndarray, K_test: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kernel least squares f = k(., X) K^-1 targets (the t -> infinity limit of NTK gradient descent
    from f_0 = 0, docs/theory.md): its outputs on the training points (= targets up to the solve's
    rounding, n eps cond(K)) and on the test points (rows of K_test = k(X_test, X))."""
    coefficients = np.linalg.solve(K, targets)
    return K @ coefficients, K_test @ coefficients


def train_to_convergence(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, *, eta: float,
                         rtol: float = 1e-12, max_steps: int = 200_000, progress: bool | None = None) -> int:
    """Full-batch gradient descent (loss 1/2 ||f(X) - Y||^2) until the gradient of the loss with
    respect to the OUTPUTS' linear read-out is small: ||X^T (f(X) - Y)|| <= rtol ||X^T Y||.

    For any model whose output is linear in x (every linear network), f(x) = w_end . x and
    that quantity is the end-to-end gradient, so at the stop ||w_end - w_hat|| <=
    rtol ||X^T Y|| / lambda_min(X^T X) (an a-posteriori bound the caller can check).
    Returns the number of steps taken; raises RuntimeError if ``max_steps`` is reached.
    """
    if Y.shape != (X.shape[0],):
        raise ValueError(f"Y must have shape ({X.shape[0]},) to match X, got {tuple(Y.shape)}")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a finite positive step size, got {eta!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    target = torch.linalg.norm(X.T @ Y) * rtol
    meter = bar(total=max_steps, progress=progress, desc="training to convergence")
    for step in range(max_steps):
        f = model(X)
        residual = f - Y
        if torch.linalg.norm(X.T @ residual.detach()) <= target:
            meter.close()
            return step
        grads = torch.autograd.grad(0.5 * torch.sum(residual**2), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= eta * g
        meter.update()
    meter.close()
    raise RuntimeError(f"max_steps: gradient descent did not reach rtol = {rtol} in {max_steps} steps")


def hard_margin_svm(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The max-margin direction of separable data: (unit w, geometric margin min_i y_i w.x_i).

    Solved by scikit-learn's linear SVC (libsvm). SVC always fits an intercept; fitting the
    mirrored set {y_i x_i: +1} u {-y_i x_i: -1} makes the problem symmetric under x -> -x, so
    the optimal intercept is 0 and the separator passes through the origin. C = 1e10
    approximates the hard margin.
    """
    from sklearn.svm import SVC

    if set(np.unique(y)) - {-1.0, 1.0}:
        raise ValueError("y must hold labels -1 and +1")
    mirrored = np.concatenate([X * y[:, None], -X * y[:, None]])
    labels = np.concatenate([np.ones(len(y)), -np.ones(len(y))])
    svc = SVC(kernel="linear", C=1e10, tol=1e-12).fit(mirrored, labels)
    w = svc.coef_[0] / np.linalg.norm(svc.coef_[0])
    return w, float(np.min(y * (X @ w)))
