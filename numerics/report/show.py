"""``shortcut-ntk show``: SymPy's closed forms for the canonical model, pretty, LaTeX, and evaluated at
the given (exact, parsed-from-decimal) parameters, any of which may stay a symbol (``--rho rho``); or a
custom model read from a small JSON/TOML file (``--model FILE``, docs/example_model.json): its population
eigenpairs, trained weights, cluster outputs and claim D3's interpolation prediction."""
from __future__ import annotations

import json
import tomllib
from fractions import Fraction
from pathlib import Path

import sympy as sp

from theory import GMM, linear
from theory.exact import exact, tidy
from theory.gmm import effective_imbalance


def _numeric(value) -> str:
    """A number at 10 digits; 'n/a' for a pole; the expression itself when it keeps free symbols."""
    value = sp.sympify(value)
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return "n/a"
    if value.free_symbols:
        return "(symbolic)"
    return f"{float(sp.N(value, 30)):.10g}"


def _block(title: str, expr, values: dict) -> str:
    value = tidy(expr.subs(values), simplify=True)
    return (f"{title}\n{sp.pretty(expr, use_unicode=False)}\n  LaTeX: {sp.latex(expr)}\n"
            f"  value: {value} = {_numeric(value)}\n")


def _kept(**parameters) -> str:
    kept = [name for name, value in parameters.items() if isinstance(value, sp.Symbol)]
    return f" (kept as symbols: {', '.join(kept)})" if kept else ""


def _vector(u) -> str:
    if all(not sp.sympify(x).free_symbols for x in u):
        return "[" + ", ".join(f"{float(sp.N(x, 30)):.10g}" for x in u) + "]"
    return "[" + ", ".join(str(x) for x in u) + "]"


def show_canonical(alpha, beta, rho, var) -> str:
    """The eigenvalues eig_+- of M, the population eigenvectors, w_core and w_bias, the conflicting
    margin and the misclassification threshold, for GMM.canonical(alpha, beta, rho, var)."""
    gmm = GMM.canonical(alpha, beta, rho, var)          # validates the arguments
    s = sp.sqrt(gmm.isotropic_variance)
    values = {linear.ALPHA: exact(alpha, "alpha"), linear.BETA: exact(beta, "beta"), linear.P: 2 * exact(rho, "rho") - 1,
              linear.S: s, linear.CORE_VAR: s, linear.BIAS_VAR: s}
    plus, minus = linear.canonical_eigenvalues()
    w_core, w_bias = linear.canonical_trained_weights()
    parts = [f"canonical model: alpha = {alpha}, beta = {beta}, rho = {rho} (p = 2 rho - 1 = {values[linear.P]}), "
             f"s^2 = {var}" + _kept(alpha=alpha, beta=beta, rho=rho, var=var) + "\n",
             _block("eig_+ of M = E[x x^T] (L2, S1):", plus, values),
             _block("eig_- of M:", minus, values)]
    for value, u in linear.population_eigenpairs(gmm):
        shown = _numeric(value) if not sp.sympify(value).free_symbols else str(value)
        parts.append(f"  eigenpair: {shown}, u = {_vector(u)}\n")
    parts += [_block("w_core of w_inf = M^-1 E[y x] (S2; per-attribute variances s_c^2, s_b^2):", w_core, values),
              _block("w_bias:", w_bias, values),
              _block("conflicting margin y f(mu_{y,-y}) (S2):", linear.conflicting_margin(), values)]
    threshold = linear.misclassification_threshold()
    parts.append(_block("misclassification threshold on s^2 (conflicting misclassified above it when "
                        "p beta^2 > alpha^2):", threshold, values))
    return "\n".join(parts)


# ---- a custom model from a file (issue 15) ------------------------------------------------------
def _exact_number(value, name: str):
    """A JSON/TOML number or a string such as "9/20" or "0.45" as an exact rational (never sympify)."""
    if isinstance(value, str):
        try:
            return sp.Rational(Fraction(value.strip()).numerator, Fraction(value.strip()).denominator)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{name} must be a number such as 0.45 or 9/20, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number such as 0.45 or 9/20, got {value!r}")
    return exact(value, name)


def load_model(path) -> tuple[GMM, dict]:
    """(gmm, interpolation) from a JSON (.json) or TOML (.toml) file:

        {"clusters": [{"label": 1, "bias": 1, "weight": "3/10", "mean": [1, 1.3, 0.5], "variance": 0.2}, ...],
         "classes": 3,                                   (optional: labels 0..K-1, one-hot targets)
         "interpolation": {"n": 60, "dim": 3000, "gamma": 1,   (optional: claim D3's setting;
                           "variances": [...]}}                 per-coordinate variances in R^dim, default the
                                                                 clusters' own)

    label: -1 or +1 (or a class index); bias: the shortcut attribute b_c (optional); weights summing to 1;
    mean: d numbers; variance: sigma_c^2 (the cluster's covariance is sigma_c^2 I). Numbers may be strings
    ("9/20"); floats are taken as their shortest decimal. A cluster may give its own "count" n_c; otherwise
    n_c = round(pi_c n). ValueError naming the field on bad input."""
    path = Path(path)
    text = path.read_bytes()
    try:
        data = tomllib.loads(text.decode()) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"--model {path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("clusters"), list) or not data["clusters"]:
        raise ValueError(f"--model {path}: needs a non-empty list \"clusters\"")
    weights, means, labels, variances, biases, counts = [], [], [], [], [], []
    for i, c in enumerate(data["clusters"]):
        name = f"clusters[{i}]"
        missing = [k for k in ("label", "weight", "mean", "variance") if k not in c]
        if missing:
            raise ValueError(f"{name} needs {', '.join(missing)}")
        if not isinstance(c["mean"], list) or not c["mean"]:
            raise ValueError(f"{name}.mean must be a list of numbers")
        labels.append(c["label"])
        biases.append(c.get("bias"))
        weights.append(_exact_number(c["weight"], f"{name}.weight"))
        means.append([_exact_number(x, f"{name}.mean[{j}]") for j, x in enumerate(c["mean"])])
        variances.append(_exact_number(c["variance"], f"{name}.variance"))
        counts.append(c.get("count"))
    gmm = GMM.from_arrays(weights, means, labels, variances, biases=biases, classes=data.get("classes"))
    interpolation = dict(data.get("interpolation") or {})
    if interpolation:
        if any(n is None for n in counts):
            if "n" not in interpolation:
                raise ValueError("interpolation needs \"n\" (or a \"count\" on every cluster)")
            n = _exact_number(interpolation["n"], "interpolation.n")
            counts = [n_c if n_c is not None else int(sp.floor(w * n + sp.Rational(1, 2)))
                      for n_c, w in zip(counts, gmm.weights)]
        if "dim" not in interpolation:
            raise ValueError("interpolation needs \"dim\", the ambient dimension d")
        ambient = interpolation.get("variances")
        if ambient is not None and (not isinstance(ambient, list) or len(ambient) != len(weights)):
            raise ValueError(f"interpolation.variances must list one variance per cluster ({len(weights)})")
        interpolation = {"counts": counts, "dim": _exact_number(interpolation["dim"], "interpolation.dim"),
                         "gamma": _exact_number(interpolation.get("gamma", 1), "interpolation.gamma"),
                         "variances": None if ambient is None else
                         [_exact_number(v, f"interpolation.variances[{i}]") for i, v in enumerate(ambient)]}
    return gmm, interpolation


def _matrix(M) -> str:
    return "\n".join("  " + _vector(M.row(i)) for i in range(M.rows))


def show_model(path) -> str:
    """The custom model of ``path`` (load_model): population eigenpairs of M (L2, D1), S and p_eff, the trained
    weights w_inf = M^+ E[y x] (S2), the cluster outputs F (S2, N1), the canonical closed forms when they carry
    over (D1), and claim D3's prediction of the min-norm interpolant's cluster outputs."""
    gmm, interpolation = load_model(path)
    m = len(gmm.clusters)
    classes = "labels -1, +1" if gmm.classes is None else f"{gmm.classes} classes (one-hot targets)"
    parts = [f"model {path}: {m} clusters in d = {gmm.dim}, {classes}\n"]
    for i, c in enumerate(gmm.clusters):
        aligned = {True: "aligned", False: "conflicting", None: ""}[c.aligned if gmm.classes is None or c.bias is not None
                                                                      else None]
        parts.append(f"  cluster {i}: label {c.label}, bias {c.bias}, weight {c.weight}, mean {list(c.mean)}, "
                     f"variance {c.isotropic_variance if c.isotropic_variance is not None else list(c.variances)}"
                     f" {aligned}".rstrip() + "\n")
    try:
        S = linear.mixture_variance(gmm)
        parts.append(f"S = sum_c pi_c sigma_c^2 = {S} = {_numeric(S)}  (D1: M = A + S I)\n")
    except ValueError:
        S = None
    if gmm.classes is None:
        try:
            p_eff = effective_imbalance(gmm)
            parts.append(f"p_eff = sum_c pi_c y_c b_c = {p_eff} = {_numeric(p_eff)}\n")
        except ValueError:
            pass
    parts.append("\npopulation eigenpairs of M = E[x x^T] (L2, D1), largest first:\n")
    for value, u in linear.population_eigenpairs(gmm):
        parts.append(f"  {_numeric(value)}  u = {_vector(u)}\n")
    parts.append("\ntrained weights w_inf = M^+ E[y x] (S2), one column per output:\n" + _matrix(
        linear.trained_weights(gmm)) + "\n")
    if gmm.isotropic_variance is not None:
        parts.append("\ncluster outputs F = G (Pi G + S I)^-1 Pi y (S2, N1), one row per cluster:\n"
                     + _matrix(linear.cluster_outputs(gmm)) + "\n")
    reduced = linear.canonical_reduction(gmm)
    if reduced is not None:
        values = linear.canonical_substitution(reduced["alpha"], reduced["beta"], reduced["rho"], reduced["var"])
        plus, minus = (e.subs(values) for e in linear.canonical_eigenvalues())
        w_core, w_bias = (e.subs({**values, linear.CORE_VAR: values[linear.S], linear.BIAS_VAR: values[linear.S]})
                          for e in linear.canonical_trained_weights())
        parts.append(f"\nthe canonical closed forms carry over (D1: one alpha = {reduced['alpha']}, beta = "
                     f"{reduced['beta']}, balanced offsets) at p_eff, S: eig_+ = {_numeric(plus)}, eig_- = "
                     f"{_numeric(minus)}, w_core = {_numeric(w_core)}, w_bias = {_numeric(w_bias)}\n")
    else:
        parts.append("\nthe canonical closed forms do not carry over (D1 needs one alpha, one beta, biases, and "
                     "offsets with sum pi y o = sum pi b o = 0)\n")
    if interpolation:
        counts, dim, gamma = interpolation["counts"], interpolation["dim"], interpolation["gamma"]
        n = sum(counts)
        sampled = gmm if interpolation["variances"] is None else GMM.from_arrays(
            gmm.weights, [list(c.mean) for c in gmm.clusters], gmm.labels, interpolation["variances"],
            biases=gmm.biases, classes=gmm.classes)
        ridges = [dim * v / n_c for v, n_c in zip(sampled.cluster_variances, counts)]
        F = linear.interpolation_outputs(sampled, counts, dim=dim, gamma=gamma)
        parts.append(f"\nD3: min-norm interpolant of n_c = {counts} points (n = {n}) in d = {dim}, targets "
                     f"{gamma} y, per-cluster ridges d sigma_c^2 / n_c = {[str(r) for r in ridges]}: cluster outputs "
                     f"F ~ G (G + diag(d sigma_c^2 / n_c))^-1 gamma y, error ~ "
                     f"sqrt(n/d) = {_numeric(sp.sqrt(sp.Rational(n) / dim))}:\n" + _matrix(F) + "\n")
    return "".join(parts)
