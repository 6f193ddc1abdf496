"""Group-aware training losses on outputs f (issue 14; docs/theory.md M1, M2).

Every loss here takes the outputs f (n,), the labels y in {-1, +1} (n,) and the group index g (n,) in
0..3, the four (label, bias) cells. They are the canonical clusters in theory.gmm's order: 0 = (+1, +1),
1 = (-1, -1) (bias-aligned), 2 = (+1, -1), 3 = (-1, +1) (bias-conflicting). Each loss returns
(value, gradient with respect to f). The value is a SUM over the samples, the convention of
numerics.training (1/2 ||f - Y||^2), so one gradient step of a kernel model moves the outputs by
-eta K grad. Group statistics come from the training set: n_g points in group g, priors pi_g = n_g / n.

The binary form of a multiclass logit loss: with two logits whose difference is f, the true-class logit
minus the other one is y f, so softmax cross-entropy is log(1 + exp(-y f)). Each margin-balancing loss
below is that form applied to an adjusted margin

    m_i = Delta_{g_i} y_i f_i + iota_{g_i}

(Delta: multiplicative, iota: additive); ``adjusted_logistic`` is the one implementation and
``adjusted_curvature`` the bound on its second derivative that sets a stable step.

Convention for the additive terms: iota_g is ADDED to the true-class margin. Logit adjustment
(Menon et al. 2021) adds tau log pi_g, which is negative, so a rare group must reach a larger raw margin
y f before its loss is as small as a common group's. LDAM (Cao et al. 2019) subtracts Delta_g =
C n_g^(-1/4) from the true-class logit: iota_g = -C n_g^(-1/4), again larger for rare groups. The
four cells play the role of the classes of those papers (the group-sensitive form of Kini et al. 2021).
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

#: the four (label, bias) cells = canonical clusters (theory.gmm order)
GROUPS = 4


def _inputs(f, y, g) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f, y, g = np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64), np.asarray(g)
    if f.ndim != 1 or y.shape != f.shape or g.shape != f.shape:
        raise ValueError(f"f, y and g must be 1-D of one length, got {f.shape}, {y.shape}, {g.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("f must be finite")
    if np.any((y != 1) & (y != -1)):
        raise ValueError("y must hold labels -1 and +1")
    if not np.issubdtype(g.dtype, np.integer) or np.any(g < 0) or np.any(g >= GROUPS):
        raise ValueError(f"g must hold integer group indices in 0..{GROUPS - 1}")
    return f, y, g


def group_counts(g) -> np.ndarray:
    """n_g, the number of training points in each of the four groups."""
    return np.bincount(np.asarray(g), minlength=GROUPS).astype(np.float64)


def group_priors(g) -> np.ndarray:
    """pi_g = n_g / n, the empirical group priors."""
    counts = group_counts(g)
    return counts / counts.sum()


def per_sample(values, g) -> np.ndarray:
    """Per-group values (4,) spread to the samples: values[g_i]."""
    return np.asarray(values, dtype=np.float64)[np.asarray(g)]


def importance_weights(g) -> np.ndarray:
    """Per-sample importance weights proportional to 1/pi_g (Byrd & Lipton 2019, "What is the effect of
    importance weighting in deep learning?"), normalized to mean 1 over the samples: w_i = n / (G n_{g_i}),
    G = the number of groups present. Each present group then carries total weight n / G: the weighted
    training set has balanced groups (rho = 1/2 in the canonical model). On a balanced set every w_i = 1."""
    counts = group_counts(g)
    present = np.count_nonzero(counts)
    with np.errstate(divide="ignore"):
        per_group = np.where(counts > 0, counts.sum() / (present * counts), 0.0)
    return per_sample(per_group, g)


def _weights(weights, f) -> np.ndarray:
    if weights is None:
        return np.ones_like(f)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != f.shape or np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"weights must be {f.size} finite numbers >= 0")
    return weights


def squared(f, y, g, *, gamma: float = 1.0, weights=None) -> tuple[float, np.ndarray]:
    """Squared loss to the targets gamma y: L = 1/2 sum_i w_i (f_i - gamma y_i)^2, gradient w_i (f_i - gamma y_i).

    Unweighted (w = 1), gradient descent from f_0 = 0 converges to kernel least squares, every training
    margin equal to gamma in interpolation (claims S3, I1). ``weights`` (per sample; e.g.
    ``importance_weights``) give the weighted loss of claim M2."""
    f, y, _ = _inputs(f, y, g)
    w = _weights(weights, f)
    residual = f - float(gamma) * y
    return float(0.5 * np.sum(w * residual ** 2)), w * residual


def adjusted_logistic(f, y, g, *, scale=None, offset=None, weights=None) -> tuple[float, np.ndarray]:
    """L = sum_i w_i log(1 + exp(-m_i)), m_i = Delta_{g_i} y_i f_i + iota_{g_i}; gradient
    -w_i Delta_{g_i} y_i sigmoid(-m_i). ``scale`` = Delta (4,) per group (default 1), ``offset`` = iota (4,)
    per group (default 0), ``weights`` per sample (default 1). Every margin loss of this module is a case."""
    f, y, g = _inputs(f, y, g)
    delta = per_sample(np.ones(GROUPS) if scale is None else scale, g)
    iota = per_sample(np.zeros(GROUPS) if offset is None else offset, g)
    w = _weights(weights, f)
    margin = delta * y * f + iota
    return float(np.sum(w * np.logaddexp(0.0, -margin))), -w * delta * y * expit(-margin)


def adjusted_curvature(*, scale=None, weights=None) -> float:
    """A bound on every second derivative d^2 L / d f_i^2 of ``adjusted_logistic``: the logistic
    function's curvature is sigmoid (1 - sigmoid) <= 1/4, times Delta^2 w. A step eta < 2 / (this *
    lambda_max(K)) is then stable for the kernel model f = K alpha (the loss is this smooth in f)."""
    delta = 1.0 if scale is None else float(np.max(np.abs(scale)))
    w = 1.0 if weights is None else float(np.max(weights))
    return 0.25 * delta ** 2 * w


def logistic(f, y, g, *, weights=None) -> tuple[float, np.ndarray]:
    """Logistic loss L = sum_i w_i log(1 + exp(-y_i f_i)). On linearly separable data gradient descent from 0
    diverges in norm and its DIRECTION converges to the hard-margin SVM's, at rate 1/log t (Soudry, Hoffer,
    Nacson, Gunasekar & Srebro 2018, "The implicit bias of gradient descent on separable data"). With
    ``weights`` ∝ 1/pi_g it is importance-weighted (Byrd & Lipton 2019): the weights change the residual
    of that direction, not its limit."""
    return adjusted_logistic(f, y, g, weights=weights)


def ldam_margins(g, *, C: float | None = None, largest: float = 0.5) -> np.ndarray:
    """LDAM's per-group margins Delta_g = C n_g^(-1/4) (Cao, Wei, Gaidon, Arechiga & Ma 2019, "Learning
    imbalanced datasets with label-distribution-aware margin loss"). C defaults to the paper's rule: the
    largest margin (that of the rarest group) equals ``largest`` (1/2 in the paper). A group with no point gets 0."""
    counts = group_counts(g)
    present = counts > 0
    if C is None:
        C = float(largest) * counts[present].min() ** 0.25
    return np.where(present, float(C) * np.where(present, counts, 1.0) ** -0.25, 0.0)


def ldam_offsets(g, *, C: float | None = None, largest: float = 0.5) -> np.ndarray:
    """iota_g = -Delta_g: LDAM's margin enters the true-class margin y f with a minus sign (subtracted from the
    true-class logit; the one place this sign is written, used by ``ldam`` and numerics.margin_control)."""
    return -ldam_margins(g, C=C, largest=largest)


def ldam(f, y, g, *, C: float | None = None, largest: float = 0.5, weights=None) -> tuple[float, np.ndarray]:
    """LDAM loss (Cao et al. 2019), binary form: L = sum_i log(1 + exp(-(y_i f_i - Delta_{g_i}))), the margin
    Delta_g = C n_g^(-1/4) (``ldam_margins``) SUBTRACTED from the true-class logit y f: a point's loss is
    log 2 exactly when y f = Delta_g, so rare groups are pushed to larger margins. (The paper also scales the
    logits by s; here s = 1.)"""
    return adjusted_logistic(f, y, g, offset=ldam_offsets(g, C=C, largest=largest), weights=weights)


def logit_adjustments(g, *, tau: float = 1.0) -> np.ndarray:
    """iota_g = tau log pi_g (<= 0), the additive logit adjustment by log group priors (Menon, Jayasumana,
    Rawat, Jain, Veit & Kumar 2021, "Long-tail learning via logit adjustment"). A group with no point gets 0."""
    priors = group_priors(g)
    with np.errstate(divide="ignore"):
        return np.where(priors > 0, float(tau) * np.log(np.where(priors > 0, priors, 1.0)), 0.0)


def logit_adjusted(f, y, g, *, tau: float = 1.0, weights=None) -> tuple[float, np.ndarray]:
    """Logit-adjusted loss (Menon et al. 2021), binary and per group: L = sum_i log(1 + exp(-(y_i f_i +
    tau log pi_{g_i}))). The true-class margin is shifted by tau log pi_g <= 0 (``logit_adjustments``): a
    rare group's loss falls only once its raw margin exceeds tau |log pi_g|. Additive: on separable data the
    shift is a constant that the diverging ||w|| makes irrelevant, so the direction still tends to the
    plain max-margin one (Kini et al. 2021; claim M2)."""
    return adjusted_logistic(f, y, g, offset=logit_adjustments(g, tau=tau), weights=weights)


def vs_scales(g, *, gamma_vs: float = 0.3) -> np.ndarray:
    """Delta_g = (n_g / n_max)^gamma_vs in (0, 1], the multiplicative logit scale of the VS loss: rare
    groups get a smaller Delta. A group with no point gets 1."""
    counts = group_counts(g)
    return np.where(counts > 0, (np.where(counts > 0, counts, 1.0) / counts.max()) ** float(gamma_vs), 1.0)


def vs(f, y, g, *, gamma_vs: float = 0.3, tau: float = 1.0, weights=None) -> tuple[float, np.ndarray]:
    """Vector-scaling (VS) loss (Kini, Paraskevas, Oymak & Thrampoulidis 2021, "Label-imbalanced and
    group-sensitive classification under overparameterization"), binary and per group:
    L = sum_i log(1 + exp(-(Delta_{g_i} y_i f_i + iota_{g_i}))), Delta_g = (n_g / n_max)^gamma_vs (``vs_scales``),
    iota_g = tau log pi_g (``logit_adjustments``). The multiplicative Delta changes the limit of gradient
    descent on separable data: the direction tends to argmax_w min_i Delta_{g_i} y_i w.x_i, the max-margin
    problem whose group-g margins must reach 1 / Delta_g (a hard-margin SVM on the rescaled points
    Delta_{g_i} x_i); the additive iota's effect vanishes (claim M2)."""
    return adjusted_logistic(f, y, g, scale=vs_scales(g, gamma_vs=gamma_vs), offset=logit_adjustments(g, tau=tau),
                             weights=weights)


def group_losses(f, y, g, *, scale=None, offset=None) -> np.ndarray:
    """The mean (adjusted) logistic loss of each group (4,), 0 for an empty group: the L_g of group DRO."""
    f, y, g = _inputs(f, y, g)
    margin = per_sample(np.ones(GROUPS) if scale is None else scale, g) * y * f \
        + per_sample(np.zeros(GROUPS) if offset is None else offset, g)
    sums = np.bincount(g, weights=np.logaddexp(0.0, -margin), minlength=GROUPS)
    counts = group_counts(g)
    return np.divide(sums, counts, out=np.zeros(GROUPS), where=counts > 0)


def dro_weights_step(q, losses, *, eta_q: float) -> np.ndarray:
    """One exponentiated-gradient ascent step on the group weights of group DRO (Sagawa, Koh, Hashimoto &
    Liang 2020, "Distributionally robust neural networks for group shifts", Algorithm 1):
    q_g <- q_g exp(eta_q L_g), renormalized to sum 1 (over the groups that have points)."""
    q = np.asarray(q, dtype=np.float64) * np.exp(float(eta_q) * (np.asarray(losses) - np.max(losses)))
    return q / q.sum()


def dro_start(g) -> np.ndarray:
    """The initial group-DRO weights: uniform over the groups that have points."""
    present = (group_counts(g) > 0).astype(np.float64)
    return present / present.sum()


def group_dro(f, y, g, q) -> tuple[float, np.ndarray]:
    """Group DRO's objective at group weights q (Sagawa et al. 2020): L = n sum_g q_g L_g, L_g = the group's
    mean logistic loss (``group_losses``). The factor n puts it on this module's sum scale: at uniform q on a
    balanced set it is the plain logistic sum, and at uniform q in general its per-sample weights n q_g / n_g
    are ``importance_weights``. Gradient: n q_{g_i} / n_{g_i} times the logistic gradient. The paper's l2
    penalty lambda/2 ||w||^2 acts on the parameters (for a kernel model the RKHS norm alpha^T K alpha): it is
    the trainer's ``l2`` (numerics.margin_control), and the weights q move by ``dro_weights_step``."""
    f, y, g = _inputs(f, y, g)
    counts = group_counts(g)
    per_group = np.divide(f.size * np.asarray(q, dtype=np.float64), counts, out=np.zeros(GROUPS), where=counts > 0)
    return adjusted_logistic(f, y, g, weights=per_sample(per_group, g))


def dro_curvature(q, g) -> float:
    """The curvature bound of ``group_dro`` at weights q: 1/4 max_g n q_g / n_g."""
    counts = group_counts(g)
    per_group = np.divide(counts.sum() * np.asarray(q, dtype=np.float64), counts, out=np.zeros(GROUPS), where=counts > 0)
    return 0.25 * float(per_group.max())
