"""Turning user numbers into exact SymPy numbers, and deciding signs of expressions.

Floats are converted with ``sympy.Rational(x)``, which is EXACT for a binary float, so a
numeric test and its symbolic twin work on the same number.
"""
from __future__ import annotations

import math
from fractions import Fraction
from numbers import Real

import sympy as sp


def exact(value, name: str) -> sp.Expr:
    """An exact SymPy number or expression for ``value``; ValueError/TypeError naming ``name``."""
    if isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"{name} must be finite, got {value}")
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or SymPy expression, got bool")
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, Real):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        if isinstance(value, int):
            return sp.Integer(value)
        return sp.Rational(float(value))
    raise TypeError(f"{name} must be a real number or SymPy expression, got {type(value).__name__}")


def shown(expr) -> str:
    """``expr`` for an error message: a rational with a long denominator (a converted binary float,
    e.g. 1.2 = 5404319552844595/4503599627370496) is followed by its decimal value."""
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Rational) and expr.q > 1000:
        return f"{expr} (= {float(expr):.10g})"
    return str(expr)


def is_negative(expr: sp.Expr) -> bool:
    """True only when SymPy can PROVE ``expr`` < 0 (numbers, or symbols with assumptions)."""
    expr = sp.sympify(expr)
    decided = expr.is_negative
    return bool(sp.simplify(expr).is_negative if decided is None else decided)


def is_zero(expr: sp.Expr) -> bool | None:
    """True/False when decidable, None when the sign depends on free symbols."""
    expr = sp.sympify(expr)
    decided = expr.is_zero
    return sp.simplify(expr).is_zero if decided is None else decided
