"""``shortcut-ntk show canonical``: SymPy's closed forms for the canonical model, pretty, LaTeX,
and evaluated at the given (exact, parsed-from-decimal) parameters."""
from __future__ import annotations

import sympy as sp

from theory import GMM, linear
from theory.exact import exact


def _block(title: str, expr, values: dict) -> str:
    value = sp.simplify(expr.subs(values))
    numeric = "n/a" if value.has(sp.zoo, sp.nan) else f"{float(sp.N(value, 30)):.10g}"
    return (f"{title}\n{sp.pretty(expr, use_unicode=False)}\n  LaTeX: {sp.latex(expr)}\n"
            f"  value: {value} = {numeric}\n")


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
             f"s^2 = {var}\n",
             _block("eig_+ of M = E[x x^T] (L2, S1):", plus, values),
             _block("eig_- of M:", minus, values)]
    for value, u in linear.population_eigenpairs(gmm):
        parts.append(f"  eigenpair: {float(sp.N(value)):.10g}, u = {[float(sp.N(c)) for c in u]}\n")
    parts += [_block("w_core of w_inf = M^-1 E[y x] (S2; per-attribute variances s_c^2, s_b^2):", w_core, values),
              _block("w_bias:", w_bias, values),
              _block("conflicting margin y f(mu_{y,-y}) (S2):", linear.conflicting_margin(), values)]
    threshold = linear.misclassification_threshold()
    parts.append(_block("misclassification threshold on s^2 (conflicting misclassified above it when "
                        "p beta^2 > alpha^2):", threshold, values))
    return "\n".join(parts)
