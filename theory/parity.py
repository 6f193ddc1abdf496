"""P1 (docs/theory.md): the parity of the ReLU NTK, in SymPy.

Under x' -> -x' the geometry of a pair maps as q = x.x'/d -> -q, r = |x||x'|/d -> r and the angle
theta -> pi - theta. The odd part of a kernel is (k(x, x') - k(x, -x')) / 2.

Exact: for the bias-free network with one hidden ReLU layer (R1, neural-tangents' NTK parameterization
with weight scale W_std), written in (theta, r) with q = r cos theta,
    NNGP = W_std^4 r J(theta) / (2 pi),   NTK = NNGP + W_std^4 q (pi - theta) / (2 pi),
    J(theta) = sin theta + (pi - theta) cos theta,
and J(theta) - J(pi - theta) = pi cos theta, so the odd parts are W_std^4 q / 4 and W_std^4 q / 2: linear
kernels. ``depth_one_odd_coefficients`` has SymPy prove it, symbolically in theta and r.

Not linear: with depth >= 2 hidden layers or b_std > 0, the odd part of the kernel of two inputs of equal
|x|^2/d = s, as a function of their cosine c, has a nonzero c^3 Taylor coefficient at c = 0
(``odd_cubic_coefficient``, exact).
"""
from __future__ import annotations

import sympy as sp

from theory.exact import exact

THETA = sp.Symbol("theta", real=True)
R = sp.Symbol("r", positive=True)
W_STD = sp.Symbol("W_std", positive=True)
C = sp.Symbol("c", real=True)


def arc_cosine_J(theta: sp.Expr) -> sp.Expr:
    """J(theta) = sin theta + (pi - theta) cos theta: E[relu(u) relu(v)] = |u||v| J / (2 pi) for centred
    Gaussian (u, v) at angle theta (claim R1)."""
    return sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)


def depth_one_kernels(theta: sp.Expr, r: sp.Expr, W_std: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(NNGP, NTK) of the bias-free one-hidden-layer ReLU network at angle theta, r = |x||x'|/d (R1, P1):
    Sigma_0 = W_std^2 q; NNGP = W_std^2 (W_std^2 r) J / (2 pi); NTK = NNGP + W_std^2 ((pi - theta) / (2 pi)) Sigma_0."""
    q = r * sp.cos(theta)
    nngp = W_std**2 * (W_std**2 * r) * arc_cosine_J(theta) / (2 * sp.pi)
    return nngp, nngp + W_std**2 * (sp.pi - theta) / (2 * sp.pi) * W_std**2 * q


def odd_part(kernel: sp.Expr, theta: sp.Symbol = THETA) -> sp.Expr:
    """(k(x, x') - k(x, -x')) / 2 for a kernel written in (theta, r): x' -> -x' is theta -> pi - theta at fixed r."""
    return (kernel - kernel.subs(theta, sp.pi - theta)) / 2


def depth_one_odd_coefficients(W_std: sp.Expr = W_STD) -> tuple[sp.Expr, sp.Expr]:
    """(a_NNGP, a_NTK) with odd part = a x.x'/d, PROVEN (P1): odd part / q simplifies to an expression free of
    theta and r (ArithmeticError otherwise). Hand derivation (module docstring): (W_std^4 / 4, W_std^4 / 2)."""
    q = R * sp.cos(THETA)
    coefficients = tuple(sp.simplify(odd_part(k) / q) for k in depth_one_kernels(THETA, R, W_std))
    for a in coefficients:
        if a.has(THETA, R):
            raise ArithmeticError(f"odd part / q still depends on theta or r: {a}")
    return coefficients


def relu_ntk_of_cosine(c: sp.Expr, depth: int, W_std, b_std, s) -> sp.Expr:
    """The NTK of stax.serial([Dense(w, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std)) (docs/theory.md) for
    two inputs with |x|^2/d = |x'|^2/d = s and cosine c, the recursion written out in SymPy:
        Sigma_0 = W^2 s c + b^2, Sigma_0(x, x) = W^2 s + b^2, theta_l = acos(Sigma_l / Sigma_l(x, x)),
        Sigma_{l+1} = W^2 Sigma_l(x, x) J(theta_l) / (2 pi) + b^2, Sigma_{l+1}(x, x) = W^2 Sigma_l(x, x) / 2 + b^2,
        Theta_0 = Sigma_0, Theta_{l+1} = Sigma_{l+1} + W^2 (pi - theta_l) / (2 pi) Theta_l."""
    sigma, diagonal = W_std**2 * s * c + b_std**2, W_std**2 * s + b_std**2
    ntk = sigma
    for _ in range(depth):
        theta = sp.acos(sigma / diagonal)
        sigma = W_std**2 * diagonal * arc_cosine_J(theta) / (2 * sp.pi) + b_std**2
        ntk = sigma + W_std**2 * (sp.pi - theta) / (2 * sp.pi) * ntk
        diagonal = W_std**2 * diagonal / 2 + b_std**2
    return ntk


def odd_cubic_coefficient(depth: int, W_std, b_std, s=1) -> sp.Expr:
    """Exact c^3 Taylor coefficient at c = 0 of the odd part (k(c) - k(-c)) / 2 of relu_ntk_of_cosine (P1);
    floats are converted exactly (theory.exact). A linear odd part has none: depth = 1, b_std = 0 gives 0;
    depth >= 2 or b_std > 0 give a positive number (docs/theory.md's "not linear")."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    kernel = relu_ntk_of_cosine(C, depth, exact(W_std, "W_std"), exact(b_std, "b_std"), exact(s, "s"))
    odd = (kernel - kernel.subs(C, -C)) / 2
    return sp.diff(odd, C, 3).subs(C, 0) / 6
