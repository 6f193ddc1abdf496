"""Public Hypothesis strategies for cluster models (imbalances, variances, margins, GMMs).

Numbers are drawn as ``fractions.Fraction`` with small denominators: they convert EXACTLY to
SymPy rationals (fast exact algebra) and to floats within one rounding, and they allow
exact-moment designs (THEORY.md L3), whose per-cluster counts need rational weights.
Every strategy mixes its edges in explicitly: rho = 1/2, rho -> 1, variance 0 and -> 0,
alpha = beta (near-degenerate eigenvalues).
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from theory.gmm import GMM


def _with_edges(body, *edges):
    return st.one_of(st.sampled_from(edges), body) if edges else body


def seeds() -> st.SearchStrategy[int]:
    """Seeds for numpy/torch generators: every sampling call takes one explicitly."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def imbalances(*, max_denominator: int = 40, min_rho=Fraction(1, 2), max_rho=Fraction(39, 40)):
    """rho = aligned weight in [min_rho, max_rho], edges rho = 1/2 and rho = max_rho (-> 1)."""
    body = st.fractions(min_rho, max_rho, max_denominator=max_denominator)
    return _with_edges(body, *sorted({Fraction(min_rho), Fraction(max_rho)}))


def correlations(*, max_denominator: int = 40, max_abs=Fraction(39, 40)):
    """p = 2 rho - 1 = E[y b] in [-max_abs, max_abs], with edge p = 0 and |p| -> 1."""
    body = st.fractions(-max_abs, max_abs, max_denominator=max_denominator)
    return _with_edges(body, Fraction(0), Fraction(max_abs), -Fraction(max_abs))


def variances(*, max_value=Fraction(4), allow_zero: bool = True, max_denominator: int = 100):
    """Within-cluster variance s^2, edges 0 (if allowed) and 1/10^6 (variance -> 0)."""
    low = Fraction(0) if allow_zero else Fraction(1, max_denominator)
    edges = (Fraction(0), Fraction(1, 10**6)) if allow_zero else (Fraction(1, 10**6),)
    body = st.fractions(low, max_value, max_denominator=max_denominator)
    return _with_edges(body, *edges)


def per_attribute_variances(**kwargs):
    """(s_core^2, s_bias^2, s^2): variance along e_core, e_bias, and elsewhere."""
    return st.tuples(variances(**kwargs), variances(**kwargs), variances(**kwargs))


def strengths(*, min_value=Fraction(1, 5), max_value=Fraction(3), max_denominator: int = 20):
    """An attribute strength (alpha or beta), a geometric margin > 0."""
    return st.fractions(min_value, max_value, max_denominator=max_denominator)


def margins(**kwargs):
    """(alpha, beta): core and bias strength, with the near-degenerate edge alpha = beta."""
    distinct = st.tuples(strengths(**kwargs), strengths(**kwargs))
    equal = strengths(**kwargs).map(lambda a: (a, a))
    return st.one_of(equal, distinct)


def target_scales():
    """gamma: the scale of the training targets gamma * y."""
    return _with_edges(st.fractions(Fraction(1, 100), Fraction(100), max_denominator=100),
                       Fraction(1), Fraction(1, 100), Fraction(100))


def cluster_weights(m: int, *, max_count: int = 12):
    """A point of the probability simplex with rational coordinates (exact sum 1)."""
    counts = st.lists(st.integers(1, max_count), min_size=m, max_size=m)
    return counts.map(lambda c: tuple(Fraction(k, sum(c)) for k in c))


@st.composite
def canonical_gmms(draw, *, dim: int = 2, per_attribute: bool = False, allow_zero_variance: bool = True,
                   rho=None):
    """GMM.canonical with drawn (alpha, beta), rho and variance(s); ``rho`` fixes the imbalance."""
    alpha, beta = draw(margins())
    rho = draw(imbalances()) if rho is None else rho
    if per_attribute:
        var_core, var_bias, var = draw(per_attribute_variances(allow_zero=allow_zero_variance))
        return GMM.canonical(alpha, beta, rho, var, dim=dim, var_core=var_core, var_bias=var_bias)
    return GMM.canonical(alpha, beta, rho, draw(variances(allow_zero=allow_zero_variance)), dim=dim)


@st.composite
def orthogonal_gmms(draw, *, m: int = 3, dim: int | None = None, equal_norms: bool = False):
    """m clusters with means a_c e_c (mutually orthogonal), labels alternating, isotropic noise."""
    dim = m if dim is None else dim
    weights = draw(cluster_weights(m))
    norms = [draw(strengths())] * m if equal_norms else [draw(strengths()) for _ in range(m)]
    means = [[norms[c] if j == c else 0 for j in range(dim)] for c in range(m)]
    labels = [1 if c % 2 == 0 else -1 for c in range(m)]
    return GMM.from_arrays(weights, means, labels, [draw(variances())] * m)
