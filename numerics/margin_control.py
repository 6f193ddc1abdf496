"""Margin-controlling training of linear and kernel (NTK) models, and the hard-margin SVM (issue 14;
docs/theory.md M1, M2).

Trainers. Full-batch gradient descent from zero on any loss of numerics.losses:

  * ``train_linear``: the linear model f(x) = w.x, w <- w - eta (X^T dL/df + n lambda w) in R^d;
  * ``train_kernel``: a kernel model f = k(., X) alpha with the NTK as kernel (linear_ntk, relu_ntk),
    alpha <- alpha - eta (dL/df + n lambda alpha). This IS gradient descent on the weights of the kernel's
    feature map phi, w = Phi^T alpha (w <- w - eta Phi^T (dL/df + n lambda alpha)), so with K = X X^T it equals
    ``train_linear`` with w = X^T alpha at every step: the iterates stay in the row space of X (claim M2).

lambda is a method's l2 penalty (Method.l2). The step is eta = eta_fraction / (c lambda_max(K) + n lambda), c the
loss's curvature bound in f
(numerics.losses.adjusted_curvature): stable for eta_fraction < 2.

SVM. ``svm_on_gram`` is scikit-learn's SVC(kernel="precomputed") with a large C (libsvm's dual solver;
no QP is written here), and ``kkt_residuals`` certifies that the answer is the hard-margin one: every
training margin >= 1, the support vectors' margins = 1, and no multiplier at the box bound C (a
multiplier at C is a soft-margin point: the solution no longer solves the hard-margin problem).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from numerics import losses
from numerics import tolerances as tol
from numerics.validation import check_steps


# ---- methods ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """A training objective of numerics.losses with its options, fixed before the data are seen.

    loss: "squared", "logistic", "ldam", "logit_adjusted", "vs" or "group_dro". options: the loss's
    keyword options as (name, value) pairs. importance: per-sample weights ∝ 1/pi_g
    (losses.importance_weights). l2: the penalty lambda/2 ||w||^2 of the MEAN-loss objective (Sagawa et al.'s
    convention), i.e. n lambda/2 ||w||^2 on this suite's sum scale (numerics.losses); for a kernel model
    ||w||^2 = alpha^T K alpha, the RKHS norm. eta_q: group DRO's step on its group weights."""

    name: str
    loss: str
    options: tuple = ()
    importance: bool = False
    l2: float = 0.0
    eta_q: float = 0.0

    def objective(self, y, g) -> Objective:
        """The objective on one training set: its per-sample weights and group terms, computed once from the
        set's group counts with numerics.losses' own helpers (tests check it equals the losses' functions)."""
        y, g = np.asarray(y, dtype=np.float64), np.asarray(g)
        options = dict(self.options)
        weights = losses.importance_weights(g) if self.importance else np.ones(y.size)
        scale, offset = np.ones(losses.GROUPS), np.zeros(losses.GROUPS)
        if self.loss == "squared":
            return Objective(self, y, g, weights, float(np.max(weights)), gamma=float(options.get("gamma", 1.0)))
        if self.loss == "group_dro":
            q = losses.dro_start(g)
            return Objective(self, y, g, weights, losses.dro_curvature(q, g), q=q)
        if self.loss == "ldam":
            offset = losses.ldam_offsets(g, **options)
        elif self.loss == "logit_adjusted":
            offset = losses.logit_adjustments(g, **options)
        elif self.loss == "vs":
            scale = losses.vs_scales(g, gamma_vs=options.get("gamma_vs", 0.3))
            offset = losses.logit_adjustments(g, tau=options.get("tau", 1.0))
        elif self.loss != "logistic":
            raise ValueError(f"loss must be one of squared, logistic, ldam, logit_adjusted, vs, group_dro; "
                             f"got {self.loss!r}")
        return Objective(self, y, g, weights, losses.adjusted_curvature(scale=scale, weights=weights),
                         scale=losses.per_sample(scale, g), offset=losses.per_sample(offset, g))


@dataclass
class Objective:
    """A method's loss on one training set (per-sample weights, scales Delta and offsets iota precomputed):
    ``gradient(f)`` -> (value, dL/df), the same numbers as the numerics.losses function of the method.
    Group DRO moves its weights q by one exponentiated-gradient step per call, before the gradient (Sagawa
    et al.'s Algorithm 1)."""

    method: Method
    y: np.ndarray
    g: np.ndarray
    weights: np.ndarray
    curvature: float
    gamma: float = 1.0
    scale: np.ndarray | None = None
    offset: np.ndarray | None = None
    q: np.ndarray | None = None

    @property
    def penalty(self) -> float:
        """The coefficient n lambda of the sum-scale penalty (n lambda / 2) ||w||^2."""
        return self.y.size * self.method.l2

    def gradient(self, f) -> tuple[float, np.ndarray]:
        if self.method.loss == "squared":
            residual = f - self.gamma * self.y
            return float(0.5 * np.sum(self.weights * residual ** 2)), self.weights * residual
        if self.method.loss == "group_dro":       # losses.group_losses, dro_weights_step and group_dro, inlined
            counts = np.bincount(self.g, minlength=losses.GROUPS).astype(np.float64)
            pointwise = np.logaddexp(0.0, -self.y * f)
            group = np.divide(np.bincount(self.g, weights=pointwise, minlength=losses.GROUPS), counts,
                              out=np.zeros(losses.GROUPS), where=counts > 0)
            self.q = losses.dro_weights_step(self.q, group, eta_q=self.method.eta_q)
            per_group = f.size * np.divide(self.q, counts, out=np.zeros(losses.GROUPS), where=counts > 0)
            self.curvature = 0.25 * float(per_group.max())           # losses.dro_curvature at the new q
            weights = per_group[self.g]
            return float(np.sum(weights * pointwise)), -weights * self.y * expit(-self.y * f)
        margin = self.scale * self.y * f + self.offset
        return (float(np.sum(self.weights * np.logaddexp(0.0, -margin))),
                -self.weights * self.scale * self.y * expit(-margin))


#: The margin-controlling methods of claim M1, with the hyperparameters of their papers' defaults:
#: LDAM's largest margin 1/2 (Cao et al.), logit adjustment tau = 1 (Menon et al.), VS gamma = 0.3 with
#: tau = 1 (Kini et al.'s range 0.05-0.5), group DRO's step eta_q = 0.01 (Sagawa et al.) with an l2 penalty
#: lambda = 0.1 on the mean loss (their "strong" penalties are 0.1-1; here it keeps the training margins O(1)).
METHODS = {
    "squared": Method("squared", "squared", (("gamma", 1.0),)),
    "logistic": Method("logistic", "logistic"),
    "importance_weighted": Method("importance_weighted", "logistic", importance=True),
    "ldam": Method("ldam", "ldam", (("largest", 0.5),)),
    "logit_adjusted": Method("logit_adjusted", "logit_adjusted", (("tau", 1.0),)),
    "vs": Method("vs", "vs", (("gamma_vs", 0.3), ("tau", 1.0))),
    "group_dro": Method("group_dro", "group_dro", l2=0.1, eta_q=0.01),
}


# ---- trainers ---------------------------------------------------------------------------------
def step_rule(K, objective: Objective, eta_fraction: float) -> Callable[[], float]:
    """The step at the objective's CURRENT curvature, eta = eta_fraction / (curvature lambda_max(K) + n lambda): the
    loss is ``curvature``-smooth in f, so L(alpha) is (curvature lambda_max + n lambda)-smooth along the kernel model's
    gradient flow. lambda_max(K) is computed once; group DRO's curvature moves with its q, every other objective's is
    fixed. Shared by the numpy trainers (``_descend``) and numerics.network_margins.train_network."""
    if not (np.isfinite(eta_fraction) and 0 < eta_fraction < 2):
        raise ValueError(f"eta_fraction must lie in (0, 2) for a stable step, got {eta_fraction!r}")
    top = float(np.linalg.eigvalsh(np.asarray(K, dtype=np.float64))[-1])
    return lambda: float(eta_fraction) / (objective.curvature * top + objective.penalty)


def step_size(K, objective: Objective, eta_fraction: float) -> float:
    """The step of ``step_rule`` at the objective's curvature now (before any group DRO update)."""
    return step_rule(K, objective, eta_fraction)()


def _record(steps: int, record) -> set:
    check_steps(steps)
    record = {steps} if record is None else set(record)
    if any(not 0 <= t <= steps for t in record):
        raise ValueError(f"record must hold steps in [0, {steps}], got {sorted(record)}")
    return record


@dataclass(frozen=True)
class Trained:
    """Iterates of a trainer: {t: alpha_t} (kernel) or {t: w_t} (linear), the step, and group DRO's final q."""

    iterates: dict
    eta: float
    q: np.ndarray | None

    @property
    def final(self) -> np.ndarray:
        return self.iterates[max(self.iterates)]


def _descend(outputs, pullback, gram, size: int, y, g, method: Method, steps: int, record, eta_fraction: float,
             model: str) -> Trained:
    """Full-batch gradient descent from 0 on parameters theta (``size`` of them) with f = outputs(theta) and
    dL/dtheta = pullback(dL/df), step ``step_rule(gram, ...)`` where gram = J J^T is the kernel of the map;
    group DRO re-derives the step from its current curvature each step. One loop for both trainers."""
    y, g = np.asarray(y, dtype=np.float64), np.asarray(g)
    record = _record(steps, record)
    objective = method.objective(y, g)
    step = step_rule(gram, objective, eta_fraction)
    eta = step()
    theta = np.zeros(size)
    iterates = {}
    for t in range(steps + 1):
        if t in record:
            iterates[t] = theta.copy()
        if t == steps:
            break
        _, grad = objective.gradient(outputs(theta))
        eta = step()                        # group DRO: the curvature at the q this gradient moved to
        theta = theta - eta * (pullback(grad) + objective.penalty * theta)
        if not np.all(np.isfinite(theta)):
            raise FloatingPointError(f"{model} diverged at step {t}")
    return Trained(iterates, eta, objective.q)


def train_kernel(K, y, g, method: Method, *, steps: int, record=None, eta_fraction: float = 1.0) -> Trained:
    """Kernel gradient descent from alpha = 0 on f = K alpha (module docstring): returns {t: alpha_t} for
    t in ``record`` (default: the last step). Raises FloatingPointError on a non-finite iterate."""
    K = np.asarray(K, dtype=np.float64)
    return _descend(lambda alpha: K @ alpha, lambda grad: grad, K, K.shape[0], y, g, method, steps, record,
                    eta_fraction, "kernel gradient descent")


def train_linear(X, y, g, method: Method, *, steps: int, record=None, eta_fraction: float = 1.0) -> Trained:
    """Gradient descent from w = 0 on f(x) = w.x, in R^d (module docstring), with the same step as
    ``train_kernel`` on K = X X^T: returns {t: w_t}."""
    X = np.asarray(X, dtype=np.float64)
    return _descend(lambda w: X @ w, lambda grad: X.T @ grad, X @ X.T, X.shape[1], y, g, method, steps, record,
                    eta_fraction, "gradient descent")


# ---- the hard-margin SVM ------------------------------------------------------------------------
@dataclass(frozen=True)
class SVMSolution:
    """f = K alpha + intercept on the training points (alpha_i = y_i a_i). multipliers: the dual variables
    a_i >= 0 of the real points; bound_fraction: the largest libsvm multiplier over its box bound C."""

    coefficients: np.ndarray
    intercept: float
    multipliers: np.ndarray
    C: float
    bound_fraction: float
    margins: np.ndarray            # y_i f(x_i) on the training points
    intercept_fitted: bool
    allowance: float               # the KKT residuals' rounding allowance (tolerances.svm_kkt_allowance)

    @property
    def support(self) -> np.ndarray:
        return self.multipliers > 0


def svm_on_gram(K, y, *, C: float = tol.SVM_HARD_C, intercept: bool = True, svm_tol: float = tol.SVM_SOLVER_TOL) -> SVMSolution:
    """The hard-margin SVM on the Gram K of the training points, by scikit-learn's SVC(kernel="precomputed").

    intercept=True: the standard SVM, f = k(., X) alpha + b with b free (libsvm always fits one).
    intercept=False: the SVM through the origin, f = k(., X) alpha, for an ODD kernel (k(x, -x') = -k(x, x'),
    e.g. linear_ntk): it is fitted on the mirrored set {y_i x_i: +1} u {-y_i x_i: -1}, whose Gram follows
    from K, and whose optimal intercept is 0 by symmetry (numerics.training.hard_margin_svm's device). For
    the bias-free ReLU NTK the mirror would keep only the kernel's odd part, which is x.x'/(2d) (claim P1):
    the linear SVM. So a ReLU NTK SVM must keep its intercept."""
    from sklearn.svm import SVC

    K, y = np.asarray(K, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = y.size
    if K.shape != (n, n):
        raise ValueError(f"K must be {n} x {n}, got {K.shape}")
    if intercept:
        svc = SVC(kernel="precomputed", C=C, tol=svm_tol).fit(K, y)
        a = np.zeros(n)
        a[svc.support_] = np.abs(svc.dual_coef_[0])
        b = float(svc.intercept_[0])
        bound = float(np.max(a) / C)
    else:
        Kz = np.outer(y, y) * K
        mirrored = np.block([[Kz, -Kz], [-Kz, Kz]])
        labels = np.concatenate([np.ones(n), -np.ones(n)])
        svc = SVC(kernel="precomputed", C=C, tol=svm_tol).fit(mirrored, labels)
        both = np.zeros(2 * n)
        both[svc.support_] = np.abs(svc.dual_coef_[0])
        a = both[:n] + both[n:]
        b = 0.0                                   # exactly 0 at the optimum; libsvm's estimate is ~svm_tol
        bound = float(np.max(both) / C)
    alpha = y * a
    return SVMSolution(alpha, b, a, float(C), bound, y * (K @ alpha + b), intercept,
                       tol.svm_kkt_allowance(a, K, svm_tol))


@dataclass(frozen=True)
class KKTResiduals:
    """The hard-margin KKT conditions of an SVMSolution, as residuals (each 0 at the exact solution).

    primal: max(0, 1 - min_i y_i f(x_i)) (every training margin >= 1); support: max over support vectors
    of |y_i f(x_i) - 1| (complementary slackness); bound: the largest multiplier / C (must stay far below
    1: a multiplier at C is a soft-margin point); balance: |sum_i a_i y_i| / sum_i a_i (the intercept's
    stationarity condition; 0 by construction without one)."""

    primal: float
    support: float
    bound: float
    balance: float
    allowance: float               # the rounding allowance of primal and support (tolerances.svm_kkt_allowance)


def kkt_residuals(svm: SVMSolution, y) -> KKTResiduals:
    y = np.asarray(y, dtype=np.float64)
    margins = svm.margins
    support = svm.support
    balance = float(abs(np.sum(svm.multipliers * y)) / np.sum(svm.multipliers)) if svm.intercept_fitted else 0.0
    return KKTResiduals(float(max(0.0, 1 - margins.min())),
                        float(np.max(np.abs(margins[support] - 1))) if support.any() else np.inf,
                        svm.bound_fraction, balance, svm.allowance)
