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


# ---- symmetry-broken settings (claims P1, G1, E2, E3; issue 13) --------------------------------
#: The offset coordinate e_o of ``offset_canonical`` (after CORE = 0 and BIAS = 1 of theory.gmm).
OFFSET = 2


def offset_canonical(alpha, beta, rho, var, omega, *, dim: int = 3) -> GMM:
    """GMM.canonical(alpha, beta, rho, var, dim=dim) with every mean shifted by omega e_o (o = OFFSET):
    mu_{y,b} = y alpha e_core + b beta e_bias + omega e_o, same weights, labels, variances and the canonical
    cluster order (aligned y = +1, aligned y = -1, conflicting y = +1, conflicting y = -1).

    For omega != 0 the mixture is not symmetric under x -> -x (the mean mu_{+,+} has no mirror -mu_{+,+}
    among the means), so P1's consequence (the odd, label-carrying part of the bias-free ReLU NTK is half
    the linear kernel) does not apply. The reflection x_b -> -x_b still maps each aligned cluster onto the
    conflicting one with the same label (the offset is orthogonal to e_bias)."""
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= OFFSET:
        raise ValueError(f"dim must be an integer > {OFFSET} to hold the offset coordinate, got {dim!r}")
    canonical = GMM.canonical(alpha, beta, rho, var, dim=dim)
    shift = [omega if j == OFFSET else 0 for j in range(dim)]
    return GMM.from_arrays(canonical.weights, [[m + s for m, s in zip(c.mean, shift)] for c in canonical.clusters],
                           canonical.labels, [c.variances for c in canonical.clusters])


def offsets(*, min_value=Fraction(1, 2), max_value=Fraction(2), max_denominator: int = 20):
    """omega > 0, the offset of ``offset_canonical``. The default lower end 1/2 keeps the broken symmetry
    measurable (the two-layer bias-free ReLU's G1 ratio moves away from the linear one by >= ~0.1 at
    salience 1/2 for omega >= 1/2, and by 0 as omega -> 0)."""
    return st.fractions(min_value, max_value, max_denominator=max_denominator)


@st.composite
def offset_gmms(draw, *, dim: int = 3, rho=None, allow_zero_variance: bool = True):
    """offset_canonical with drawn (alpha, beta), rho, variance and omega > 0 (``offsets``); ``rho`` fixes
    the imbalance."""
    alpha, beta = draw(margins())
    rho = draw(imbalances()) if rho is None else rho
    return offset_canonical(alpha, beta, rho, draw(variances(allow_zero=allow_zero_variance)), draw(offsets()),
                            dim=dim)


@st.composite
def relu_architectures(draw, *, max_depth: int = 3, min_b_std=Fraction(1, 4), max_b_std=Fraction(1)):
    """{"depth", "W_std", "b_std"} of numerics.kernels.relu_ntk with at least one symmetry breaker of P1:
    hidden biases (b_std in [min_b_std, max_b_std]) or depth 2..max_depth (or both). W_std in [1/2, 2].
    Values are Fractions (convert with float() for numerics). The bias-free depth-1 network, whose odd
    part is exactly x.x'/(2d) (P1), is never drawn. b_std has a lower end because its effect vanishes as
    b_std -> 0 (continuity of the kernel): 1/4 is where the depth-1 G1 ratio still differs measurably
    from the linear one (tests/test_e2_nonlinear.py states the measured size)."""
    depth = draw(st.integers(1, max_depth))
    biased = st.fractions(min_b_std, max_b_std, max_denominator=20)
    b_std = draw(biased if depth == 1 else st.one_of(st.just(Fraction(0)), biased))
    W_std = draw(st.fractions(Fraction(1, 2), Fraction(2), max_denominator=10))
    return {"depth": depth, "W_std": W_std, "b_std": b_std}


@st.composite
def broken_relu_settings(draw, *, max_depth: int = 3):
    """(architecture, omega): a ReLU NTK and an offset of the canonical model with at least one of P1's
    three symmetry breakers: a ``relu_architectures`` draw (bias or depth >= 2) with omega = 0 or omega > 0,
    or the bias-free two-layer network (depth 1, b_std = 0, drawn W_std) with an offset omega > 0 alone."""
    omega = draw(st.one_of(st.just(Fraction(0)), offsets()))
    if omega > 0 and draw(st.booleans()):
        W_std = draw(st.fractions(Fraction(1, 2), Fraction(2), max_denominator=10))
        return {"depth": 1, "W_std": W_std, "b_std": Fraction(0)}, omega
    return draw(relu_architectures(max_depth=max_depth)), omega
