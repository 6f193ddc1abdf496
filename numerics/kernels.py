"""Neural tangent kernels: analytic formulas and empirical NTKs of torch models.

empirical_ntk(model, X1, X2) = sum over ALL parameters theta of grad f(x1) . grad f(x2),
for a scalar-output model. Strategies (all exact up to rounding, and tested equal):
  "jacobian": per-parameter Jacobian contraction: for each parameter tensor, its
              per-sample Jacobians J1, J2 (torch.func.jacrev), K += J1 J2^T. Peak memory is
              bounded by the largest single tensor's Jacobian, not by all of them.
  "ntvp":     NTK-vector products K v = J1 (J2^T v) (torch.func vjp then jvp), batched over
              the columns of the identity with vmap: never stores a Jacobian (matrix-free).
  "mlp_factorized": TwoLayerReLU only, K = (X1 X2^T / d) * (D1 D2^T) + A1 A2^T
              (numerics.mlp_ntk), O(n^2 width); "auto" picks it for that model.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator
from torch import nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap

from numerics.mlp_ntk import mlp_factorized_gram
from numerics.models import TwoLayerReLU
from numerics.validation import finite_matrix


def linear_ntk(X1, X2=None, *, scale: float = 1.0) -> np.ndarray:
    """k(x, x') = scale * x.x' (claim L1: one-layer scale 1, deep linear L/d)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating)) or not 0 < scale < np.inf:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    X1 = finite_matrix(X1, "X1")
    X2 = X1 if X2 is None else finite_matrix(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 and X2 must have the same number of columns, got {X1.shape[1]} and {X2.shape[1]}")
    return scale * (X1 @ X2.T)


def _check_inputs(model: nn.Module, X1: torch.Tensor, X2) -> torch.Tensor:
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


def _parameters(model):
    return {k: v.detach() for k, v in model.named_parameters()}


def _jacobian_gram(model, X1, X2) -> torch.Tensor:
    params = _parameters(model)
    same = X2 is X1
    K = torch.zeros(X1.shape[0], X2.shape[0], dtype=X1.dtype, device=X1.device)
    for name, value in params.items():
        def output(p, x, name=name):
            return functional_call(model, {**params, name: p}, (x,))
        J1 = jacrev(output)(value, X1).reshape(X1.shape[0], -1)
        J2 = J1 if same else jacrev(output)(value, X2).reshape(X2.shape[0], -1)
        K += J1 @ J2.T
    return K


def ntk_vector_product(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None):
    """The map V -> K(X1, X2) V for V of shape (n2,) or (n2, b), never forming K or J.

    J2^T v is a vjp of theta -> f(X2; theta); J1 (J2^T v) is a jvp of theta -> f(X1; theta).
    Columns of a block are processed together with vmap.
    """
    X2 = _check_inputs(model, X1, X2)
    params = _parameters(model)

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


def _ntvp_gram(model, X1, X2) -> torch.Tensor:
    identity = torch.eye(X2.shape[0], dtype=X1.dtype, device=X1.device)
    return ntk_vector_product(model, X1, X2)(identity)


STRATEGIES = {"jacobian": _jacobian_gram, "ntvp": _ntvp_gram, "mlp_factorized": mlp_factorized_gram}


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
                  method: str = "auto") -> torch.Tensor:
    """K[i, j] = sum_theta df(X1[i])/dtheta . df(X2[j])/dtheta, shape (n1, n2).

    ``method``: one of STRATEGIES, or "auto" ("mlp_factorized" for a TwoLayerReLU, else
    "jacobian"). The model must have a scalar output per sample; models with BatchNorm must
    be in eval mode.
    """
    X2 = _check_inputs(model, X1, X2)
    if method == "auto":
        method = "mlp_factorized" if isinstance(model, TwoLayerReLU) else "jacobian"
    if method not in STRATEGIES:
        raise ValueError(f"method must be 'auto' or one of {sorted(STRATEGIES)}, got {method!r}")
    out = model(X1[:1])
    if out.shape != (1,):
        raise ValueError(f"model must return one scalar per sample (shape (n,)), got {tuple(out.shape)} for n = 1")
    return STRATEGIES[method](model, X1, X2).detach()


def _arc_cosine(X1, X2):
    """(NNGP, first-layer term) of the two-layer ReLU network (R1), from the geometry
    q = x.x'/d, r = |x||x'|/d and the angle theta (theta := 0 where r = 0, i.e. a zero row).

    theta = arccos(clip(q / r, -1, 1)) loses accuracy where |cos| -> 1 (d theta / d cos ~
    1/sqrt(1 - cos^2)): identical inputs would get theta ~ sqrt(eps) ~ 1e-8, and the first-layer
    term (pi - theta) is first order in theta. So for the nearly (anti)parallel pairs, |cos| > 1 - 1e-4,
    theta is recomputed as 2 arcsin(|u -+ u'| / 2) from the unit vectors (Kahan), accurate to a few
    eps; elsewhere arccos's error is <= eps / sqrt(2e-4) ~ 2e-14."""
    X1 = finite_matrix(X1, "X1")
    X2 = X1 if X2 is None else finite_matrix(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 and X2 must have the same number of columns, got {X1.shape[1]} and {X2.shape[1]}")
    d = X1.shape[1]
    norms1, norms2 = np.linalg.norm(X1, axis=1), np.linalg.norm(X2, axis=1)
    q = X1 @ X2.T / d
    r = np.outer(norms1, norms2) / d
    cosine = np.clip(np.divide(q, r, out=np.ones_like(q), where=r > 0), -1.0, 1.0)
    theta = np.arccos(cosine)
    i, j = np.nonzero((np.abs(cosine) > 1 - 1e-4) & (r > 0))
    if i.size:
        sign = np.sign(cosine[i, j])[:, None]
        chord = np.linalg.norm(X1[i] / norms1[i, None] - sign * X2[j] / norms2[j, None], axis=1)
        half_angle = 2 * np.arcsin(np.minimum(chord / 2, 1.0))
        theta[i, j] = np.where(sign[:, 0] > 0, half_angle, np.pi - half_angle)
    nngp = r * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
    return nngp, q * (np.pi - theta) / (2 * np.pi)


def relu_nngp(X1, X2=None) -> np.ndarray:
    """Infinite-width NNGP of f(x) = W2 relu(W1 x / sqrt(d)) / sqrt(width) (claim R1):
        NNGP = r (sin theta + (pi - theta) cos theta) / (2 pi) = E_w[relu(w.x/sqrt d) relu(w.x'/sqrt d)].
    theta is accurate near 0 and pi (see _arc_cosine), so identical and antiparallel inputs give
    the exact limits |x|^2/(2d) and 0 to rounding, never NaN. Zero input rows are allowed and give
    0: the continuous extension (|NNGP| <= r -> 0) and the finite network's exact value (relu(0) = 0).
    """
    return _arc_cosine(X1, X2)[0]


def relu_ntk(X1, X2=None) -> np.ndarray:
    """Infinite-width NTK of the same network (claim R1, THEORY.md 7):
        NTK = NNGP + q (pi - theta) / (2 pi),
    the second term being x.x'/d P(w.x > 0, w.x' > 0) from the first-layer weights. At theta = 0
    it is |x|^2/d. Zero input rows give 0 (continuous extension; the network's gradients at x = 0
    vanish too: relu(0) = 0 and the first-layer gradient is proportional to x)."""
    nngp, first_layer = _arc_cosine(X1, X2)
    return nngp + first_layer

from numerics.structured_ntk import chunked_gram, structured_gram  # noqa: E402  (registered strategies)

STRATEGIES.update(chunked=chunked_gram, structured=structured_gram)
