"""Clustered Gaussian mixtures (THEORY.md section 2), exact and possibly symbolic.

A cluster c has label y_c in {-1, +1}, weight pi_c, mean mu_c in R^d and a DIAGONAL
covariance diag(sigma_c^2) (isotropic when every entry is equal). The canonical model has
four clusters (y, b) in {+-1}^2 with mu_{y,b} = y alpha e_core + b beta e_bias, aligned
(b = y) total weight rho and conflicting weight 1 - rho, classes balanced.

The paper's general model (``GMM.general``, claims D1-D3) has any number of aligned and
conflicting clusters per class, each with its own weight and isotropic variance, means
y alpha e_core + b beta e_bias + o_c (o_c a cluster-specific offset orthogonal to e_core and
e_bias). A cluster may carry its shortcut attribute b_c explicitly (``bias``), and a model may
have K > 2 classes (labels 0..K-1, one-hot targets).

Floats are taken as their shortest decimal (theory.exact): GMM.canonical(1, 1.3, 0.9, 0.25) has
weight 9/20. ``repr(gmm)`` is a ``GMM.from_arrays(...)`` call that rebuilds an equal model:
``eval(repr(gmm), {"GMM": GMM, "Rational": Rational, "Symbol": Symbol})`` (sympy's Rational, Symbol).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.printing.str import StrPrinter

from theory.exact import exact, is_negative, is_zero, shown, tidy

CORE, BIAS = 0, 1  # coordinates of the core and bias attributes in the canonical model

#: The canonical cluster order: (y, b) = (+1, +1), (-1, -1) aligned, then (+1, -1), (-1, +1) conflicting.
CANONICAL_LABELS = (1, -1, 1, -1)
CANONICAL_ALIGNED = (True, True, False, False)


def imbalance(rho):
    """p = 2 rho - 1 = E[y b], the label-bias correlation of aligned fraction rho (THEORY.md 2)."""
    return 2 * rho - 1


def aligned_fraction(p):
    """rho = (1 + p) / 2, the inverse of ``imbalance``."""
    return (1 + p) / 2


def effective_imbalance(gmm) -> sp.Expr:
    """p_eff = sum_c pi_c y_c b_c = E[y b] (claim D1): the canonical model's p = 2 rho - 1 for any number of
    aligned (b = y) and conflicting (b = -y) clusters per class. b_c is the cluster's ``bias`` or, when it has
    none, read from its mean (``Cluster.aligned``). Binary models only; ValueError when some b_c is unknown."""
    if gmm.classes is not None:
        raise ValueError("gmm must be a binary model (labels -1, +1) for the effective imbalance")
    signs = []
    for i, c in enumerate(gmm.clusters):
        aligned = c.aligned
        if aligned is None:
            raise ValueError(f"clusters[{i}]: its shortcut attribute b is unknown (give it a bias)")
        signs.append(1 if aligned else -1)
    return sp.Add(*(c.weight * s for c, s in zip(gmm.clusters, signs)))


@dataclass(frozen=True)
class Cluster:
    """One mixture component: label, weight, mean (d x 1), per-coordinate variances (d x 1), and optionally
    its shortcut attribute ``bias`` (b_c in {-1, +1} for a binary model, a class index for K classes)."""

    label: int
    weight: sp.Expr
    mean: sp.Matrix
    variances: sp.Matrix
    bias: int | None = None

    @property
    def aligned(self) -> bool | None:
        """Whether the shortcut attribute agrees with the label: bias == label when the cluster has a bias;
        otherwise (canonical model) whether the bias coordinate agrees in sign with the label."""
        if self.bias is not None:
            return bool(self.bias == self.label)
        sign = sp.sign(self.mean[BIAS]) if self.mean.rows > BIAS else 0
        return None if sign == 0 or not sign.is_number else bool(sign == self.label)

    @property
    def isotropic_variance(self) -> sp.Expr | None:
        """sigma_c^2 when the cluster's covariance is sigma_c^2 I, else None."""
        first = self.variances[0]
        return first if all(v == first or is_zero(v - first) is True for v in self.variances) else None

    def _key(self):
        return (self.label, self.weight, tuple(self.mean), tuple(self.variances), self.bias)


class GMM:
    """A validated cluster model; every attribute is an exact SymPy object.

    Validation (ValueError naming the argument): labels in {-1, +1} (or 0..classes-1 when
    ``classes`` = K >= 3 is given: one-hot targets); biases, when given, in the same set; weights
    >= 0 and summing to 1 (decided by SymPy, so symbolic weights such as (1+p)/4 pass); variances
    >= 0 when decidable; every mean and variance vector of the same dimension d >= 1.
    """

    def __init__(self, clusters, *, classes: int | None = None):
        clusters = tuple(clusters)
        if not clusters:
            raise ValueError("clusters must hold at least one cluster")
        if classes is not None and (not isinstance(classes, int) or isinstance(classes, bool) or classes < 3):
            raise ValueError(f"classes must be an integer >= 3 (None for labels -1, +1), got {classes!r}")
        allowed = (-1, 1) if classes is None else tuple(range(classes))
        shown_allowed = "-1 or +1" if classes is None else f"an integer in [0, {classes})"
        dim = clusters[0].mean.rows
        for i, c in enumerate(clusters):
            if c.label not in allowed or isinstance(c.label, bool):
                raise ValueError(f"clusters[{i}].label must be {shown_allowed}, got {c.label!r}")
            if c.bias is not None and (c.bias not in allowed or isinstance(c.bias, bool)):
                raise ValueError(f"clusters[{i}].bias must be {shown_allowed} or None, got {c.bias!r}")
            if c.mean.shape != (dim, 1) or c.variances.shape != (dim, 1):
                raise ValueError(
                    f"clusters[{i}]: mean and variances must be {dim} x 1 like clusters[0], "
                    f"got {c.mean.shape} and {c.variances.shape}")
            if is_negative(c.weight):
                raise ValueError(f"clusters[{i}].weight must be >= 0, got {shown(c.weight)}")
            for j, v in enumerate(c.variances):
                if is_negative(v):
                    raise ValueError(f"clusters[{i}].variances[{j}] must be >= 0, got {shown(v)}")
        total = sp.Add(*(c.weight for c in clusters))
        if is_zero(total - 1) is not True:
            raise ValueError(f"cluster weights must sum to 1, got {shown(tidy(total, simplify=True))}")
        self.clusters = clusters
        self.dim = dim
        self.classes = classes

    @classmethod
    def from_arrays(cls, weights, means, labels, variances, *, biases=None, classes: int | None = None):
        """Build from plain sequences: weights (m), means (m x d), labels (m), variances
        (m scalars for isotropic clusters, or m x d per-coordinate); optionally biases (m shortcut
        attributes b_c, None entries allowed) and ``classes`` (K >= 3: labels 0..K-1)."""
        weights, means, labels, variances = list(weights), list(means), list(labels), list(variances)
        m = len(weights)
        biases = [None] * m if biases is None else list(biases)
        for name, seq in (("means", means), ("labels", labels), ("variances", variances), ("biases", biases)):
            if len(seq) != m:
                raise ValueError(f"{name} must have one entry per cluster ({m}), got {len(seq)}")
        clusters = []
        for c in range(m):
            mean = sp.Matrix([exact(v, f"means[{c}]") for v in means[c]])
            var = variances[c]
            if isinstance(var, (list, tuple, sp.MatrixBase)):
                var_vec = sp.Matrix([exact(v, f"variances[{c}]") for v in var])
            else:
                var_vec = sp.Matrix([exact(var, f"variances[{c}]")] * mean.rows)
            clusters.append(Cluster(_as_int(labels[c]), exact(weights[c], f"weights[{c}]"), mean, var_vec,
                                    _as_int(biases[c])))
        return cls(clusters, classes=classes)

    @classmethod
    def general(cls, alpha, beta, clusters, *, dim: int | None = None) -> GMM:
        """The paper's general data model (claims D1-D3): ``clusters`` is a sequence of
        (label y, bias b, weight pi_c, variance sigma_c^2[, offset o_c]) with y, b in {-1, +1}; cluster c
        has mean y alpha e_core + b beta e_bias + o_c and covariance sigma_c^2 I. An offset has dim - 2
        entries (the coordinates after e_core and e_bias), or dim entries with 0 on e_core and e_bias;
        ``dim`` defaults to 2 + the longest offset.
        Any number of aligned (b = y) and conflicting (b = -y) clusters per class.

        The canonical closed forms (L2's eig_+-, S2's w_core, w_bias) carry over with p = p_eff =
        sum_c pi_c y_c b_c and s^2 = S = sum_c pi_c sigma_c^2 when sum_c pi_c y_c o_c = 0 and
        sum_c pi_c b_c o_c = 0 (theory.linear.canonical_reduction checks this)."""
        alpha, beta = exact(alpha, "alpha"), exact(beta, "beta")
        rows = [tuple(c) for c in clusters]
        offsets = [list(r[4]) if len(r) > 4 and r[4] is not None else None for r in rows]
        if dim is None:                          # offsets given as the coordinates after e_core, e_bias
            dim = 2 + max([0] + [len(o) for o in offsets if o is not None])
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 2:
            raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
        weights, means, labels, variances, biases = [], [], [], [], []
        for i, row in enumerate(rows):
            if len(row) not in (4, 5):
                raise ValueError(f"clusters[{i}] must be (label, bias, weight, variance[, offset]), got {row!r}")
            y, b, weight, variance = row[:4]
            if y not in (-1, 1) or b not in (-1, 1):
                raise ValueError(f"clusters[{i}]: label and bias must be -1 or +1, got {y!r}, {b!r}")
            offset = [0] * dim if offsets[i] is None else offsets[i]
            if len(offset) == dim - 2:
                offset = [0, 0] + offset
            if len(offset) != dim:
                raise ValueError(f"clusters[{i}]: offset must have {dim} or {dim - 2} entries, got {len(offset)}")
            offset = [exact(o, f"clusters[{i}].offset") for o in offset]
            if offset[CORE] != 0 or offset[BIAS] != 0:
                raise ValueError(f"clusters[{i}]: offset must be 0 on e_core and e_bias, got {offset[:2]}")
            mean = list(offset)
            mean[CORE] += y * alpha
            mean[BIAS] += b * beta
            weights.append(weight)
            means.append(mean)
            labels.append(y)
            variances.append(variance)
            biases.append(b)
        return cls.from_arrays(weights, means, labels, variances, biases=biases)

    @classmethod
    def canonical(cls, alpha, beta, rho, var, *, dim=2, var_core=None, var_bias=None):
        """The canonical 4-cluster model of THEORY.md section 2.

        Clusters in the order (y, b) = (+1, +1), (-1, -1) [aligned, weight rho/2 each],
        (+1, -1), (-1, +1) [conflicting, weight (1 - rho)/2 each]; mu = y alpha e_0 + b beta e_1
        in R^dim. Variances: ``var`` on every coordinate, overridden by ``var_core`` on e_0 and
        ``var_bias`` on e_1. Arguments may be numbers or SymPy expressions.
        """
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 2:
            raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
        alpha, beta = exact(alpha, "alpha"), exact(beta, "beta")
        rho, var = exact(rho, "rho"), exact(var, "var")
        if is_negative(rho) or is_negative(1 - rho):
            raise ValueError(f"rho must lie in [0, 1], got {shown(rho)}")
        if is_negative(var):
            raise ValueError(f"var must be >= 0, got {shown(var)}")
        var_core = var if var_core is None else exact(var_core, "var_core")
        var_bias = var if var_bias is None else exact(var_bias, "var_bias")
        for name, v in (("var_core", var_core), ("var_bias", var_bias)):
            if is_negative(v):
                raise ValueError(f"{name} must be >= 0, got {shown(v)}")
        variances = sp.Matrix([var_core, var_bias] + [var] * (dim - 2))
        clusters = []
        for y, b in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
            mean = sp.zeros(dim, 1)
            mean[CORE], mean[BIAS] = y * alpha, b * beta
            weight = rho / 2 if b == y else (1 - rho) / 2
            clusters.append(Cluster(y, weight, mean, variances))
        return cls(clusters)

    # ---- derived views -------------------------------------------------------------------
    @property
    def weights(self) -> list[sp.Expr]:
        return [c.weight for c in self.clusters]

    @property
    def labels(self) -> list[int]:
        return [c.label for c in self.clusters]

    @property
    def biases(self) -> list[int | None]:
        """The clusters' explicit shortcut attributes b_c (None where a cluster has none)."""
        return [c.bias for c in self.clusters]

    @property
    def targets(self) -> sp.Matrix:
        """The training targets of each cluster: y (m x 1) for a binary model, one-hot rows (m x K) for K
        classes. Least squares is column-wise, so every claim about one output holds per column."""
        if self.classes is None:
            return sp.Matrix(self.labels)
        return sp.Matrix([[1 if c.label == k else 0 for k in range(self.classes)] for c in self.clusters])

    @property
    def cluster_variances(self) -> list[sp.Expr]:
        """sigma_c^2 of every cluster; ValueError when a cluster's covariance is not isotropic."""
        out = []
        for i, c in enumerate(self.clusters):
            v = c.isotropic_variance
            if v is None:
                raise ValueError(f"clusters[{i}] must have an isotropic covariance sigma_c^2 I")
            out.append(v)
        return out

    @property
    def means(self) -> sp.Matrix:
        """U = [mu_1 .. mu_m], d x m."""
        return sp.Matrix.hstack(*(c.mean for c in self.clusters))

    @property
    def noise_variances(self) -> list[sp.Expr]:
        """diag(S), S = sum_c pi_c diag(sigma_c^2): the mixture-averaged within-cluster variances."""
        entries = [sp.Add(*(c.weight * c.variances[j] for c in self.clusters)) for j in range(self.dim)]
        return [e if e.is_number else tidy(e) for e in entries]

    @property
    def noise_covariance(self) -> sp.Matrix:
        """S = sum_c pi_c diag(sigma_c^2) (d x d)."""
        return sp.diag(*self.noise_variances)

    @property
    def isotropic_variance(self) -> sp.Expr | None:
        """s^2 when S = s^2 I (THEORY.md section 2), else None."""
        first, *rest = self.noise_variances
        return first if all(is_zero(v - first) for v in rest) else None

    def subs(self, mapping) -> GMM:
        """The same model with symbols replaced (e.g. {rho: Rational(9, 10)})."""
        return GMM((Cluster(c.label, sp.sympify(c.weight).subs(mapping), c.mean.subs(mapping),
                            c.variances.subs(mapping), c.bias) for c in self.clusters), classes=self.classes)

    def __eq__(self, other) -> bool:
        if not isinstance(other, GMM):
            return NotImplemented
        return self.classes == other.classes and [c._key() for c in self.clusters] == \
            [c._key() for c in other.clusters]

    def __hash__(self) -> int:
        return hash((self.classes, tuple(c._key() for c in self.clusters)))

    def __repr__(self) -> str:
        """A ``GMM.from_arrays`` call that rebuilds an equal model, evaluated with GMM and sympy's Rational
        and Symbol in scope (so a failing Hypothesis example can be pasted back)."""
        p = _ReprPrinter()

        def shown_list(values):
            return "[" + ", ".join(p.doprint(sp.sympify(v)) for v in values) + "]"

        variances = []
        for c in self.clusters:
            iso = c.variances[0] if all(v == c.variances[0] for v in c.variances) else None
            variances.append(p.doprint(iso) if iso is not None else shown_list(c.variances))
        parts = [f"weights={shown_list(self.weights)}",
                 "means=[" + ", ".join(shown_list(c.mean) for c in self.clusters) + "]",
                 f"labels={self.labels!r}", "variances=[" + ", ".join(variances) + "]"]
        if any(b is not None for b in self.biases):
            parts.append(f"biases={self.biases!r}")
        if self.classes is not None:
            parts.append(f"classes={self.classes}")
        return "GMM.from_arrays(" + ", ".join(parts) + ")"


def _as_int(value):
    """Labels and biases given as numpy integers or floats (1.0) become Python ints; others stay (and fail
    validation with their own value in the message)."""
    if value is None or isinstance(value, bool):
        return value
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        return value
    return as_int if as_int == value else value


class _ReprPrinter(StrPrinter):
    """Python source for SymPy expressions that evaluates back to the same expression with only Rational and
    Symbol in scope: rationals as Rational(p, q), symbols with their assumptions, powers with Rational
    exponents (so sqrt(x) is x**Rational(1, 2)); integers stay Python ints."""

    def _print_Rational(self, expr):
        return str(expr.p) if expr.q == 1 else f"Rational({expr.p}, {expr.q})"

    def _print_Symbol(self, expr):
        kwargs = "".join(f", {k}={v!r}" for k, v in sorted(getattr(expr, "_assumptions_orig", {}).items()))
        return f"Symbol({expr.name!r}{kwargs})"

    def _print_Pow(self, expr, rational=False):
        exponent = expr.exp
        if exponent.is_Rational and exponent.q != 1:
            base = self._print(expr.base)
            if not expr.base.is_Atom or (expr.base.is_number and expr.base.is_negative):
                base = f"({base})"
            return f"{base}**{self._print_Rational(exponent)}"
        return super()._print_Pow(expr, rational=True)
