"""Matrix-free NTK products K(X1, X2) V = J1 (J2^T V), never forming K or a Jacobian (torch.func:
a vjp of theta -> f(X2; theta), then a jvp of theta -> f(X1; theta)). Used by the "ntvp" route of
numerics.kernels.empirical_ntk and by the matrix-free eigensolver routes (claims L1, R1, E2 at scale).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator
from torch import nn
from torch.func import functional_call, jvp, vjp, vmap

from numerics.validation import check_ntk_inputs


def parameters(model) -> dict:
    """The model's parameters by name, detached (the point theta at which the NTK is taken)."""
    return {k: v.detach() for k, v in model.named_parameters()}


def ntk_vector_product(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None):
    """The map V -> K(X1, X2) V for V of shape (n2,) or (n2, b), never forming K or J.

    J2^T v is a vjp of theta -> f(X2; theta); J1 (J2^T v) is a jvp of theta -> f(X1; theta).
    Columns of a block are processed together with vmap.
    """
    X2 = check_ntk_inputs(model, X1, X2)
    params = parameters(model)

    def outputs(X):
        return lambda p: functional_call(model, p, (X,))

    _, pullback = vjp(outputs(X2), params)

    def product(v):
        (cotangent,) = pullback(v)
        return jvp(outputs(X1), (params,), (cotangent,))[1]

    def apply(V: torch.Tensor) -> torch.Tensor:
        return product(V) if V.ndim == 1 else vmap(product, in_dims=1, out_dims=1)(V)

    return apply


def ntk_operator(model: nn.Module, X: torch.Tensor) -> LinearOperator:
    """K(X, X) as a scipy LinearOperator (float64 numpy in and out), for matrix-free eigensolvers."""
    apply = ntk_vector_product(model, X)
    n = X.shape[0]

    def matmat(V):
        V = torch.as_tensor(np.asarray(V, dtype=np.float64), dtype=X.dtype, device=X.device)
        return apply(V).detach().cpu().numpy().astype(np.float64)

    return LinearOperator((n, n), matvec=matmat, matmat=matmat, rmatvec=matmat, rmatmat=matmat,
                          dtype=np.float64)
