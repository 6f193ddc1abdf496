"""The exact empirical NTK of the two-layer ReLU network, factorized (claim R1; benchmark target).

For f(x) = W2 relu(W1 x / sqrt(d)) / sqrt(width) (numerics.models.TwoLayerReLU) and
h = W1 x / sqrt(d), the per-sample gradients are
    df/dW2 = A(x) = relu(h) / sqrt(width),
    df/dW1 = D(x) x^T / sqrt(d),   D(x) = W2 * relu'(h) / sqrt(width)   (relu'(0) = 0, as torch),
so <df(x)/dtheta, df(x')/dtheta> = (x.x'/d) (D(x).D(x')) + A(x).A(x'), i.e.
    K = (X1 X2^T / d) * (D1 D2^T) + A1 A2^T        (* elementwise).
Cost O(n1 n2 width + (n1 + n2) width d) time and O((n1 + n2) width + n1 n2) memory, against
O(n width d) memory per parameter tensor for a Jacobian contraction: no d x width Jacobian per
sample is ever formed.
"""
from __future__ import annotations

import torch

from numerics.models import TwoLayerReLU


def mlp_factorized_gram(model: TwoLayerReLU, X1: torch.Tensor, X2: torch.Tensor, *,
                        outputs: str = "trace") -> torch.Tensor:
    """K(X1, X2) of a TwoLayerReLU by the factorization above (``X2 is X1`` reuses the factors). The model
    has one output per sample, so the "trace" and "full" kernels hold the same numbers: (n1, n2), and
    (n1, n2, 1, 1) for outputs="full"."""
    if not isinstance(model, TwoLayerReLU):
        raise TypeError(f"model must be a TwoLayerReLU for the factorized MLP NTK, got {type(model).__name__}")
    with torch.no_grad():
        A1, D1 = model.features(X1)
        A2, D2 = (A1, D1) if X2 is X1 else model.features(X2)
        K = D1 @ D2.T
        K.mul_(X1 @ X2.T).div_(X1.shape[1])
        K.addmm_(A1, A2.T)
    return K[:, :, None, None] if outputs == "full" else K
