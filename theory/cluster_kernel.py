"""The cluster kernel under the canonical symmetry, in closed form (claims G1 and E2, docs/theory.md).

G1 reduces the top-m Gram eigenvalues of ANY kernel at zero within-cluster variance to
eig(N^1/2 Kbar N^1/2), Kbar the m x m kernel between cluster means and N = diag(counts). For the
canonical model (clusters ordered (y, b) = (+1, +1), (-1, -1) aligned, (+1, -1), (-1, +1)
conflicting) and a kernel with k(-x, -x') = k(x, x'),
    Kbar = [[a, a', c, c'], [a', a, c', c], [c, c', e, e'], [c', c, e', e]],   N = diag(nA, nA, nC, nC).
Everything below is DERIVED by SymPy: the parity blocks are N^1/2 Kbar N^1/2 restricted to the
even vectors (u, u, w, w) and the odd vectors (u, -u, w, -w) (the cross block is checked to be 0),
their eigenvalues are the roots of the 2 x 2 characteristic polynomials, and the six kernel values
of a given kernel are computed from GMM.canonical's means (the symmetry is checked, not assumed).
The label is odd, so the odd block carries the two label-relevant features: one on the aligned
clusters (diagonal entry nA (a - a')), one on the conflicting clusters (nC (e - e')).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from theory.gmm import GMM

A, A_, C, C_, E, E_ = sp.symbols("a a' c c' e e'", real=True)
N_A, N_C = sp.symbols("n_A n_C", positive=True)
KERNEL_VALUES = (A, A_, C, C_, E, E_)


def cluster_kernel() -> sp.Matrix:
    """Kbar under the canonical symmetry, in the six kernel values (4 x 4)."""
    return sp.Matrix([[A, A_, C, C_], [A_, A, C_, C], [C, C_, E, E_], [C_, C, E_, E]])


def weighted_cluster_gram() -> sp.Matrix:
    """H = N^1/2 Kbar N^1/2 with N = diag(nA, nA, nC, nC)."""
    root = sp.diag(sp.sqrt(N_A), sp.sqrt(N_A), sp.sqrt(N_C), sp.sqrt(N_C))
    return root * cluster_kernel() * root


def _parity_bases() -> tuple[sp.Matrix, sp.Matrix]:
    half = 1 / sp.sqrt(2)
    even = sp.Matrix([[1, 0], [1, 0], [0, 1], [0, 1]]) * half
    odd = sp.Matrix([[1, 0], [-1, 0], [0, 1], [0, -1]]) * half
    return even, odd


@cache
def parity_blocks() -> tuple[sp.Matrix, sp.Matrix]:
    """(even, odd) 2 x 2 blocks of H in the orthonormal bases (u, u, w, w)/sqrt 2, (u, -u, w, -w)/sqrt 2.

    Derived as B^T H B; raises ArithmeticError unless the even-odd cross block vanishes (then the
    four eigenvalues of H are exactly those of the two blocks)."""
    H = weighted_cluster_gram()
    even, odd = _parity_bases()
    if sp.simplify(even.T * H * odd) != sp.zeros(2, 2):
        raise ArithmeticError("the even-odd cross block of N^1/2 Kbar N^1/2 does not vanish")
    return sp.simplify(even.T * H * even), sp.simplify(odd.T * H * odd)


def block_eigenvalues(block: sp.Matrix) -> tuple[sp.Expr, sp.Expr]:
    """(larger, smaller) eigenvalue of a symmetric 2 x 2 block, (trace +- sqrt(spread)) / 2 with
    spread = (b11 - b22)^2 + 4 b12^2: written as a sum of squares (never negative in floating point),
    and checked to equal the discriminant of the characteristic polynomial, so these are its roots."""
    lam = sp.Symbol("lambda")
    poly = block.charpoly(lam)
    if sp.simplify(block[0, 1] - block[1, 0]) != 0:
        raise ValueError("block must be symmetric")
    spread = (block[0, 0] - block[1, 1]) ** 2 + 4 * block[0, 1] ** 2
    if sp.expand(spread - sp.discriminant(poly, lam)) != 0:
        raise ArithmeticError("the spread is not the discriminant of the characteristic polynomial")
    root = sp.sqrt(spread)
    return (block.trace() + root) / 2, (block.trace() - root) / 2


@cache
def parity_eigenvalues() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """(even_+, even_-, odd_+, odd_-): the four eigenvalues of N^1/2 Kbar N^1/2 in closed form."""
    even, odd = parity_blocks()
    return (*block_eigenvalues(even), *block_eigenvalues(odd))


def odd_diagonal_ratio() -> sp.Expr:
    """nA (a - a') / (nC (e - e')): the odd block's diagonal ratio, G1's prediction of
    lambda(phi_A) / lambda(phi_C) (claim E2) when the aligned-conflicting coupling
    sqrt(nA nC) (c - c') is small against the gap."""
    _, odd = parity_blocks()
    return sp.simplify(odd[0, 0] / odd[1, 1])


def canonical_kernel_values(gmm: GMM, kernel) -> dict[sp.Symbol, sp.Expr]:
    """{a: k(mu_1, mu_1), a': k(mu_1, mu_2), c: k(mu_1, mu_3), c': k(mu_1, mu_4), e: k(mu_3, mu_3),
    e': k(mu_3, mu_4)} for a canonical model and a kernel(x, x') of SymPy column vectors.

    Computes all 16 entries k(mu_c, mu_c') and raises ValueError (argument ``kernel``) unless they
    have the symmetric pattern of ``cluster_kernel()``."""
    if len(gmm.clusters) != 4 or [c.aligned for c in gmm.clusters] != [True, True, False, False]:
        raise ValueError("gmm must be a canonical model (GMM.canonical): 4 clusters, aligned ones first")
    means = [c.mean for c in gmm.clusters]
    full = sp.Matrix(4, 4, lambda i, j: kernel(means[i], means[j]))
    values = dict(zip(KERNEL_VALUES, (full[0, 0], full[0, 1], full[0, 2], full[0, 3], full[2, 2], full[2, 3])))
    if sp.simplify(full - cluster_kernel().subs(values)) != sp.zeros(4, 4):
        raise ValueError("kernel: k(mu_c, mu_c') lacks the canonical symmetry k(-x, -x') = k(x, x')")
    return values


def linear_kernel(x: sp.Matrix, x_: sp.Matrix) -> sp.Expr:
    """k(x, x') = x.x' (claim L1, unit scale)."""
    return (x.T * x_)[0]
