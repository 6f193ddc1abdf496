"""Matrix-free NTK products K(X1, X2) V = J1 (J2^T V), never forming K or a Jacobian (torch.func:
a vjp of theta -> f(X2; theta), then a jvp of theta -> f(X1; theta)). Used by the "ntvp" route of
numerics.kernels.empirical_ntk and by the matrix-free eigensolver routes (claims L1, R1, E2 at scale).
Models may have k outputs per sample ((n,), (n, 1) or (n, k)): the "trace" kernel averages the k
per-output kernels, the "full" one keeps every pair of outputs (``contract``, ``ntk_vector_product``).
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


def contract(J1: torch.Tensor, J2: torch.Tensor, outputs: str) -> torch.Tensor:
    """The NTK block of per-sample Jacobians J1 (n1, k, P), J2 (n2, k, P) (row [i, a] = d f_a(x_i) / d theta
    over P parameters): "trace" K[i, j] = (1/k) sum_a J1[i, a] . J2[j, a], shape (n1, n2);
    "full" K[i, j, a, b] = J1[i, a] . J2[j, b], shape (n1, n2, k, k)."""
    if outputs == "full":
        return torch.einsum("iap,jbp->ijab", J1, J2)
    K = torch.einsum("iap,jap->ij", J1, J2)
    return K if J1.shape[1] == 1 else K.div_(J1.shape[1])


def _outputs(model: nn.Module, X: torch.Tensor):
    """theta -> f(X; theta) as an (n, k) matrix (an (n,) output is k = 1)."""
    return lambda p: functional_call(model, p, (X,)).reshape(X.shape[0], -1)


def _products(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor, k: int, outputs: str):
    """The unbatched product of the validated inputs: "full" C (n2, k) -> J1 (J2^T C) (n1, k), a vjp of
    theta -> f(X2; theta) then a jvp of theta -> f(X1; theta); "trace" v (n2,) -> (1/k) sum_a J1_a (J2_a^T v)
    (n1,), the full product of the cotangent v e_a^T read at output a, vmapped over the k outputs."""
    params = parameters(model)
    _, pullback = vjp(_outputs(model, X2), params)

    def full(C):
        (cotangent,) = pullback(C)
        return jvp(_outputs(model, X1), (params,), (cotangent,))[1]

    if outputs == "full":
        return full
    if k == 1:
        return lambda v: full(v[:, None])[:, 0]
    basis = torch.eye(k, dtype=X1.dtype, device=X1.device)
    return lambda v: vmap(lambda e: full(v[:, None] * e) @ e)(basis).mean(0)


def ntk_vector_product(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
                       outputs: str = "trace"):
    """The map V -> K(X1, X2) V, never forming K or J, for a model with outputs (n,), (n, 1) or (n, k).

    outputs="trace": K is the (n1, n2) trace kernel (1/k) sum_a J1_a J2_a^T (J_a the Jacobian of output a),
    V has shape (n2,) or (n2, b), the result (n1,) or (n1, b). outputs="full": K is the (n1 k) x (n2 k)
    matrix K[(i, a), (j, b)] = J1_a(x_i) . J2_b(x_j), V has shape (n2, k) or (n2, k, b), the result (n1, k)
    or (n1, k, b). J2^T V is a vjp of theta -> f(X2; theta); J1 (J2^T V) is a jvp of theta -> f(X1; theta).
    Columns of a block are processed together with vmap. ValueError naming V for a wrong shape.
    """
    X2, k = check_ntk_inputs(model, X1, X2, outputs)
    product = _products(model, X1, X2, k, outputs)
    vector = (X2.shape[0],) if outputs == "trace" else (X2.shape[0], k)

    def apply(V: torch.Tensor) -> torch.Tensor:
        if V.shape[:len(vector)] != vector or V.ndim > len(vector) + 1:
            raise ValueError(f"V must have shape {vector} or {vector + ('b',)} for the {outputs!r} kernel, "
                             f"got {tuple(V.shape)}")
        return product(V) if V.ndim == len(vector) else vmap(product, in_dims=-1, out_dims=-1)(V)

    return apply


def ntvp_gram(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
              outputs: str = "trace") -> torch.Tensor:
    """The "ntvp" route of numerics.kernels.empirical_ntk: K(X1, X2) as the products with the columns of
    the identity, (n1, n2) for "trace"; for "full" the (n1 k) x (n2 k) matrix of ntk_vector_product,
    arranged as (n1, n2, k, k). In the model's dtype."""
    X2, k = check_ntk_inputs(model, X1, X2, outputs)
    n1, n2 = X1.shape[0], X2.shape[0]
    product = vmap(_products(model, X1, X2, k, outputs), in_dims=-1, out_dims=-1)
    if outputs == "trace":
        return product(torch.eye(n2, dtype=X1.dtype, device=X1.device))
    identity = torch.eye(n2 * k, dtype=X1.dtype, device=X1.device).reshape(n2, k, n2 * k)
    return product(identity).reshape(n1, k, n2, k).permute(0, 2, 1, 3)


def ntk_operator(model: nn.Module, X: torch.Tensor) -> LinearOperator:
    """K(X, X) as a scipy LinearOperator (float64 numpy in and out), for matrix-free eigensolvers; for a
    model with k outputs per sample, the (n, n) trace kernel (1/k) sum_a J_a J_a^T (ntk_vector_product)."""
    apply = ntk_vector_product(model, X)
    n = X.shape[0]

    def matmat(V):
        V = torch.as_tensor(np.asarray(V, dtype=np.float64), dtype=X.dtype, device=X.device)
        return apply(V).detach().cpu().numpy().astype(np.float64)

    return LinearOperator((n, n), matvec=matmat, matmat=matmat, rmatvec=matmat, rmatmat=matmat,
                          dtype=np.float64)
