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


# ---- the paper's general data model (claims D1-D3; issue 15) ----------------------------------
def _orthogonal_complement(vectors, against):
    """Each rational vector of ``vectors`` minus its projection on span(``against``) (exact Gram-Schmidt)."""
    basis = []
    for a in against:
        for b in basis:
            scale = sum(x * y for x, y in zip(a, b)) / sum(y * y for y in b)
            a = [x - scale * y for x, y in zip(a, b)]
        if any(a):
            basis.append(a)
    out = []
    for v in vectors:
        for b in basis:
            scale = sum(x * y for x, y in zip(v, b)) / sum(y * y for y in b)
            v = [x - scale * y for x, y in zip(v, b)]
        out.append(v)
    return out


def cluster_layouts(*, max_per_kind: int = 4):
    """[(y, b), ...]: 1..max_per_kind aligned (b = y) and 1..max_per_kind conflicting (b = -y) clusters for
    each class y = +1, -1 (so 4 to 4 max_per_kind clusters), in the order class +1 aligned, conflicting,
    class -1 aligned, conflicting."""
    count = st.integers(1, max_per_kind)
    return st.tuples(count, count, count, count).map(
        lambda k: [(1, 1)] * k[0] + [(1, -1)] * k[1] + [(-1, -1)] * k[2] + [(-1, 1)] * k[3])


@st.composite
def general_gmms(draw, *, max_per_kind: int = 4, extra_dims=(0, 2), allow_zero_variance: bool = True,
                 canonical_form: bool = True, variance=None):
    """GMM.general: 1..max_per_kind aligned and conflicting clusters per class (``cluster_layouts``), drawn
    weights (rational, ``cluster_weights``), per-cluster isotropic variances (``variances``; ``variance`` fixes
    them all, e.g. 0) and shared (alpha, beta) (``margins``). Means y alpha e_core + b beta e_bias + o_c with
    offsets o_c on extra_dims[0]..extra_dims[1] further coordinates (the means are not orthogonal).

    canonical_form=True projects the offsets so that sum_c pi_c y_c o_c = sum_c pi_c b_c o_c = 0, the condition
    under which the canonical closed forms carry over with p_eff and S (theory.linear.canonical_reduction);
    False keeps the raw offsets (then only L2, D1 and N1 are claimed)."""
    layout = draw(cluster_layouts(max_per_kind=max_per_kind))
    m = len(layout)
    weights = draw(cluster_weights(m))
    alpha, beta = draw(margins())
    extra = draw(st.integers(*extra_dims))
    offset = st.fractions(-2, 2, max_denominator=4)
    raw = [[draw(offset) for _ in range(m)] for _ in range(extra)]        # one row per extra coordinate
    if canonical_form and extra:
        against = [[w * y for w, (y, _) in zip(weights, layout)], [w * b for w, (_, b) in zip(weights, layout)]]
        raw = _orthogonal_complement(raw, against)
    var = [draw(variances(allow_zero=allow_zero_variance)) if variance is None else variance for _ in range(m)]
    clusters = [(y, b, weights[c], var[c], [raw[j][c] for j in range(extra)]) for c, (y, b) in enumerate(layout)]
    return GMM.general(alpha, beta, clusters, dim=2 + extra)


@st.composite
def free_gmms(draw, *, m=(2, 6), dim=(2, 4), variance=None, allow_zero_variance: bool = True):
    """m clusters with arbitrary small-integer means (halves in [-3, 3], not orthogonal, not of the canonical
    form), random labels +-1 (both present), drawn weights and per-cluster isotropic variances; ``variance``
    fixes them all."""
    m, d = draw(st.integers(*m)), draw(st.integers(*dim))
    coordinate = st.integers(-6, 6).map(lambda k: Fraction(k, 2))
    mean = st.lists(coordinate, min_size=d, max_size=d).filter(any)
    means = [draw(mean) for _ in range(m)]
    labels = [1, -1] + [draw(st.sampled_from([-1, 1])) for _ in range(m - 2)]
    var = [draw(variances(allow_zero=allow_zero_variance)) if variance is None else variance for _ in range(m)]
    return GMM.from_arrays(draw(cluster_weights(m)), means, labels, var)


@st.composite
def multiclass_gmms(draw, *, classes=(3, 4), per_class=(1, 2), variance=None, allow_zero_variance: bool = True):
    """K = 3..4 classes with one-hot targets: cluster c of class k with shortcut attribute b (a class index;
    aligned when b = k) has mean alpha e_k + beta e_{K + b}; each class has an aligned cluster and 0..per_class[1]
    conflicting ones (b drawn among the other classes). Drawn weights, per-cluster variances, (alpha, beta)."""
    K = draw(st.integers(*classes))
    alpha, beta = draw(margins())
    labels, biases = [], []
    for k in range(K):
        labels.append(k)
        biases.append(k)
        for _ in range(draw(st.integers(per_class[0] - 1, per_class[1] - 1))):
            labels.append(k)
            biases.append(draw(st.sampled_from([j for j in range(K) if j != k])))
    means = []
    for k, b in zip(labels, biases):
        mean = [0] * (2 * K)
        mean[k] += alpha
        mean[K + b] += beta
        means.append(mean)
    m = len(labels)
    var = [draw(variances(allow_zero=allow_zero_variance)) if variance is None else variance for _ in range(m)]
    return GMM.from_arrays(draw(cluster_weights(m)), means, labels, var, biases=biases, classes=K)


@st.composite
def interpolation_settings(draw, *, m=(2, 5), dim=(2, 3), counts=(2, 6), ridge=(Fraction(1, 2), Fraction(3)),
                           ambient: int = 6000):
    """(gmm, counts, ambient) for claim D3: m clusters with arbitrary half-integer means in ``dim`` coordinates,
    labels +-1, counts n_c in ``counts``, and variances sigma_c^2 = r_c n_c ||mu_c||^2 / ambient with
    r_c in ``ridge``, so that the per-cluster ridge d sigma_c^2 / n_c = r_c ||mu_c||^2 is comparable to the
    cluster's own G_cc (the prediction is neither G's nor the ridge's alone). The model lives in the small
    coordinates; the data lives in R^ambient (theory.linear.interpolation_outputs)."""
    gmm = draw(free_gmms(m=m, dim=dim, variance=0))
    n_c = [draw(st.integers(*counts)) for _ in gmm.clusters]
    r_c = [draw(st.fractions(*ridge, max_denominator=4)) for _ in gmm.clusters]
    var = [r * n * sum(x * x for x in c.mean) / ambient for r, n, c in zip(r_c, n_c, gmm.clusters)]
    model = GMM.from_arrays(gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, var)
    return model, n_c, ambient
