"""Neural tangent kernels: analytic formulas and empirical NTKs of torch models.

empirical_ntk(model, X1, X2) = sum over ALL parameters theta of grad f(x1) . grad f(x2) for a
model with one output per sample; with k outputs f_a, the per-output kernels
K_ab(x1, x2) = sum_theta grad f_a(x1) . grad f_b(x2) are kept whole (outputs="full",
(n1, n2, k, k), neural-tangents' trace_axes=()) or averaged over a = b (outputs="trace",
(n1, n2), trace_axes=(-1,)). Strategies (all exact up to rounding, and tested equal):
  "jacobian": per-parameter Jacobian contraction: for each parameter tensor, its
              per-sample Jacobians J1, J2 (torch.func.jacrev), K += J1 J2^T. Peak memory is
              bounded by the largest single tensor's Jacobian, not by all of them.
  "ntvp":     NTK-vector products K v = J1 (J2^T v) (torch.func vjp then jvp), batched over
              the columns of the identity with vmap: never stores a Jacobian (matrix-free).
  "mlp_factorized": TwoLayerReLU only, K = (X1 X2^T / d) * (D1 D2^T) + A1 A2^T
              (numerics.mlp_ntk), O(n^2 width); "auto" picks it for that model.
  "chunked", "structured": per-sample gradients in chunks, per-layer structured Grams
              (numerics.structured_ntk), float64 accumulation.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev

from numerics.mlp_ntk import mlp_factorized_gram
from numerics.models import TwoLayerReLU, relu_architecture
from numerics.ntk_products import contract, ntk_operator, ntk_vector_product, ntvp_gram, parameters
from numerics.structured_ntk import chunked_gram, structured_gram
from numerics.validation import check_ntk_inputs, finite_matrix

__all__ = ["STRATEGIES", "empirical_ntk", "linear_ntk", "ntk_operator", "ntk_vector_product", "relu_nngp", "relu_ntk"]


def linear_ntk(X1, X2=None, *, scale: float = 1.0) -> np.ndarray:
    """k(x, x') = scale * x.x' (claim L1: one-layer scale 1, deep linear L/d)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating)) or not 0 < scale < np.inf:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    X1 = finite_matrix(X1, "X1")
    X2 = X1 if X2 is None else finite_matrix(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 and X2 must have the same number of columns, got {X1.shape[1]} and {X2.shape[1]}")
    return scale * (X1 @ X2.T)


def _jacobian_gram(model, X1, X2, outputs: str = "trace") -> torch.Tensor:
    """K(X1, X2) by per-parameter Jacobians (n, k, P_t) contracted with numerics.ntk_products.contract."""
    params = parameters(model)
    K = None
    for name, value in params.items():
        def output(p, x, name=name):
            return functional_call(model, {**params, name: p}, (x,)).reshape(x.shape[0], -1)
        J1 = jacrev(output)(value, X1).reshape(X1.shape[0], -1, value.numel())
        J2 = J1 if X2 is X1 else jacrev(output)(value, X2).reshape(X2.shape[0], -1, value.numel())
        term = contract(J1, J2, outputs)
        K = term if K is None else K.add_(term)
    return K


STRATEGIES = {"jacobian": _jacobian_gram, "ntvp": ntvp_gram, "mlp_factorized": mlp_factorized_gram,
              "chunked": chunked_gram, "structured": structured_gram}


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
                  method: str = "auto", outputs: str = "trace") -> torch.Tensor:
    """The empirical NTK at the model's current parameters theta, in the model's dtype (float32 in,
    float32 out; routes that accumulate in float64 round once at the end).

    The model maps a batch (n x ...) to outputs of shape (n,), (n, 1) or (n, k) (k = 1 for (n,)); with
    J_a(x) = d f_a(x) / d theta over ALL parameters:
        outputs="trace": K[i, j] = (1/k) sum_a J_a(X1[i]) . J_a(X2[j]), shape (n1, n2);
        outputs="full":  K[i, j, a, b] = J_a(X1[i]) . J_b(X2[j]), shape (n1, n2, k, k).
    For k = 1 both are the scalar NTK (the full one with two trailing axes of length 1).
    ``method``: one of STRATEGIES, or "auto" ("mlp_factorized" for a TwoLayerReLU, else "jacobian").
    The forward must be a deterministic function of each sample: BatchNorm, Dropout and RReLU in eval
    mode (numerics.validation.check_ntk_inputs, which also names a wrong X1 width or dtype).
    """
    X2, _ = check_ntk_inputs(model, X1, X2, outputs)
    if method == "auto":
        method = "mlp_factorized" if isinstance(model, TwoLayerReLU) else "jacobian"
    if method not in STRATEGIES:
        raise ValueError(f"method must be 'auto' or one of {sorted(STRATEGIES)}, got {method!r}")
    return STRATEGIES[method](model, X1, X2, outputs=outputs).detach().to(X1.dtype)


def _input_layer(X1, X2, W_std: float, b_std: float):
    """Input Dense layer: (Sigma_0, |z1|, |z2|, theta_0) with Sigma_0 = W_std^2 x.x'/d + b_std^2 the Gram
    of the augmented vectors z = (W_std x / sqrt d, b_std), their norms, and the angle theta_0 between
    them (theta_0 := 0 where a norm is 0: a zero row with b_std = 0).

    theta = arccos(clip(cos, -1, 1)) loses accuracy where |cos| -> 1 (d theta / d cos ~
    1/sqrt(1 - cos^2)): identical inputs would get theta ~ sqrt(eps) ~ 1e-8, and the NTK's kappa_0 term
    (pi - theta) is first order in theta. So for the nearly (anti)parallel pairs, |cos| > 1 - 1e-4,
    theta is recomputed as 2 arcsin(|u -+ u'| / 2) from the unit vectors u = z / |z| (Kahan), accurate
    to a few eps; elsewhere arccos's error is <= eps / sqrt(2e-4) ~ 2e-14."""
    X1 = finite_matrix(X1, "X1")
    X2 = X1 if X2 is None else finite_matrix(X2, "X2")
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 and X2 must have the same number of columns, got {X1.shape[1]} and {X2.shape[1]}")
    Z1, Z2 = (np.hstack([W_std * X / np.sqrt(X.shape[1]), np.full((X.shape[0], 1), b_std)]) for X in (X1, X2))
    norms1, norms2 = np.linalg.norm(Z1, axis=1), np.linalg.norm(Z2, axis=1)
    sigma = Z1 @ Z2.T
    r = np.outer(norms1, norms2)
    cosine = np.clip(np.divide(sigma, r, out=np.ones_like(sigma), where=r > 0), -1.0, 1.0)
    theta = np.arccos(cosine)
    i, j = np.nonzero((np.abs(cosine) > 1 - 1e-4) & (r > 0))
    if i.size:
        sign = np.sign(cosine[i, j])[:, None]
        chord = np.linalg.norm(Z1[i] / norms1[i, None] - sign * Z2[j] / norms2[j, None], axis=1)
        half_angle = 2 * np.arcsin(np.minimum(chord / 2, 1.0))
        theta[i, j] = np.where(sign[:, 0] > 0, half_angle, np.pi - half_angle)
    return sigma, norms1, norms2, theta


def _arc_cosine(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ReLU arc-cosine maps at angle theta (R1): (J, kappa_0) with J = sin theta + (pi - theta) cos theta,
    so that E[relu(u) relu(v)] = |u||v| J / (2 pi) = kappa_1, and kappa_0 = E[relu'(u) relu'(v)] = (pi - theta) / (2 pi),
    for (u, v) centred Gaussian with standard deviations |u|, |v| and correlation cos theta."""
    return np.sin(theta) + (np.pi - theta) * np.cos(theta), (np.pi - theta) / (2 * np.pi)


def _next_angle(theta, norms1, norms2, W_std: float, b_std: float) -> np.ndarray:
    """The angle theta' of the next layer's Sigma' = W_std^2 |z||z'| J(theta) / (2 pi) + b_std^2, without
    the cancellation of arccos(Sigma' / (|z_+||z'_+|)) near theta' = 0 (which costs sqrt(eps) ~ 1e-8 in theta'):
    with p = W_std |z| / sqrt 2 (so |z_+|^2 = p^2 + b_std^2),
        1 - cos theta' = [b_std^2 (p - p')^2 / (|z_+||z'_+| + p p' + b_std^2) + p p' (pi - J) / pi] / (|z_+||z'_+|),
        pi - J = (pi - theta) 2 sin^2(theta / 2) + (theta - sin theta),
    a sum of nonnegative terms, each accurate to a few eps absolute, then theta' = 2 arcsin(sqrt((1 - cos) / 2)).
    Identical inputs keep theta' = 0 exactly; after a ReLU cos theta' >= 0, so arcsin's argument is
    <= 1/sqrt 2 (well conditioned). theta' := 0 where |z_+||z'_+| = 0 (a zero row with b_std = 0)."""
    J, _ = _arc_cosine(theta)
    p1, p2 = W_std * norms1 / np.sqrt(2), W_std * norms2 / np.sqrt(2)
    pp, b2 = np.outer(p1, p2), b_std**2
    r_next = np.sqrt(np.outer(p1**2 + b2, p2**2 + b2))
    pi_minus_J = (np.pi - theta) * 2 * np.sin(theta / 2) ** 2 + (theta - np.sin(theta))
    gap = pp * pi_minus_J / np.pi
    if b2 > 0:                               # the bias term's denominator is then >= b_std^2 > 0
        gap = gap + b2 * np.subtract.outer(p1, p2) ** 2 / (r_next + pp + b2)
    one_minus_cos = np.divide(gap, r_next, out=np.zeros_like(gap), where=r_next > 0)
    return 2 * np.arcsin(np.sqrt(np.clip(one_minus_cos / 2, 0.0, 1.0)))


def _relu_kernels(X1, X2, depth, W_std, b_std) -> tuple[np.ndarray, np.ndarray]:
    """(NNGP, NTK) of stax.serial([Dense(w, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std)) at
    infinite width, NTK parameterization (claims R1, P1; docs/theory.md). Recursion, from the input layer
    Sigma_0 = Theta_0 = W_std^2 x.x'/d + b_std^2 (angle theta_0, per-input scales |z| = sqrt Sigma_0(x, x)),
    one ReLU + Dense per hidden layer l = 1..depth:
        Sigma_l = W_std^2 |z||z'| J(theta_{l-1}) / (2 pi) + b_std^2,
        Theta_l = Sigma_l + W_std^2 kappa_0(theta_{l-1}) Theta_{l-1},
    |z_l|^2 = W_std^2 |z_{l-1}|^2 / 2 + b_std^2 (the diagonal, where theta = 0 and J = pi), theta_l by
    _next_angle. The result is (Sigma_depth, Theta_depth)."""
    depth, W_std, b_std = relu_architecture(depth, W_std, b_std)
    sigma, norms1, norms2, theta = _input_layer(X1, X2, W_std, b_std)
    ntk = sigma
    for layer in range(depth):
        J, kappa0 = _arc_cosine(theta)
        sigma = W_std**2 * np.outer(norms1, norms2) * J / (2 * np.pi) + b_std**2
        ntk = sigma + W_std**2 * kappa0 * ntk
        if layer + 1 < depth:
            theta = _next_angle(theta, norms1, norms2, W_std, b_std)
            norms1, norms2 = (np.sqrt(W_std**2 * n**2 / 2 + b_std**2) for n in (norms1, norms2))
    return sigma, ntk


def relu_nngp(X1, X2=None, *, depth: int = 1, W_std: float = 1.0, b_std: float = 0.0) -> np.ndarray:
    """Infinite-width NNGP Sigma_depth of neural-tangents' stax.serial([Dense(w, W_std, b_std), Relu()] * depth,
    Dense(1, W_std, b_std)), NTK parameterization (claims R1, P1; recursion in _relu_kernels, docs/theory.md).
    depth = 1, W_std = 1, b_std = 0 is f(x) = W2 relu(W1 x / sqrt(d)) / sqrt(width) (R1):
        NNGP = r (sin theta + (pi - theta) cos theta) / (2 pi) = E_w[relu(w.x/sqrt d) relu(w.x'/sqrt d)],
    with r = |x||x'|/d and theta the angle between x and x'. Angles are accurate near 0 and pi (see
    _input_layer, _next_angle), so identical and antiparallel inputs give the exact limits (|x|^2/(2d) and
    0 at depth 1) to rounding, never NaN. With b_std = 0, zero input rows are allowed and give 0: the
    continuous extension (|NNGP| <= r -> 0) and the finite network's exact value (relu(0) = 0).
    ValueError for non-finite or non-2-D inputs, mismatched columns, depth not an integer >= 1, W_std not
    finite > 0, b_std not finite >= 0.
    """
    return _relu_kernels(X1, X2, depth, W_std, b_std)[0]


def relu_ntk(X1, X2=None, *, depth: int = 1, W_std: float = 1.0, b_std: float = 0.0) -> np.ndarray:
    """Infinite-width NTK Theta_depth of the same network (claims R1, P1; recursion in _relu_kernels,
    docs/theory.md). At depth = 1, W_std = 1, b_std = 0 (R1):
        NTK = NNGP + q (pi - theta) / (2 pi),   q = x.x'/d,
    the second term being x.x'/d P(w.x > 0, w.x' > 0) from the first-layer weights; at theta = 0 it is
    |x|^2/d. In general Theta_l = Sigma_l + W_std^2 (pi - theta_{l-1}) / (2 pi) Theta_{l-1}, Theta_0 = Sigma_0.
    With b_std = 0, zero input rows give 0 (continuous extension; the network's gradients at x = 0 vanish
    too: every hidden activation is relu(0) = 0 and the first-layer gradient is proportional to x).
    Errors as relu_nngp."""
    return _relu_kernels(X1, X2, depth, W_std, b_std)[1]
