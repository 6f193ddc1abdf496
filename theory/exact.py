"""Turning user numbers into exact SymPy numbers, deciding signs of expressions, and exact linear
algebra that cannot stall (issue 15).

Floats are converted to their SHORTEST DECIMAL (the digits Python prints for them), so
``GMM.canonical(1, 1.3, 0.9, 0.25)`` has weight 9/20, not the binary fraction
8106479329266893/18014398509481984 of the float 0.45. A float within one rounding of a decimal is
taken to mean that decimal; pass ``fractions.Fraction`` or ``sympy.Rational`` for any other number.

Eigenvalues and eigenvectors come from the characteristic polynomial, factored over the field of
the matrix's entries (the rationals, an algebraic field such as Q(sqrt 2), or the rational functions
of the free symbols), never from ``simplify``:

* each irreducible factor of degree 1 or 2 gives its roots in radicals, a rational factor of degree
  >= 3 gives ``CRootOf`` (exact, evaluable to any precision, no cubic radicals), any other cubic (symbolic,
  or over Q(sqrt 2)) the trigonometric (casus irreducibilis) form of its three real roots;
* eigenvectors are polynomials in the root, found once per factor f and evaluated at each of its roots:
  for a simple factor by a Krylov product g_theta(B) h(B) e_j over the entries' own ring (no fractions, no
  gcds), otherwise by Gaussian elimination in F[lambda]/(f) (exact zero tests: an element is zero iff its
  remainder mod f is); every eigenvector is divided by the square root of its squared norm mod f;
* numeric entries outside these fields (floats, a transcendental number in a quartic) fall back to mpmath
  at FALLBACK_DIGITS digits; symbolic entries outside them raise ValueError (substitute numbers first);
* the only simplification is ``tidy``: ``cancel`` on rational functions, and SymPy's ``simplify``
  only when asked and only on expressions of at most SIMPLIFY_MAX_OPS operations.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import cmp_to_key
from numbers import Real

import sympy as sp
from sympy.polys.constructor import construct_domain


def shortest_decimal(value) -> sp.Rational:
    """The rational with the shortest decimal expansion that rounds to ``value`` (a float, a numpy
    float, a sympy Float): 0.45 -> 9/20, 0.1 + 0.2 -> 30000000000000004/10^17. A sympy Float of more
    than 53 bits is taken at the digits it prints."""
    if isinstance(value, sp.Float):
        as_float = float(value)
        if value._prec <= 53 and math.isfinite(as_float) and (as_float != 0 or value == 0):
            return sp.Rational(repr(as_float))
        return sp.Rational(str(value))
    try:
        return sp.Rational(str(value))           # str: the shortest round-trip decimal (float32 too)
    except (TypeError, ValueError, SyntaxError):
        return sp.Rational(repr(float(value)))


def exact(value, name: str) -> sp.Expr:
    """An exact SymPy number or expression for ``value``; ValueError/TypeError naming ``name``.
    Floats (and Float atoms inside an expression) become their shortest decimal."""
    if isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"{name} must be finite, got {value}")
        floats = value.atoms(sp.Float)
        return value.xreplace({f: shortest_decimal(f) for f in floats}) if floats else value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or SymPy expression, got bool")
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, Real):
        if isinstance(value, int):
            return sp.Integer(value)
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value}")
        return shortest_decimal(value)
    raise TypeError(f"{name} must be a real number or SymPy expression, got {type(value).__name__}")


def shown(expr) -> str:
    """``expr`` for an error message: a rational that is not an integer is followed by its decimal
    value (e.g. 11/10 (= 1.1))."""
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Rational) and expr.q > 1:
        return f"{expr} (= {float(expr):.10g})"
    return str(expr)


def is_negative(expr: sp.Expr) -> bool:
    """True only when SymPy can PROVE ``expr`` < 0 (numbers, or symbols with assumptions); the proof may
    use ``tidy(expr, simplify=True)``, so it is bounded."""
    expr = sp.sympify(expr)
    decided = expr.is_negative
    return bool(tidy(expr, simplify=True).is_negative if decided is None else decided)


def is_zero(expr: sp.Expr) -> bool | None:
    """True/False when decidable (after the bounded ``tidy(expr, simplify=True)``), None when it depends on
    free symbols."""
    expr = sp.sympify(expr)
    decided = expr.is_zero
    return tidy(expr, simplify=True).is_zero if decided is None else decided


# ---- exact linear algebra that cannot stall (issue 15) ------------------------------------------
#: ``tidy(..., simplify=True)`` runs sympy.simplify only on expressions of at most this many operations
#: (sympy.count_ops); larger ones get ``cancel`` (rational functions) or stay as they are. simplify's
#: running time is not bounded in the size of its input (it stalled > 4 min on the symbolic-rho Gram
#: route). Measured with simplify=True: population_eigenpairs 0.10 s (symbolic canonical), 0.12 s (3 per
#: class, 3-D), 0.71 s (numeric 10 clusters); gram_route_eigenpairs 0.13 s, 1.04 s, 0.24 s.
SIMPLIFY_MAX_OPS = 40

#: The descending sort asks SymPy's assumptions whether a - b > 0 only for differences of at most this
#: many operations (the assumption system is not bounded on large radical expressions either).
SORT_MAX_OPS = 120

#: Digits of the numeric fallback (mpmath) for numeric entries outside every exact field SymPy factors
#: over (floats, transcendental numbers with a factor of degree >= 4).
FALLBACK_DIGITS = 50

LAMBDA = sp.Symbol("lambda")


class _Unsupported(Exception):
    """The entries are not in a field whose polynomials SymPy factors exactly."""


def tidy(expr, *, simplify: bool = False):
    """A bounded clean-up of ``expr``: ``cancel`` for a rational function of its symbols (polynomial gcds:
    bounded by the degrees), nothing else; with ``simplify=True`` SymPy's ``simplify`` as well, but only
    when the expression has at most SIMPLIFY_MAX_OPS operations. Matrices are tidied entry by entry."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: tidy(e, simplify=simplify))
    expr = sp.sympify(expr)
    if expr.is_Atom:
        return expr
    if simplify and sp.count_ops(expr) <= SIMPLIFY_MAX_OPS:
        return sp.simplify(expr)
    if expr.free_symbols and not expr.has(sp.CRootOf) and expr.is_rational_function():
        return sp.cancel(expr)
    return expr


def _domain(entries):
    """(K, elements): the exact domain K of ``entries`` (ZZ, QQ, an algebraic field such as QQ<sqrt(2)>, the
    polynomials or the rational functions of free symbols) and the entries as elements of K; _Unsupported
    otherwise (floats, radicals of symbols next to the symbols themselves, expressions SymPy keeps as EX)."""
    try:
        K, elements = construct_domain([sp.sympify(e) for e in entries], extension=True)
    except Exception as error:  # noqa: BLE001 - construct_domain raises several polys errors
        raise _Unsupported(str(error)) from None
    if K.is_ZZ or K.is_QQ or K.is_AlgebraicField:
        return K, elements
    if (K.is_FractionField or K.is_PolynomialRing) and (K.domain.is_ZZ or K.domain.is_QQ):
        bases = [g.base if g.is_Pow and g.exp.is_Rational else g for g in K.symbols]
        symbols = [b for b in bases if b.is_Symbol]
        if all(b.is_Symbol or b.is_number for b in bases) and len(set(symbols)) == len(symbols):
            return K, elements
    raise _Unsupported(f"entries in {K}")


def _minus_lambda(entry, diagonal, K):
    """entry - lambda (diagonal) or entry, as a dense polynomial in lambda over K."""
    from sympy.polys.densebasic import dup_strip

    return dup_strip([-K.one, entry]) if diagonal else dup_strip([entry])


def _nullspace_mod(rows, f, K):
    """A basis of the null space of (A - lambda I) over the field K[lambda]/(f), f irreducible: exact
    elimination (an element is zero iff its remainder mod f is). Vectors are lists of dense polynomials."""
    from sympy.polys.densearith import dup_mul, dup_neg, dup_rem, dup_sub
    from sympy.polys.euclidtools import dup_invert

    d, n = len(rows), len(rows[0])
    R = [[dup_rem(_minus_lambda(rows[i][j], i == j, K), f, K) for j in range(n)] for i in range(d)]
    pivots, r = [], 0
    for c in range(n):
        p = next((i for i in range(r, d) if R[i][c]), None)
        if p is None:
            continue
        R[r], R[p] = R[p], R[r]
        inverse = dup_invert(R[r][c], f, K)
        R[r] = [dup_rem(dup_mul(x, inverse, K), f, K) for x in R[r]]
        for i in range(d):
            if i != r and R[i][c]:
                factor = R[i][c]
                R[i] = [dup_rem(dup_sub(x, dup_mul(factor, y, K), K), f, K) for x, y in zip(R[i], R[r])]
        pivots.append(c)
        r += 1
        if r == d:
            break
    basis = []
    for c in (c for c in range(n) if c not in pivots):
        v = [[] for _ in range(n)]
        v[c] = [K.one]
        for row, pc in enumerate(pivots):
            v[pc] = dup_neg(R[row][c], K)
        basis.append(v)
    return basis


def _inner(v, w, f, K):
    from sympy.polys.densearith import dup_add, dup_mul, dup_rem

    total = []
    for a, b in zip(v, w):
        if a and b:
            total = dup_add(total, dup_mul(a, b, K), K)
    return dup_rem(total, f, K)


def _orthogonalize(basis, f, K):
    """Gram-Schmidt over K[lambda]/(f) (no normalization: that needs a square root). A nonzero real vector
    has a positive squared norm at every real root, so <w, w> is invertible mod f."""
    from sympy.polys.densearith import dup_mul, dup_rem, dup_sub
    from sympy.polys.euclidtools import dup_invert

    done = []
    for v in basis:
        for w in done:
            coefficient = dup_rem(dup_mul(_inner(v, w, f, K), dup_invert(_inner(w, w, f, K), f, K), K), f, K)
            if coefficient:
                v = [dup_rem(dup_sub(a, dup_mul(coefficient, b, K), K), f, K) for a, b in zip(v, w)]
        done.append(v)
    return done


def _at(poly, root, K):
    """The dense polynomial ``poly`` (coefficients in K) at lambda = root, a SymPy expression."""
    degree = len(poly) - 1
    return sp.Add(*(K.to_sympy(c) * root ** (degree - k) for k, c in enumerate(poly) if c))


def _roots(f, K):
    """The roots of the irreducible f over K, largest first (all real: f divides the characteristic
    polynomial of a matrix with a real spectrum). Degree 1, 2: radicals; over ZZ or QQ, degree >= 3: CRootOf;
    otherwise degree 3: the trigonometric form; degree >= 4 with symbols: _Unsupported."""
    n = len(f) - 1
    lead = K.to_sympy(f[0])
    c = [sp.S.One] + [tidy(K.to_sympy(a) / lead) for a in f[1:]]
    if n == 1:
        return [-c[1]]
    if n == 2:
        half, discriminant = -c[1] / 2, sp.factor(c[1] ** 2 / 4 - c[2])
        return [half + sp.sqrt(discriminant), half - sp.sqrt(discriminant)]
    if K.is_QQ or K.is_ZZ:
        poly = sp.Poly(sp.Add(*(a * LAMBDA ** (n - k) for k, a in enumerate(c))), LAMBDA)
        return [sp.CRootOf(poly, k) for k in reversed(range(n))]
    if n == 3:                                   # t^3 + p t + q, lambda = t - a/3; three real roots
        a, b, c0 = c[1], c[2], c[3]
        p, q = sp.factor(b - a**2 / 3), sp.factor(2 * a**3 / 27 - a * b / 3 + c0)
        angle = sp.acos(sp.Rational(3, 2) * q / p * sp.sqrt(-3 / p)) / 3
        return [-a / 3 + 2 * sp.sqrt(-p / 3) * sp.cos(angle - 2 * sp.pi * k / 3) for k in range(3)]
    raise _Unsupported(f"an irreducible factor of degree {n} over {K}")


def _matvec(rows, v, K):
    """rows @ v over K (plain domain elements)."""
    out = []
    for row in rows:
        total = K.zero
        for a, b in zip(row, v):
            if a and b:
                total += a * b
        out.append(total)
    return out


def _krylov_eigenvector(rows, others, f, K):
    """For an irreducible f of multiplicity 1 in the characteristic polynomial chi = f * h (h = ``others``, the
    product of the other factors): v = h(B) e_j lies in the invariant subspace of f's roots (Cayley-Hamilton),
    and w(theta) = g_theta(B) v with g_theta(lambda) = f(lambda) / (lambda - theta) is an eigenvector for each
    root theta. Only matrix-vector products over the entries' own ring (no fractions, no mod-f arithmetic):
    the entries of w are polynomials in theta of degree < deg f, nonzero at one root iff at all of them. None
    when every e_j gives w = 0 (cannot happen for a diagonalizable B; the elimination is the fallback)."""
    from sympy.polys.densearith import dup_add, dup_mul_ground

    d, k = len(rows), len(f) - 1
    g = [[f[0]]]                                   # g_{k-1} = a_k; g_{i-1} = a_i + theta g_i
    for a in f[1:k]:
        g.append(dup_add(g[-1] + [K.zero], [a], K))
    g = g[::-1]                                    # g[i]: the coefficient of lambda^i, a polynomial in theta
    for j in range(d):
        v = [K.zero] * d
        for coefficient in others:                 # Horner: v = h(B) e_j
            v = _matvec(rows, v, K)
            v[j] += coefficient
        if not any(v):
            continue
        powers = [v]
        for _ in range(k - 1):
            powers.append(_matvec(rows, powers[-1], K))
        w = []
        for r in range(d):
            total = []
            for i in range(k):
                if powers[i][r]:
                    total = dup_add(total, dup_mul_ground(g[i], powers[i][r], K), K)
            w.append(total)
        if any(w):
            return [w]
    return None


def _decomposition(matrix, extra=(), *, vectors=True, skip_zero=False):
    """(K, [(f, exponent, roots, basis, K_f)], extra) for the irreducible factors f^exponent of
    det(lambda I - matrix) over the domain K of the entries (without the factor f = lambda when
    ``skip_zero``), and the ``extra`` entries as elements of K. ``basis``: eigenvectors as polynomials in the
    root over K_f (K itself for the Krylov route of a simple factor, K's field for the elimination)."""
    from sympy.polys.densearith import dup_mul, dup_pow
    from sympy.polys.factortools import dup_factor_list
    from sympy.polys.matrices import DomainMatrix

    d = matrix.rows
    K, elements = _domain(list(matrix) + list(extra))
    rows = [elements[i * d:(i + 1) * d] for i in range(d)]
    charpoly = DomainMatrix(rows, (d, d), K).charpoly()
    _, factors = dup_factor_list(charpoly, K)
    out = []
    for index, (f, exponent) in enumerate(factors):
        if skip_zero and len(f) == 2 and not f[1]:
            continue
        basis, K_f = None, K
        if vectors and exponent == 1:
            others = [K.one]
            for other, e in factors[:index] + factors[index + 1:]:
                others = dup_mul(others, dup_pow(other, e, K), K)
            basis = _krylov_eigenvector(rows, others, f, K)
        if vectors and basis is None:
            K_f = K.get_field()
            from sympy.polys.densetools import dup_monic

            field_rows = [[K_f.convert(a, K) for a in row] for row in rows]
            basis = _nullspace_mod(field_rows, dup_monic([K_f.convert(a, K) for a in f], K_f), K_f)
        out.append((f, exponent, _roots(f, K), basis, K_f))
    return K, out, elements[d * d:]


def _numeric_fallback(matrix, vectors: bool):
    """Eigenpairs of a numeric matrix outside the exact fields, at FALLBACK_DIGITS digits (mpmath)."""
    import mpmath

    if matrix.free_symbols:
        raise ValueError("matrix entries must be rational functions of symbols (or numbers in an algebraic "
                         "field); substitute numbers for the symbols first")
    with mpmath.workdps(FALLBACK_DIGITS):
        A = mpmath.matrix([[mpmath.mpf(sp.N(e, FALLBACK_DIGITS)) for e in row] for row in matrix.tolist()])
        if matrix.is_symmetric():
            values, Q = mpmath.eigsy(A)
        else:
            values, Q = mpmath.eig(A)
            values = [mpmath.re(v) for v in values]
        pairs = [(sp.Float(values[k], FALLBACK_DIGITS),
                  sp.Matrix([sp.Float(mpmath.re(Q[i, k]), FALLBACK_DIGITS) for i in range(matrix.rows)]))
                 for k in range(matrix.rows)]
    if vectors:
        pairs = [(v, u / sp.sqrt(sum(x**2 for x in u))) for v, u in pairs]
    return sorted(pairs, key=lambda vu: -vu[0])


def _compare(a, b) -> int:
    """-1 when a > b is decided by the symbols' assumptions (no simplify), 1 when a < b, 0 otherwise. Square
    roots count as nonnegative (every radicand of a real spectrum is: a real-rooted quadratic's discriminant,
    -p/3 of a real-rooted cubic)."""
    difference = a - b
    if difference.is_number:
        value = sp.N(difference, 30)
        return -1 if value > 0 else 1 if value < 0 else 0
    if sp.count_ops(difference) > SORT_MAX_OPS:
        return 0
    roots = [r for r in difference.atoms(sp.Pow) if abs(r.exp) == sp.S.Half and r.base.free_symbols]
    difference = difference.xreplace({r: sp.Dummy(positive=True) for r in roots})
    return -1 if difference.is_positive else 1 if difference.is_negative else 0


def descending(items, value=lambda item: item, groups=None):
    """``items`` sorted by ``value(item)``, largest first. Numbers are compared at 30 digits (a stable
    sort). Symbolic values are ordered where the symbols' declared assumptions decide a - b (e.g. positive
    symbols; SORT_MAX_OPS bounds the work): a stable topological sort of the decided pairs, which at each step
    takes the earliest item of the input (for eigenvalues: the order of the characteristic polynomial's factors)
    that no remaining item is decided to exceed. ``groups`` (one label per item): items of one group are already largest first (a factor's
    roots: the + root of a quadratic, cos(phi) of a cubic's trigonometric form, come first)."""
    items = list(items)
    values = [sp.sympify(value(it)) for it in items]
    if all(v.is_number for v in values):
        keys = [sp.N(v, 30) for v in values]
        return [items[i] for i in sorted(range(len(items)), key=cmp_to_key(
            lambda i, j: -1 if keys[i] > keys[j] else 1 if keys[i] < keys[j] else 0))]
    n = len(items)
    groups = list(range(n)) if groups is None else list(groups)
    above = [set() for _ in range(n)]              # above[j]: indices decided larger than item j
    for i in range(n):
        for j in range(i + 1, n):
            if groups[i] == groups[j]:
                if values[i] != values[j]:
                    above[j].add(i)
                continue
            decided = _compare(values[i], values[j])
            if decided < 0:
                above[j].add(i)
            elif decided > 0:
                above[i].add(j)
    order, placed = [], set()
    while len(order) < n:
        free = next(k for k in range(n) if k not in placed and above[k] <= placed)
        order.append(free)
        placed.add(free)
    return [items[k] for k in order]


def eigenvalues(matrix, *, simplify: bool = False) -> list:
    """The eigenvalues of a square matrix with a real spectrum, one per dimension (repeated by multiplicity),
    from its characteristic polynomial only (no eigenvectors): ``roots`` of each irreducible factor, CRootOf
    for a numeric factor of degree >= 3. Largest first (``descending``)."""
    matrix = sp.Matrix(matrix)
    try:
        _, factors, _ = _decomposition(matrix, vectors=False)
    except _Unsupported:
        return [value for value, _ in _numeric_fallback(matrix, vectors=False)]
    values, groups = [], []
    for index, (_, exponent, roots, _, _) in enumerate(factors):
        for root in roots:
            values += [tidy(root, simplify=simplify)] * exponent
            groups += [index] * exponent
    return descending(values, groups=groups)


def eigenpairs(matrix, *, simplify: bool = False) -> list:
    """[(eigenvalue, unit eigenvector)] of a real SYMMETRIC matrix, one pair per dimension, largest first
    (``descending``); inside a repeated eigenvalue an orthonormal basis of its eigenspace. Eigenvectors are
    exact: polynomials in the eigenvalue (over the entries' field) from one elimination per irreducible
    factor, divided by the square root of their squared norm."""
    matrix = sp.Matrix(matrix)
    try:
        K, factors, _ = _decomposition(matrix)
    except _Unsupported:
        return _numeric_fallback(matrix, vectors=True)
    return _pairs(factors, lambda v, K_f: v, simplify)


def image_eigenpairs(matrix, image, *, simplify: bool = False) -> list:
    """[(eta, u)] for the NONZERO eigenvalues eta of ``matrix`` (m x m, diagonalizable with a real spectrum,
    e.g. Pi G, similar to the symmetric Pi^1/2 G Pi^1/2), u = image z / ||image z|| for its eigenvectors z
    (``image``: d x m), orthonormalized inside a repeated eta. Largest first (``descending``)."""
    matrix, image = sp.Matrix(matrix), sp.Matrix(image)
    try:
        K, factors, extra = _decomposition(matrix, list(image), skip_zero=True)
    except _Unsupported:
        raise ValueError("the m x m route needs entries in an exact field (numbers or rational functions of "
                         "symbols)") from None
    from sympy.polys.densearith import dup_add, dup_mul_ground

    d, m = image.rows, image.cols

    def mapped(z, K_f):
        U = [[K_f.convert(a, K) for a in extra[i * m:(i + 1) * m]] for i in range(d)]
        out = []
        for i in range(d):
            total = []
            for j in range(m):
                if U[i][j] and z[j]:
                    total = dup_add(total, dup_mul_ground(z[j], U[i][j], K_f), K_f)
            out.append(total)
        return out

    return _pairs(factors, mapped, simplify)


def _pairs(factors, transform, simplify):
    from sympy.polys.densearith import dup_add, dup_mul, dup_rem
    from sympy.polys.densetools import dup_monic

    pairs, groups = [], []
    for index, (f, exponent, roots, basis, K) in enumerate(factors):
        if len(basis) != exponent:
            raise ArithmeticError(f"the matrix is not diagonalizable: eigenspace of dimension {len(basis)} for a "
                                  f"root of multiplicity {exponent}")
        vectors = [transform(v, K) for v in basis]
        if len(vectors) > 1:                       # the elimination route: K is a field
            f_K = dup_monic([K.convert(a) for a in f], K)
            vectors = _orthogonalize([[dup_rem(x, f_K, K) for x in v] for v in vectors], f_K, K)
        for root in roots:
            for v in vectors:
                square = []
                for x in v:
                    if x:
                        square = dup_add(square, dup_mul(x, x, K), K)
                field = K.get_field()                 # ||w||^2 mod f: a polynomial of degree < deg f in the root
                square = dup_rem([field.convert(a, K) for a in square],
                                 dup_monic([field.convert(a, K) for a in f], field), field)
                norm = sp.sqrt(tidy(_at(square, root, field)))
                u = sp.Matrix([tidy(_at(x, root, K) / norm, simplify=simplify) for x in v])
                pairs.append((tidy(root, simplify=simplify), u))
                groups.append(index)
    return descending(pairs, lambda pair: pair[0], groups)
