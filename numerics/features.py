"""Features as NTK eigenfunctions: the output of a kernel-trained model split over eigenvectors.

docs/theory.md (claim T1): with a constant Gram K = sum_i lambda_i v_i v_i^T and
f_0 = 0, after t steps of gradient descent with step eta,
    f_t(x) = sum_i f^(i)(x) (1 - (1 - eta lambda_i)^t),
    f^(i)(x) = k(x, X) v_i <v_i, Y> / lambda_i,
and as t -> infinity f(x) = sum_i f^(i)(x), the kernel (min-norm) regression prediction.
Pairs with lambda_i <= n eps lambda_1 are dropped (they carry no learnable signal: the
stated pseudo-inverse rule).
"""
from __future__ import annotations

import numpy as np


def feature_outputs(k_test_train: np.ndarray, values: np.ndarray, vectors: np.ndarray,
                    targets: np.ndarray, *, eta: float | None = None, steps: int | None = None) -> np.ndarray:
    """Matrix F (n_test x k) with F[:, i] = f^(i) evaluated at the test points.

    With ``eta`` and ``steps`` given, column i is scaled by 1 - (1 - eta lambda_i)^steps
    (the part of feature i learned after ``steps`` gradient-descent steps).
    """
    values = np.asarray(values, dtype=np.float64)
    n = vectors.shape[0]
    if k_test_train.shape[1] != n or targets.shape != (n,) or values.shape != (vectors.shape[1],):
        raise ValueError(f"shapes must agree: k_test_train (m, {n}), vectors ({n}, k), targets ({n},), "
                         f"values (k,); got {k_test_train.shape}, {vectors.shape}, {targets.shape}, {values.shape}")
    keep = values > n * np.finfo(np.float64).eps * max(values.max(initial=0.0), 0.0)
    coefficients = np.where(keep, (vectors.T @ targets) / np.where(keep, values, 1.0), 0.0)
    if (eta is None) != (steps is None):
        raise ValueError("eta and steps must be given together")
    if steps is not None:
        coefficients = coefficients * (1 - (1 - eta * values) ** steps)
    return (k_test_train @ vectors) * coefficients
