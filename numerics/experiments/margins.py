"""Experiments for claims M1 and M2: margin control by real methods, and the reweighting contrast
(docs/theory.md M1, M2; issue 14).

Data: the canonical 4-cluster model with EXACT counts (numerics.experiments.relu.canonical_sample): two rho
values on one seed share their noise rows. Groups = clusters (numerics.losses).

Linear model (interpolation, d > n): per-coordinate noise sigma^2 = s2 n / d, so that s2 is the effective
ridge d sigma^2 / n of claim S3 whatever d/n. Its fresh-point statistics are EXACT expectations: f is
linear, so a cluster's mean margin is y_c f(mu_c), and y f(x) ~ N(y_c f(mu_c), sigma^2 ||w||^2) on cluster c
(the noise is isotropic), so the cluster's accuracy is Phi(y_c f(mu_c) / (sigma ||w||)).

Kernel model (the ReLU NTK, n > d): statistics over a fresh balanced test set (relu.balanced_probe).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
from scipy.special import ndtr

from numerics import losses
from numerics import tolerances as tol
from numerics.data import MixtureArrays
from numerics.experiments.relu import ALIGNED, balanced_probe, canonical_sample
from numerics.experiments.resnet import network, train_and_test
from numerics.kernels import linear_ntk, relu_ntk
from numerics.margin_control import METHODS, KKTResiduals, Method, kkt_residuals, step_size, svm_on_gram, train_kernel, train_linear
from numerics.models import TwoLayerReLU
from numerics.network_margins import train_network
from numerics.structured_ntk import structured_gram
from numerics.training import min_norm_interpolant
from theory.gmm import GMM

#: Gradient-descent steps of M1's trained methods (eta = 1 / (curvature lambda_max)): see margin_methods.
M1_STEPS = 2000


@dataclass(frozen=True)
class MethodMargins:
    """One method trained on one sample: its margins on training and fresh test points.

    ``gap`` is claim M1's quantity: (mean aligned - mean conflicting test margin) / mean training margin."""

    method: str
    rho: float
    train_margins: np.ndarray        # y_i f(x_i)
    aligned: float                   # mean y f(x) over fresh aligned points (raw units)
    conflicting: float               # mean y f(x) over fresh conflicting points (raw units)
    conflicting_accuracy: float      # P(y f(x) > 0) on fresh conflicting points
    aligned_accuracy: float
    bias_ratio: float                # the effective bias weight: linear w_bias / w_core; else effective_bias_weight
    kkt: KKTResiduals | None = None  # the SVM's KKT residuals (None for trained methods)

    @property
    def mean_train_margin(self) -> float:
        return float(np.mean(self.train_margins))

    @property
    def gap(self) -> float:
        return (self.aligned - self.conflicting) / self.mean_train_margin

    @property
    def normalized_conflicting(self) -> float:
        return self.conflicting / self.mean_train_margin


def _linear_statistics(method: str, rho, w, X, y, gmm: GMM, sigma2: float, kkt=None) -> MethodMargins:
    arrays = MixtureArrays.from_gmm(gmm)
    means = arrays.labels * (arrays.means @ w)
    accuracy = ndtr(means / (np.sqrt(sigma2) * np.linalg.norm(w)))
    return MethodMargins(method, float(rho), y * (X @ w), float(means[ALIGNED].mean()), float(means[~ALIGNED].mean()),
                         float(accuracy[~ALIGNED].mean()), float(accuracy[ALIGNED].mean()), float(w[1] / w[0]), kkt)


def linear_sample(alpha, beta, rho, s2, *, n: int, d: int, seed: int):
    """(GMM, sample, sigma^2) of the linear interpolation regime: canonical, d > n, sigma^2 = s2 n / d."""
    if n >= d:
        raise ValueError(f"d must exceed n (interpolation), got n = {n}, d = {d}")
    sigma2 = Fraction(s2) * n / d
    gmm = GMM.canonical(alpha, beta, rho, sigma2, dim=d)
    return gmm, canonical_sample(alpha, beta, rho, sigma2, n=n, dim=d, seed=seed), float(sigma2)


def linear_margins(alpha, beta, rho, s2, *, n: int, d: int, seed: int, methods=tuple(METHODS), steps: int = M1_STEPS,
                   svm: bool = True) -> dict[str, MethodMargins]:
    """Every method of ``methods`` (numerics.margin_control.METHODS) and the hard-margin SVM through the
    origin, trained on ONE sample (like for like), as MethodMargins of the linear model f = w.x.
    Training runs in the row space (train_kernel on K = X X^T, w = X^T alpha: the same iterates as
    train_linear, test_m2_reweighting checks it)."""
    gmm, sample, sigma2 = linear_sample(alpha, beta, rho, s2, n=n, d=d, seed=seed)
    K = linear_ntk(sample.X)
    results = {}
    for name in methods:
        trained = train_kernel(K, sample.y, sample.cluster, METHODS[name], steps=steps)
        results[name] = _linear_statistics(name, rho, sample.X.T @ trained.final, sample.X, sample.y, gmm, sigma2)
    if svm:
        solution = svm_on_gram(K, sample.y, intercept=False)
        results["svm"] = _linear_statistics("svm", rho, sample.X.T @ solution.coefficients, sample.X, sample.y, gmm,
                                            sigma2, kkt_residuals(solution, sample.y))
    return results


def effective_bias_weight(outputs, y, aligned) -> float:
    """The effective bias weight of a nonlinear model on a BALANCED probe: <f, b> / <f, y>, b the bias attribute
    (b = y on aligned points, -y on conflicting ones). On a balanced probe y and b are orthogonal, so these are the
    output's components along the two attributes; with g_A = y 1[aligned], g_C = y 1[conflicting] (y = g_A + g_C,
    b = g_A - g_C) it is (<f, g_A> - <f, g_C>) / (<f, g_A> + <f, g_C>): 0 when f correlates with g_A and g_C alike.
    For f = w.x on the canonical model's cluster means it is beta w_bias / (alpha w_core) (claim M1)."""
    outputs, y = np.asarray(outputs, dtype=np.float64), np.asarray(y, dtype=np.float64)
    b = np.where(aligned, y, -y)
    return float(np.dot(outputs, b) / np.dot(outputs, y))


def _probe_statistics(method: str, rho, train_y, train_outputs, test_y, test_aligned, test_outputs,
                      kkt=None) -> MethodMargins:
    margin = test_y * test_outputs
    return MethodMargins(method, float(rho), train_y * train_outputs, float(margin[test_aligned].mean()),
                         float(margin[~test_aligned].mean()), float(np.mean(margin[~test_aligned] > 0)),
                         float(np.mean(margin[test_aligned] > 0)),
                         effective_bias_weight(test_outputs, test_y, test_aligned), kkt)


def _kernel_statistics(method: str, rho, train_outputs, test_outputs, train, test, kkt=None) -> MethodMargins:
    return _probe_statistics(method, rho, train.y, train_outputs, test.y, ALIGNED[test.cluster], test_outputs, kkt)


def kernel_margins(alpha, beta, rho, var, *, n: int, dim: int, seed: int, test_per_cluster: int = 200,
                   kernel=relu_ntk, methods=tuple(METHODS), steps: int = M1_STEPS, svm: bool = True) -> dict[str, MethodMargins]:
    """The same for a kernel model f = k(., X) alpha with the NTK as kernel (default: the two-layer ReLU NTK,
    claim R1), and the hard-margin SVM with that kernel precomputed (with its intercept: svm_on_gram). Test
    points: a balanced probe from seed + 1 (numerics.experiments.relu.train_and_probe's convention)."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seed + 1)
    K, K_test = kernel(train.X), kernel(test.X, train.X)
    results = {}
    for name in methods:
        coefficients = train_kernel(K, train.y, train.cluster, METHODS[name], steps=steps).final
        results[name] = _kernel_statistics(name, rho, K @ coefficients, K_test @ coefficients, train, test)
    if svm:
        solution = svm_on_gram(K, train.y, intercept=True)
        results["svm"] = _kernel_statistics("svm", rho, K @ solution.coefficients + solution.intercept,
                                            K_test @ solution.coefficients + solution.intercept, train, test,
                                            kkt_residuals(solution, train.y))
    return results


# ---- M1 on trained networks -------------------------------------------------------------------------
#: the methods trained on the networks by default: the squared loss, logistic, importance-weighted logistic and
#: LDAM (a margin-balancing loss); the issue's minimum for the ResNet-18
NETWORK_METHODS = ("squared", "logistic", "importance_weighted", "ldam")


def relu_network_margins(alpha, beta, rho, var, *, n: int, dim: int, seed: int, width: int, steps: int,
                         test_per_cluster: int = 200, methods=NETWORK_METHODS) -> dict[str, MethodMargins]:
    """Every method of ``methods`` trained on ONE canonical sample (numerics.experiments.relu.train_and_probe's
    convention) by numerics.network_margins.train_network, each from the SAME initialization: an antisymmetric
    TwoLayerReLU(dim, width, seed) (f_0 = 0), step from the two-layer ReLU NTK's Gram (the network's infinite-width
    NTK, claim R1). Statistics on the balanced probe, with the effective bias weight."""
    train = canonical_sample(alpha, beta, rho, var, n=n, dim=dim, seed=seed)
    test = balanced_probe(alpha, beta, var, per_cluster=test_per_cluster, dim=dim, seed=seed + 1)
    X, probe, gram = torch.tensor(train.X), torch.tensor(test.X), relu_ntk(train.X)
    results = {}
    for name in methods:
        model = TwoLayerReLU(dim, width, seed=seed, antisymmetric=True)
        trained = train_network(model, X, train.y, train.cluster, METHODS[name], gram=gram, steps=steps, probe=probe)
        results[name] = _kernel_statistics(name, rho, trained.train_outputs, trained.probe_outputs, train, test)
    return results


#: the ResNet's step fraction (eta = this / (c lambda_max(K_0))): the eval-mode ResNet-18 at width 8-16 is far from lazy,
#: its NTK moves during training, and the linearized bound (< 2) is not enough: at 1 and 1/2 the logistic and LDAM runs
#: diverged within 5-50 steps for 2 of 4 seeds (width 8 and 16, n = 64); at 1/4 LDAM collapsed (mean training margin
#: 0.01) for 1 of 9 seeds at width 16; at 1/8 it fitted (min margin 5.5), and every method but importance weighting
#: fitted its training set for seeds 0-7 at n = 48 and 64.
RESNET_ETA_FRACTION = 0.125


def resnet_margins(rho, *, seed: int, setting, steps: int, methods=NETWORK_METHODS,
                   eta_fraction: float = RESNET_ETA_FRACTION) -> dict[str, MethodMargins]:
    """The same on the ResNet-18 and colored digits (numerics.experiments.resnet: ``setting`` a DigitsSetting, the
    network resnet18(seed) in eval mode, groups = the (label, colour) clusters): every method from the same
    initialization on the same training images, step from the exact NTK Gram at initialization
    (numerics.structured_ntk), statistics on the balanced test images."""
    train, test = train_and_test(rho, seed=seed, setting=setting)
    y, y_test = (d.y.cpu().numpy().astype(np.float64) for d in (train, test))
    gram = structured_gram(network(setting, seed), train.images).cpu().numpy()
    results = {}
    for name in methods:
        trained = train_network(network(setting, seed), train.images, y, train.cluster, METHODS[name], gram=gram,
                                steps=steps, probe=test.images, eta_fraction=eta_fraction)
        results[name] = _probe_statistics(name, rho, y, trained.train_outputs, y_test, test.aligned,
                                          trained.probe_outputs)
    return results


# ---- M1: support-vector proliferation ----------------------------------------------------------------
@dataclass(frozen=True)
class Proliferation:
    """The hard-margin SVM through the origin against the min-norm solution w = X^+ y (the interpolant for d >= n, the
    least-squares fit for d < n) on the same samples, at each d/n: the cosine of the two weight vectors, the fraction
    of training points that are support vectors (multiplier > 0), the SVM's KKT residuals, cond(X X^T) (inf for d < n)
    and both predictors' normalized gaps (exact expectations of the linear model)."""

    ratios: tuple
    cosine: np.ndarray
    support_fraction: np.ndarray
    kkt: tuple
    condition: np.ndarray
    gap_svm: np.ndarray
    gap_min_norm: np.ndarray


def svm_proliferation(alpha, beta, rho, var, *, n: int, ratios, seed: int) -> Proliferation:
    """Claim M1, support-vector proliferation (Muthukumar, Narang, Subramanian, Belkin, Hsu & Sahai 2021; Hsu,
    Muthukumar & Xu 2021): the canonical model with a FIXED per-coordinate noise variance ``var`` in dimension
    d = ratio n, n training points (exact counts, one seed). If every training point is a support vector, complementary
    slackness puts every margin at 1, so X w = y with w = X^T alpha in the row space: w IS the min-norm interpolant and
    the cosine is 1. Hsu et al. show this happens with high probability once the isotropic noise dominates and
    d >> n log n; for d < n at most d points of a generic sample can sit on the margin (the SVM through the origin has
    at most d support vectors), so the two differ there."""
    rows = []
    for ratio in ratios:
        d = int(round(ratio * n))
        gmm = GMM.canonical(alpha, beta, rho, var, dim=d)
        sample = canonical_sample(alpha, beta, rho, var, n=n, dim=d, seed=seed)
        K = linear_ntk(sample.X)
        svm = svm_on_gram(K, sample.y, intercept=False)
        w_svm, w_min = sample.X.T @ svm.coefficients, min_norm_interpolant(sample.X, sample.y)
        eig = np.linalg.eigvalsh(K)
        rows.append((float(w_svm @ w_min / (np.linalg.norm(w_svm) * np.linalg.norm(w_min))), float(np.mean(svm.support)),
                     kkt_residuals(svm, sample.y), float(eig[-1] / eig[0]) if d >= n else np.inf,
                     _linear_statistics("svm", rho, w_svm, sample.X, sample.y, gmm, float(var)).gap,
                     _linear_statistics("min-norm", rho, w_min, sample.X, sample.y, gmm, float(var)).gap))
    cosine, fraction, kkt, condition, gap_svm, gap_min = zip(*rows)
    return Proliferation(tuple(ratios), np.array(cosine), np.array(fraction), kkt, np.array(condition),
                         np.array(gap_svm), np.array(gap_min))


# ---- M1: the VS loss's limit ----------------------------------------------------------------------
def vs_limit_margins(alpha, beta, rho, s2, gamma_vs, *, n: int, d: int, seed: int) -> MethodMargins:
    """The t -> infinity limit of gradient descent on the VS loss (any tau: the additive part vanishes) on
    separable data: the direction of the hard-margin SVM with group margins 1 / Delta_g, i.e. the SVM through the
    origin on the rescaled points Delta_{g_i} x_i (Gram D K D, D = diag(Delta_{g_i}); Kini et al. 2021), w = sum_i
    a_i y_i Delta_{g_i} x_i. Linear model, interpolation regime (linear_sample); KKT residuals of the rescaled
    problem attached."""
    gmm, sample, sigma2 = linear_sample(alpha, beta, rho, s2, n=n, d=d, seed=seed)
    delta = losses.per_sample(losses.vs_scales(sample.cluster, gamma_vs=gamma_vs), sample.cluster)
    solution = svm_on_gram(delta[:, None] * linear_ntk(sample.X) * delta[None, :], sample.y, intercept=False)
    w = sample.X.T @ (delta * solution.coefficients)
    return _linear_statistics(f"vs limit (gamma = {gamma_vs:.3g})", rho, w, sample.X, sample.y, gmm, sigma2,
                              kkt_residuals(solution, sample.y))


# ---- M2: reweighting ---------------------------------------------------------------------------
#: the squared loss unweighted and importance-weighted (1/pi_g): claim M2's pair
SQUARED = Method("squared", "squared", (("gamma", 1.0),))
WEIGHTED_SQUARED = Method("importance_weighted_squared", "squared", (("gamma", 1.0),), importance=True)


@dataclass(frozen=True)
class ReweightingPath:
    """Gradient descent on the squared loss in R^d, unweighted and importance-weighted, from w = 0 on one sample
    (interpolation, d > n): ``times`` and, at each, the distance ||w_W - w|| / ||w_inf|| (w_inf: the min-norm
    interpolant), both runs' effective bias weights w_bias / w_core and normalized gaps, and the largest
    relative component of any iterate outside the row space of X."""

    times: tuple
    distance: np.ndarray
    bias_ratio: np.ndarray             # (len(times), 2): unweighted, weighted
    gap: np.ndarray                    # (len(times), 2)
    row_space_residual: float
    contraction_steps: int             # a-priori steps for the weighted run's residual to fall by CONVERGED_RESIDUAL
    first_step_bias: tuple             # (w_bias after one weighted step, its noise sd eta sigma sqrt(sum_i W_i^2))
    first_step_drift: tuple            # (unweighted minus weighted w_bias after one step, its mean eta beta n p,
                                       #  its noise sd eta sigma sqrt(sum_i (1 - W_i)^2))


def reweighting_path(alpha, beta, rho, s2, *, n: int, d: int, seed: int, times=(10, 100, 1000)) -> ReweightingPath:
    """Claim M2, interpolation regime. Both runs use train_linear (gradient descent on w in R^d, not on
    coefficients) with the same step, the weighted run's eta = 1 / (max W lambda_max(X X^T)). The weighted residual
    obeys r_{t+1} = (I - eta K W) r_t, which contracts by 1 - eta mu_min(W^1/2 K W^1/2) per step (the unweighted one
    by 1 - eta lambda_min(K), faster): ``contraction_steps`` is the step count at which that factor reaches
    tolerances.CONVERGED_RESIDUAL, and the runs are recorded at ``times``, t = 1 and that step (both limits are then
    the min-norm interpolant, up to it). The first weighted step is eta X^T W y, whose bias coordinate is
    eta beta sum_g (n / 4) y_g b_g = 0 plus the Gaussian noise eta sum_i W_i y_i z_ib, of standard deviation
    eta sigma sqrt(sum_i W_i^2) (exact: with exact counts every group carries total weight n / 4); the first
    unweighted step's is eta (beta n p + sum_i y_i z_ib). Both runs see the same z, so their difference is
    eta (beta n p + sum_i (1 - W_i) y_i z_ib): the drift plus noise of standard deviation eta sigma ||1 - W||. The
    weights W_i = n / (4 n_g) in these standard deviations are typed from the sample's cluster counts, not taken from
    numerics.losses.importance_weights (the code under test)."""
    gmm, sample, sigma2 = linear_sample(alpha, beta, rho, s2, n=n, d=d, seed=seed)
    X, y, g = sample.X, sample.y, sample.cluster
    weights = losses.importance_weights(g)
    K = X @ X.T
    eta = step_size(K, WEIGHTED_SQUARED.objective(y, g), 1.0)
    root = np.sqrt(weights)
    mu_min = float(np.linalg.eigvalsh(root[:, None] * K * root[None, :])[0])
    steps = int(np.ceil(np.log(tol.CONVERGED_RESIDUAL) / np.log1p(-eta * mu_min)))
    times = tuple(sorted(set(int(t) for t in times if t < steps) | {1, steps}))
    # the same step for both runs: the unweighted run's curvature bound is 1, so its eta_fraction is 1 / max W
    plain = train_linear(X, y, g, SQUARED, steps=steps, record=times, eta_fraction=1.0 / float(np.max(weights)))
    weighted = train_linear(X, y, g, WEIGHTED_SQUARED, steps=steps, record=times)
    counts = np.bincount(g, minlength=4)
    typed = n / (4 * counts[g])                     # 1 / pi_g, normalized to mean 1 (n / 4 per group)
    signed_count = float(counts[0] + counts[1] - counts[2] - counts[3])      # sum_i y_i b_i = n p
    w_inf = X.T @ np.linalg.solve(K, y)
    basis = np.linalg.qr(X.T)[0]
    outside = max(np.linalg.norm(w - basis @ (basis.T @ w)) / np.linalg.norm(w)
                  for run in (plain, weighted) for w in run.iterates.values())
    stats = [[_linear_statistics("", rho, run.iterates[t], X, y, gmm, sigma2) for run in (plain, weighted)]
             for t in times]
    return ReweightingPath(times, np.array([np.linalg.norm(weighted.iterates[t] - plain.iterates[t]) for t in times])
                           / np.linalg.norm(w_inf),
                           np.array([[s.bias_ratio for s in row] for row in stats]),
                           np.array([[s.gap for s in row] for row in stats]), float(outside), steps,
                           (float(weighted.iterates[1][1]), float(eta * np.sqrt(sigma2) * np.linalg.norm(typed))),
                           (float(plain.iterates[1][1] - weighted.iterates[1][1]), float(eta * beta * signed_count),
                            float(eta * np.sqrt(sigma2) * np.linalg.norm(1 - typed))))


#: claim M2's separable pair: plain logistic, its additive logit adjustment (tau = 1), and the multiplicative VS
#: loss with no additive part (gamma_vs = 0.3, tau = 0), so that each of the two adjustments is seen alone.
LOGISTIC = Method("logistic", "logistic")
ADDITIVE = Method("logit_adjusted", "logit_adjusted", (("tau", 1.0),))
MULTIPLICATIVE = Method("vs_multiplicative", "vs", (("gamma_vs", 0.3), ("tau", 0.0)))


@dataclass(frozen=True)
class AdjustmentPair:
    """Directions of logistic gradient descent on separable data, plain and adjusted, at ``times``:
    additive[k] = ||u_LA(t_k) - u(t_k)||, multiplicative[k] = ||u_VS(t_k) - u(t_k)|| (u: unit weight vectors),
    limit = ||u_SVM - u_VSlimit|| (the two limiting max-margin directions: the plain SVM and the SVM with group
    margins 1 / Delta_g), to_own_limit / to_plain_limit: the VS direction's distance to each at the last time."""

    times: tuple
    additive: np.ndarray
    multiplicative: np.ndarray
    limit: float
    to_own_limit: float
    to_plain_limit: float
    kkt: tuple                # KKT residuals of the two SVMs


def adjustment_pair(alpha, beta, rho, s2, *, n: int, d: int, seed: int, times) -> AdjustmentPair:
    """Claim M2 (Soudry et al. 2018; Kini et al. 2021): on separable data an additive logit adjustment's effect on
    the direction vanishes as t -> infinity (it only reweights the exponential tail: the limit is still the plain
    SVM's, at rate 1/log t), while the multiplicative VS scale changes the limiting max-margin problem. Linear
    model in interpolation (linear_sample), trained in the row space (train_kernel on X X^T)."""
    _, sample, _ = linear_sample(alpha, beta, rho, s2, n=n, d=d, seed=seed)
    X, y, g = sample.X, sample.y, sample.cluster
    K = linear_ntk(X)
    times = tuple(sorted(int(t) for t in times))
    runs = {m.name: train_kernel(K, y, g, m, steps=times[-1], record=times) for m in (LOGISTIC, ADDITIVE, MULTIPLICATIVE)}

    def unit(coefficients):
        w = X.T @ coefficients
        return w / np.linalg.norm(w)

    def distances(name):
        return np.array([np.linalg.norm(unit(runs[name].iterates[t]) - unit(runs[LOGISTIC.name].iterates[t]))
                         for t in times])

    svm = svm_on_gram(K, y, intercept=False)
    delta = losses.per_sample(losses.vs_scales(g, **dict(MULTIPLICATIVE.options[:1])), g)
    rescaled = svm_on_gram(delta[:, None] * K * delta[None, :], y, intercept=False)
    u_svm, u_vs = unit(svm.coefficients), unit(delta * rescaled.coefficients)
    last = unit(runs[MULTIPLICATIVE.name].iterates[times[-1]])
    return AdjustmentPair(times, distances(ADDITIVE.name), distances(MULTIPLICATIVE.name),
                          float(np.linalg.norm(u_svm - u_vs)), float(np.linalg.norm(last - u_vs)),
                          float(np.linalg.norm(last - u_svm)),
                          (kkt_residuals(svm, y), kkt_residuals(rescaled, y)))
