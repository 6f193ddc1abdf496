"""Residual decay laws of kernel training with a constant NTK (docs/theory.md, claim T1).

With squared loss L = 1/2 ||f(X) - Y||^2 and constant Gram K = sum_i lambda_i v_i v_i^T,
the residual r = Y - f(X) obeys r_{t+1} = (I - eta K) r_t (gradient descent) and
dr/dt = -eta K r (gradient flow). Projected on v_i both decouple into scalar laws, which
SymPy SOLVES here (rsolve for the recurrence, dsolve for the ODE) rather than us typing them.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

ETA, LAM, R0 = sp.symbols("eta lambda r0", real=True)
T = sp.Symbol("t", integer=True, nonnegative=True)
TAU = sp.Symbol("tau", nonnegative=True)


@cache
def gradient_descent_law() -> sp.Expr:
    """<v_i, r_t> as a function of (eta, lambda, r0, t): solves r(t+1) = (1 - eta lambda) r(t)."""
    r = sp.Function("r")
    solution = sp.rsolve(r(T + 1) - (1 - ETA * LAM) * r(T), r(T), {r(0): R0})
    return sp.simplify(solution)


@cache
def gradient_flow_law() -> sp.Expr:
    """<v_i, r(tau)> as a function of (eta, lambda, r0, tau): solves r' = -eta lambda r."""
    r = sp.Function("r")
    solution = sp.dsolve(sp.Eq(r(TAU).diff(TAU), -ETA * LAM * r(TAU)), r(TAU), ics={r(0): R0})
    return sp.simplify(solution.rhs)

