"""Shared argument checks: one clear error naming the argument (DESIGN.md conventions)."""
from __future__ import annotations

import numpy as np
import torch


def finite_matrix(X, name: str) -> np.ndarray:
    """X (numpy array or torch tensor) as a 2-D float64 array; ValueError naming ``name`` when it
    is not 2-D or holds NaN/inf."""
    X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return X
