"""The SymPy layer serves symbolic work (issue 15): no public call stalls, eigenvalues come from the
characteristic polynomial, results are sorted under declared assumptions, floats are their shortest decimal,
a GMM's repr rebuilds it, and ``shortcut-ntk show`` takes symbols and custom models.

Pinned regressions (times before this layer): gram_route_eigenpairs of the symbolic-rho canonical model
(> 4 min in sp.simplify), population_eigenpairs of 3 clusters per class in 3-D with symbolic rho (> 90 s),
population eigenpairs of a numeric 10-cluster mixture in 3-D (> 60 s through cubic radicals).
"""
import json
import signal
import time
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, Symbol

from numerics import checks
from numerics.cli import main
from numerics.data import MixtureArrays
from numerics.pytest_plugin import examples
from numerics.tolerances import CLOSED_FORM_ROUNDING
from theory import GMM, exact, linear
from theory.strategies import canonical_gmms, free_gmms, general_gmms, multiclass_gmms, offset_gmms, orthogonal_gmms

pytestmark = pytest.mark.claim("L2")

ALPHA, BETA, RHO, VAR = sp.symbols("alpha beta rho v", positive=True)


def symbolic_canonical() -> GMM:
    """The canonical model with symbolic alpha, beta, rho and variance."""
    return GMM.canonical(ALPHA, BETA, RHO, VAR)


def three_per_class() -> GMM:
    """3 aligned and 3 conflicting clusters per class in 3-D, symbolic rho, numeric per-cluster variances and
    offsets (its characteristic polynomial is an irreducible cubic over Q(rho))."""
    clusters = []
    for y in (1, -1):
        clusters += [(y, y, RHO / 6, Fraction(k + 1, 4), [(-1, 0, 2)[k] * y + k]) for k in range(3)]
        clusters += [(y, -y, (1 - RHO) / 6, Fraction(k + 2, 5), [(-1, 0, 2)[k] - k * y]) for k in range(3)]
    return GMM.general(1, Fraction(13, 10), clusters)


def numeric_ten() -> GMM:
    """A fully numeric 10-cluster mixture in 3-D: rational weights, means and variances (irreducible cubic)."""
    weights = [Fraction(k, 55) for k in range(1, 11)]
    means = [[Fraction((3 * c) % 7 - 3, 2), Fraction((5 * c) % 9 - 4, 3), Fraction((2 * c * c) % 5 - 2, 1)]
             for c in range(10)]
    return GMM.from_arrays(weights, means, [1, -1] * 5, [Fraction(c + 1, 10) for c in range(10)])


EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "example_model.json"
MODELS = {"symbolic": symbolic_canonical, "three per class": three_per_class, "numeric": numeric_ten}


@contextmanager
def within(seconds: float):
    """Raise TimeoutError if the block runs longer than ``seconds`` (SIGALRM: a stall fails instead of hanging)."""
    def stop(signum, frame):
        raise TimeoutError(f"exceeded its bound of {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call(name: str, gmm: GMM):
    function = getattr(linear, name)
    if name == "interpolation_outputs":
        return function(gmm, [3] * len(gmm.clusters), dim=1000)
    if name == "canonical_substitution":
        return function(Fraction(1), Fraction(13, 10), Fraction(9, 10), Fraction(1, 4))
    if name.startswith("canonical_") and name != "canonical_reduction" or name in ("conflicting_margin",
                                                                                  "misclassification_threshold"):
        function.cache_clear()                     # time the first call, not the cached one
        return function()
    return function(gmm)


def test_every_public_function_has_a_time_bound():
    public = {name for name in dir(linear) if callable(getattr(linear, name)) and not name.startswith("_")
              and getattr(getattr(linear, name), "__module__", None) == "theory.linear"}
    assert public == set(linear.TIME_BOUNDS)


@pytest.mark.parametrize("model", MODELS)
def test_public_functions_finish_within_their_measured_bounds(model):
    """Every public function of theory.linear on the symbolic-rho canonical model, on 3 clusters per class in
    3-D (symbolic rho), and on a numeric 10-cluster model, each within TIME_BOUNDS (stated in its docstring)."""
    gmm = MODELS[model]()
    for name, bound in linear.TIME_BOUNDS.items():
        if name == "gram_route_eigenpairs" and gmm.isotropic_variance is None:
            continue
        start = time.perf_counter()
        with within(bound):
            _call(name, gmm)
        elapsed = time.perf_counter() - start
        assert elapsed <= bound, f"{name} on {model}: {elapsed:.2f} s > {bound} s"
        assert f'TIME_BOUNDS["{name}"]' in getattr(linear, name).__doc__, name


# ---- the pinned regressions ----------------------------------------------------------------------
def _check_pairs_at(pairs, M, substitution):
    """Every (value, u) evaluated at ``substitution``: u is a unit eigenvector of the float M with that value."""
    Mf = np.array(M.subs(substitution).tolist(), dtype=float)
    for value, u in pairs:
        v = float(sp.N(value.subs(substitution), 30))
        uf = np.array([complex(sp.N(x.subs(substitution), 30)) for x in u])
        assert np.max(np.abs(uf.imag)) <= CLOSED_FORM_ROUNDING
        check = checks.all_of(
            checks.at_most("||M u - value u|| / ||M||", np.linalg.norm(Mf @ uf.real - v * uf.real)
                           / np.linalg.norm(Mf, 2), CLOSED_FORM_ROUNDING),
            checks.at_most("| ||u|| - 1 |", abs(np.linalg.norm(uf.real) - 1), CLOSED_FORM_ROUNDING))
        assert check.ok, check.detail


def test_gram_route_with_symbolic_rho_is_fast_and_right():
    """Was > 4 min in sp.simplify: the m x m route on GMM.canonical(alpha, beta, rho, v), all symbolic."""
    gmm = symbolic_canonical()
    with within(linear.TIME_BOUNDS["gram_route_eigenpairs"]):
        pairs = linear.gram_route_eigenpairs(gmm)
    assert len(pairs) == 2
    for point in ({ALPHA: 1, BETA: Rational(13, 10), RHO: Rational(9, 10), VAR: Rational(1, 4)},
                  {ALPHA: 2, BETA: Rational(1, 2), RHO: Rational(3, 10), VAR: 3}):
        _check_pairs_at(pairs, linear.second_moment(gmm), point)


def test_three_clusters_per_class_in_three_dimensions_with_symbolic_rho():
    """Was > 90 s: population_eigenpairs of 3 aligned + 3 conflicting clusters per class in 3-D, symbolic rho
    (the trigonometric form of an irreducible cubic's real roots), right at three values of rho, largest first."""
    gmm = three_per_class()
    with within(linear.TIME_BOUNDS["population_eigenpairs"]):
        pairs = linear.population_eigenpairs(gmm)
    assert len(pairs) == 3
    for rho in (Rational(1, 2), Rational(9, 10), Rational(3, 10)):
        _check_pairs_at(pairs, linear.second_moment(gmm), {RHO: rho})
        values = [float(sp.N(v.subs(RHO, rho), 30)) for v, _ in pairs]
        assert values == sorted(values, reverse=True)
    with within(linear.TIME_BOUNDS["gram_route_eigenpairs"]):
        gram = linear.gram_route_eigenpairs(gmm)
    _check_pairs_at(gram, linear.second_moment(gmm), {RHO: Rational(9, 10)})


def test_numeric_ten_cluster_mixture_matches_numpy_to_1e_12():
    """Was > 60 s through cubic radicals: a numeric 10-cluster model in 3-D. The exact route: eigenvalues are
    CRootOf of the irreducible cubic (no radicals), eigenvectors polynomials in them; evaluated at 30 digits
    they equal numpy's eigh to CLOSED_FORM_ROUNDING (values relative to eig_1, eigenvectors up to sign)."""
    gmm = numeric_ten()
    with within(linear.TIME_BOUNDS["population_eigenpairs"]):
        pairs = linear.population_eigenpairs(gmm)
    assert all(isinstance(v, sp.CRootOf) for v, _ in pairs)
    values, vectors = np.linalg.eigh(MixtureArrays.from_gmm(gmm).second_moment)
    values, vectors = values[::-1], vectors[:, ::-1]
    ours = np.array([float(sp.N(v, 30)) for v, _ in pairs])
    ours_vectors = np.column_stack([[float(sp.N(x, 30)) for x in u] for _, u in pairs])
    check = checks.all_of(
        checks.at_most("max |eig - numpy| / eig_1", np.max(np.abs(ours - values)) / values[0], CLOSED_FORM_ROUNDING),
        checks.at_most("max | |u . u_numpy| - 1 |", np.max(np.abs(np.abs(np.sum(ours_vectors * vectors, axis=0)) - 1)),
                       CLOSED_FORM_ROUNDING))
    assert check.ok, check.detail
    eigenvalues_only = linear.population_eigenvalues(gmm)
    assert eigenvalues_only == [v for v, _ in pairs]


# ---- the eigenvalues-only route and the order -------------------------------------------------------
def test_eigenvalues_only_route_gives_radicals_or_crootof_largest_first():
    assert linear.population_eigenvalues(GMM.canonical(1, 2, Rational(9, 10), 1, dim=3)) == [
        Rational(7, 2) + sp.sqrt(481) / 10, Rational(7, 2) - sp.sqrt(481) / 10, 1]     # 5/2 + 1 +- sqrt(9/4 + 64/25)
    cubic = exact.eigenvalues(sp.Matrix([[2, 1, 0], [1, 3, 1], [0, 1, 5]]))
    assert all(isinstance(v, sp.CRootOf) for v in cubic)
    assert np.allclose([float(v) for v in cubic], np.linalg.eigvalsh([[2, 1, 0], [1, 3, 1], [0, 1, 5]])[::-1],
                       rtol=0, atol=CLOSED_FORM_ROUNDING)


def test_descending_order_under_declared_assumptions():
    """With positive symbols the canonical eig_+ is decided to be the largest (it exceeds v by alpha^2/2 +
    beta^2/2 + a root); eig_- and v are not ordered by the assumptions (eig_- >= v needs rho <= 1), so they keep
    the documented order: the characteristic polynomial's factors, each factor's roots largest first."""
    values = linear.population_eigenvalues(GMM.canonical(ALPHA, BETA, RHO, VAR, dim=3))
    plus, minus = (e.subs({linear.ALPHA: ALPHA, linear.BETA: BETA, linear.P: 2 * RHO - 1, linear.S: sp.sqrt(VAR)})
                   for e in linear.canonical_eigenvalues())
    at = {ALPHA: 1, BETA: Rational(13, 10), RHO: Rational(9, 10), VAR: Rational(1, 4)}
    assert abs(float(values[0].subs(at)) - float(plus.subs(at))) <= CLOSED_FORM_ROUNDING
    assert VAR in values[1:] and len(values) == 3
    a, b = sp.symbols("a b", positive=True)
    assert exact.descending([a, a + b, a + 2 * b]) == [a + 2 * b, a + b, a]
    x, y = sp.symbols("x y", real=True)
    order = exact.descending([x, y, x + 1])                          # only x + 1 > x is decided
    assert order.index(x + 1) < order.index(x) and order == [y, x + 1, x]
    assert exact.descending([Rational(1, 3), sp.sqrt(2), 1]) == [sp.sqrt(2), 1, Rational(1, 3)]


def test_tidy_simplifies_only_small_expressions():
    """simplify is bounded: above SIMPLIFY_MAX_OPS operations tidy returns the expression (cancelled, if it
    is a rational function) without calling simplify."""
    x = sp.Symbol("x", positive=True)
    assert exact.tidy(sp.sin(x) ** 2 + sp.cos(x) ** 2, simplify=True) == 1
    big = sp.Add(*(sp.sqrt(x + k) * sp.sin(x) ** 2 + sp.sqrt(x + k) * sp.cos(x) ** 2 for k in range(12)))
    assert sp.count_ops(big) > exact.SIMPLIFY_MAX_OPS
    start = time.perf_counter()
    assert exact.tidy(big, simplify=True) == big
    assert time.perf_counter() - start <= linear.TIME_BOUNDS["canonical_substitution"]


# ---- floats as their shortest decimal -------------------------------------------------------------
def test_floats_are_taken_as_their_shortest_decimal():
    gmm = GMM.canonical(1, 1.3, 0.9, 0.25)
    assert gmm.weights == [Rational(9, 20)] * 2 + [Rational(1, 20)] * 2
    assert gmm.clusters[0].mean[1] == Rational(13, 10) and gmm.isotropic_variance == Rational(1, 4)
    assert exact.exact(np.float32(0.45), "x") == Rational(9, 20)
    assert exact.exact(np.float64(0.1) + np.float64(0.2), "x") == Rational(30000000000000004, 10**17)
    assert exact.exact(sp.Float(0.45), "x") == Rational(9, 20)
    assert exact.exact(0.5 * RHO, "x") == RHO / 2
    values = linear.canonical_substitution(1, 1.3, 0.9, 0.25)
    assert values[linear.P] == Rational(4, 5) and values[linear.S] == Rational(1, 2)
    assert GMM.from_arrays([0.3, 0.7], [[1.1, 0], [0, 2.2]], [1, -1], [0.01, 0.02]).weights == [
        Rational(3, 10), Rational(7, 10)]


@given(digits=st.integers(-10**6, 10**6), exponent=st.integers(-8, 3))
def test_any_short_decimal_float_round_trips_to_its_decimal(digits, exponent):
    text = f"{digits}e{exponent}"
    assert exact.exact(float(text), "x") == Rational(text)


# ---- repr round trip ------------------------------------------------------------------------------
NAMESPACE = {"GMM": GMM, "Rational": Rational, "Symbol": Symbol}


@settings(max_examples=examples(15))
@given(gmm=st.one_of(canonical_gmms(dim=3, per_attribute=True), orthogonal_gmms(), offset_gmms(),
                     general_gmms(), free_gmms(), multiclass_gmms()))
def test_repr_rebuilds_an_equal_gmm(gmm):
    assert eval(repr(gmm), NAMESPACE) == gmm                          # noqa: S307 - our own repr


def test_repr_of_symbolic_models_rebuilds_them_with_their_assumptions():
    p, s = Symbol("p", real=True), Symbol("s", positive=True)
    for gmm in (symbolic_canonical(), three_per_class(), GMM.canonical(1, 2, (1 + p) / 2, s**2 + sp.sqrt(2)),
                GMM.canonical(sp.sqrt(ALPHA + 1), BETA, Rational(-1, 3) + RHO / 3, 2 * VAR)):
        rebuilt = eval(repr(gmm), NAMESPACE)                          # noqa: S307 - our own repr
        assert rebuilt == gmm and hash(rebuilt) == hash(gmm), repr(gmm)


# ---- shortcut-ntk show ---------------------------------------------------------------------------
def test_show_prints_a_custom_model_from_the_shipped_example(capsys):
    assert main(["show", "--model", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    for part in ("population eigenpairs", "trained weights", "cluster outputs", "the canonical closed forms carry over",
                 "D3: min-norm interpolant", "p_eff = sum_c pi_c y_c b_c = 4/5", "S = sum_c pi_c sigma_c^2 = 111/400"):
        assert part in out, part
    # the D3 prediction printed equals numpy's G (G + diag(d sigma_c^2 / n_c))^-1 y from the file's numbers
    data = json.loads(EXAMPLE.read_text())
    U = np.array([c["mean"] for c in data["clusters"]], dtype=float)
    weights = np.array([float(Fraction(c["weight"])) for c in data["clusters"]])
    var = np.array([float(Fraction(v)) for v in data["interpolation"]["variances"]])
    counts = np.round(weights * data["interpolation"]["n"])
    G = U @ U.T
    y = np.array([c["label"] for c in data["clusters"]], dtype=float)
    F = G @ np.linalg.solve(G + np.diag(data["interpolation"]["dim"] * var / counts), y)
    printed = [float(line.strip(" []")) for line in out.split("D3: min-norm interpolant")[1].splitlines()[1:7]]
    assert np.allclose(printed, F, rtol=CLOSED_FORM_ROUNDING * 100, atol=0)


def test_show_reads_the_same_model_from_toml(tmp_path, capsys):
    data = json.loads(EXAMPLE.read_text())
    lines = [f'description = "{data["description"][:40]}"']
    for c in data["clusters"]:
        lines += ["[[clusters]]", f'label = {c["label"]}', f'bias = {c["bias"]}', f'weight = "{c["weight"]}"',
                  f'mean = {c["mean"]}', f'variance = {c["variance"]}']
    lines += ["[interpolation]", "n = 60", "dim = 3000", "gamma = 1",
              "variances = " + json.dumps(data["interpolation"]["variances"])]
    (tmp_path / "model.toml").write_text("\n".join(lines) + "\n")
    assert main(["show", "--model", str(tmp_path / "model.toml")]) == 0
    toml_out = capsys.readouterr().out.split("\n", 1)[1]
    assert main(["show", "--model", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == toml_out


def test_show_keeps_rho_as_a_symbol(capsys):
    assert main(["show", "--rho", "rho"]) == 0
    out = capsys.readouterr().out
    assert "kept as symbols: rho" in out and "value: " in out and "(symbolic)" in out
    assert "rho" in out.split("eigenpair:")[1]
    assert main(["show", "canonical", "--rho", "rho", "--var", "var", "--beta", "beta"]) == 0
    assert "kept as symbols: beta, rho, var" in capsys.readouterr().out
    with pytest.raises(SystemExit):                                   # only the parameter's own name is a symbol
        main(["show", "--rho", "p"])


def test_show_help_gives_defaults_and_meanings(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["show", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for part in ("(default: 0.9)", "(default: 1.3)", "(default: 0.25)", "aligned fraction", "--model FILE",
                 "or rho to keep it as a symbol"):
        assert part in out, part


@pytest.mark.parametrize("content, message", [
    ('{"clusters": []}', "needs a non-empty list"),
    ('{"clusters": [{"label": 1, "weight": 1, "mean": [1]}]}', "needs variance"),
    ('{"clusters": [{"label": 1, "weight": "x", "mean": [1], "variance": 0}]}', "weight must be a number"),
    ('{"clusters": [{"label": 2, "weight": 1, "mean": [1], "variance": 0}]}', "label must be -1 or"),
    ("not json", "not valid JSON"),
])
def test_show_rejects_a_bad_model_file(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["show", "--model", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert main(["show", "--model", str(tmp_path / "missing.json")]) == 2
