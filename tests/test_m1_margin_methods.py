"""M1: under every margin-controlling method the aligned-minus-conflicting gap grows with rho (docs/theory.md M1).

The losses themselves (numerics.losses) are checked against independently typed torch formulas; the trainer's
objectives against the losses; the SVM against its hard-margin KKT conditions (and a too-small C must fail them).
Then the claim: every method trained on the SAME samples (linear model, interpolation regime d > n; the ReLU NTK as a
kernel), the gap normalized by the mean training margin rises over rho pairs RHO_PAIRS_APART apart, stays within the
seed-noise band M1_BALANCE_BAND (beta / alpha) at rho = 1/2, and leaves it at rho = 0.9. The multiplicative VS loss
is the exception, tested with its regime: its limit keeps the preference below gamma* and reverses it above.
"""
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from numerics import checks, losses
from numerics import tolerances as tol
from numerics.experiments.margins import kernel_margins, linear_margins, linear_sample, vs_limit_margins
from numerics.experiments.relu import canonical_sample
from numerics.kernels import linear_ntk, relu_ntk
from numerics.margin_control import METHODS, kkt_residuals, svm_on_gram
from numerics.pytest_plugin import examples, slow_property
from numerics.settings import VAR_RELU_E3
from theory.reweighting import vs_balancing_exponent
from theory.strategies import seeds

pytestmark = pytest.mark.claim("M1")

#: M1's "every method" (VS has its own regime, test_vs_limit_keeps_or_reverses_the_preference_at_gamma_star)
EVERY = ("squared", "svm", "logistic", "importance_weighted", "ldam", "logit_adjusted", "group_dro")
#: the regime of the claim's draws (docs/theory.md M1): n = 100, d/n in [8, 25], s2 = d sigma^2 / n in [1/4, 1],
#: salience beta / alpha in [3/5, 2] (alpha = 1); the band and the spacing were measured there (tolerances).
N = 100
RATIOS = st.integers(8, 25)
S2 = st.fractions(Fraction(1, 4), Fraction(1), max_denominator=20)
SALIENCE = st.fractions(Fraction(3, 5), Fraction(2), max_denominator=10)
RHO = st.fractions(Fraction(1, 2), Fraction(9, 10), max_denominator=20)


# ---- the losses -----------------------------------------------------------------------------------
@st.composite
def outputs(draw, n_max=24):
    """(f, y, g): outputs, labels and the groups of the canonical clusters (labels follow the group), every group
    non-empty."""
    counts = draw(st.lists(st.integers(1, n_max // 4), min_size=4, max_size=4))
    g = np.repeat(np.arange(4), counts)
    y = np.array([1.0, -1.0, 1.0, -1.0])[g]
    f = np.array(draw(st.lists(st.floats(-5, 5), min_size=g.size, max_size=g.size)))
    return f, y, g


def _typed(name, f, y, g, counts):
    """The loss's per-point formula typed from its paper, in torch (value, and f with requires_grad)."""
    f = torch.tensor(f, dtype=torch.float64, requires_grad=True)
    y, n_g = torch.tensor(y), torch.tensor(counts, dtype=torch.float64)[torch.tensor(g)]
    prior = n_g / len(g)
    if name == "squared":
        value = 0.5 * torch.sum((f - y) ** 2)
    elif name == "logistic":
        value = torch.sum(torch.log1p(torch.exp(-y * f)))
    elif name == "importance_weighted":                                    # w_i = n / (4 n_g)
        value = torch.sum(len(g) / (4 * n_g) * torch.log1p(torch.exp(-y * f)))
    elif name == "ldam":                                                   # Delta_g = C n_g^-1/4, max Delta = 1/2
        C = 0.5 * min(counts) ** 0.25
        value = torch.sum(torch.log1p(torch.exp(-(y * f - C * n_g ** -0.25))))
    elif name == "logit_adjusted":                                         # + tau log pi_g, tau = 1
        value = torch.sum(torch.log1p(torch.exp(-(y * f + torch.log(prior)))))
    elif name == "vs":                                                     # (n_g / n_max)^0.3 y f + log pi_g
        value = torch.sum(torch.log1p(torch.exp(-((n_g / max(counts)) ** 0.3 * y * f + torch.log(prior)))))
    else:                                                                  # group DRO at its first weights
        group = torch.log1p(torch.exp(-y * f))
        means = torch.stack([group[torch.tensor(g) == k].mean() for k in range(4)])
        q = torch.softmax(0.01 * means.detach(), 0)                        # one EG step from uniform q
        value = len(g) * torch.sum(q * means)
    value.backward()
    return float(value.detach()), f.grad.numpy()


@pytest.mark.parametrize("name", list(METHODS))
@given(data=outputs())
def test_each_loss_matches_its_papers_formula(name, data):
    """Each method's objective (value and gradient in f) equals the loss typed from its paper in torch, autograd for
    the gradient: LDAM subtracts Delta_g = C n_g^(-1/4) from the true-class margin y f, logit adjustment ADDS tau log pi_g
    (<= 0), VS multiplies y f by (n_g / n_max)^gamma, importance weights are n / (4 n_g), group DRO weights the group
    means by q after one exponentiated-gradient step from uniform."""
    f, y, g = data
    counts = np.bincount(g, minlength=4)
    typed_value, typed_grad = _typed(name, f, y, g, counts)
    scale, grad_scale = max(1.0, abs(typed_value)), max(1.0, np.max(np.abs(typed_grad)))
    results = [("trainer objective", *METHODS[name].objective(y, g).gradient(f)),
               ("numerics.losses", *_LOSS_FUNCTIONS[name](f, y, g))]
    check = checks.all_of(*(rule for route, value, grad in results for rule in (
        checks.at_most(f"{name} ({route}): |value - typed| / scale", abs(value - typed_value) / scale,
                       tol.CLOSED_FORM_ROUNDING),
        checks.at_most(f"{name} ({route}): max |grad - autograd| / scale", np.max(np.abs(grad - typed_grad)) / grad_scale,
                       tol.CLOSED_FORM_ROUNDING))))
    assert check.ok, check.detail


#: each method's function in numerics.losses (the reference the trainer's precomputed objective must equal)
_LOSS_FUNCTIONS = {
    "squared": losses.squared,
    "logistic": losses.logistic,
    "importance_weighted": lambda f, y, g: losses.logistic(f, y, g, weights=losses.importance_weights(g)),
    "ldam": losses.ldam,
    "logit_adjusted": losses.logit_adjusted,
    "vs": losses.vs,
    "group_dro": lambda f, y, g: losses.group_dro(f, y, g, losses.dro_weights_step(
        losses.dro_start(g), losses.group_losses(f, y, g), eta_q=METHODS["group_dro"].eta_q)),
}


@given(data=outputs())
def test_group_terms_favour_the_rare_groups(data):
    """The margin losses' group terms point the right way: a rarer group gets a larger LDAM margin, a more negative
    logit adjustment and a smaller VS scale; a point's LDAM loss is log 2 exactly where y f = Delta_g; importance
    weights give every group total weight n / 4."""
    f, y, g = data
    counts = np.bincount(g, minlength=4)
    rare, common = int(np.argmin(counts)), int(np.argmax(counts))
    assume(counts[rare] < counts[common])
    delta = losses.ldam_margins(g)
    at_margin = losses.ldam(y * delta[g], y, g)[0]
    w = losses.importance_weights(g)
    check = checks.all_of(
        checks.at_least("LDAM margin rare - common", delta[rare] - delta[common], 0.0),
        checks.at_least("log pi rare vs common (common - rare)", losses.logit_adjustments(g)[common]
                        - losses.logit_adjustments(g)[rare], 0.0),
        checks.at_least("VS scale common - rare", losses.vs_scales(g)[common] - losses.vs_scales(g)[rare], 0.0),
        checks.at_most("|LDAM loss at y f = Delta_g - n log 2| / n", abs(at_margin - g.size * np.log(2)) / g.size,
                       tol.CLOSED_FORM_ROUNDING),
        checks.at_most("max_g |sum of weights in g - n/4| / n",
                       np.max(np.abs(np.bincount(g, weights=w, minlength=4) - g.size / 4)) / g.size,
                       tol.CLOSED_FORM_ROUNDING))
    assert check.ok, check.detail


# ---- the hard-margin SVM ---------------------------------------------------------------------------
@settings(max_examples=examples(4))
@given(seed=seeds(), rho=RHO, ratio=RATIOS)
def test_svm_is_hard_margin_and_a_small_c_is_not(seed, rho, ratio):
    """SVC(kernel="precomputed", C=SVM_HARD_C) passes the hard-margin KKT check, through the origin with the linear
    NTK and with its intercept on the ReLU NTK; with C a tenth of the largest hard-margin multiplier the same check
    fails (multipliers at the bound C, margins below 1): the check can tell the soft margin from the hard one."""
    _, sample, _ = linear_sample(1, Fraction(13, 10), rho, Fraction(3, 10), n=40, d=40 * ratio, seed=seed)
    relu = canonical_sample(1, Fraction(13, 10), rho, VAR_RELU_E3, n=80, dim=10, seed=seed)
    results = []
    for K, y, intercept in ((linear_ntk(sample.X), sample.y, False), (relu_ntk(relu.X), relu.y, True)):
        hard = svm_on_gram(K, y, intercept=intercept)
        soft = svm_on_gram(K, y, intercept=intercept, C=float(hard.multipliers.max()) / 10)
        results.append((checks.hard_margin_kkt(kkt_residuals(hard, y)), checks.hard_margin_kkt(kkt_residuals(soft, y))))
    check = checks.all_of(*(hard for hard, _ in results),
                          *(_fails(soft) for _, soft in results))
    assert check.ok, check.detail


def _fails(check):
    """The negation of a rule, for a negative control: holds exactly when ``check`` fails."""
    return checks.Check(not check.ok, -check.worst, f"must FAIL: {check.detail}")


# ---- M1: every method keeps the gap ------------------------------------------------------------------
@slow_property(6, ci=2)         # ~3.5 s per draw here (two samples x six trainers)
@given(rhos=st.tuples(RHO, RHO), salience=SALIENCE, s2=S2, ratio=RATIOS, seed=seeds())
def test_every_method_keeps_the_gap_growing_with_rho(rhos, salience, s2, ratio, seed):
    """M1: squared loss to gamma y (equal training margins), the hard-margin SVM, long logistic, importance-weighted
    logistic, LDAM, logit adjustment and group DRO (l2), all on the same samples (common random numbers across rho):
    each method's normalized gap rises over rho pairs at least RHO_PAIRS_APART apart (a prior scan of 8 seeds x 17
    settings at n = 100 found every such step >= 0.06). Each method also separates its training set (every margin > 0)
    and the SVM is hard-margin (KKT)."""
    lo, hi = sorted(rhos)
    assume(hi - lo >= tol.RHO_PAIRS_APART)
    runs = [linear_margins(1, salience, rho, s2, n=N, d=N * ratio, seed=seed, methods=EVERY[:1] + EVERY[2:])
            for rho in (lo, hi)]
    check = checks.all_of(checks.margin_methods_gap_grows([lo, hi], {m: [r[m].gap for r in runs] for m in EVERY},
                                                          apart=tol.RHO_PAIRS_APART),
                          *(checks.at_least(f"{m}: min training margin at rho = {float(r[m].rho):.3g}",
                                            r[m].train_margins.min(), 0.0) for r in runs for m in EVERY),
                          *(checks.hard_margin_kkt(r["svm"].kkt) for r in runs))
    assert check.ok, check.detail


@slow_property(5, ci=2)         # ~2.6 s per draw here
@given(salience=SALIENCE, s2=S2, ratio=RATIOS, seed=seeds())
def test_every_method_is_balanced_at_half_and_leaves_the_band_at_09(salience, s2, ratio, seed):
    """M1 negative control with power: at rho = 1/2 (mirror symmetry) every method's normalized gap is within
    M1_BALANCE_BAND * beta / alpha; at rho = 0.9, same seed, every method's gap exceeds that band."""
    half, imbalanced = (linear_margins(1, salience, rho, s2, n=N, d=N * ratio, seed=seed, methods=EVERY[:1] + EVERY[2:])
                        for rho in (Fraction(1, 2), Fraction(9, 10)))
    band = tol.M1_BALANCE_BAND * float(salience)
    check = checks.all_of(checks.margin_methods_balanced({m: half[m].gap for m in EVERY}, band),
                          checks.margin_methods_beyond_band({m: imbalanced[m].gap for m in EVERY}, band))
    assert check.ok, check.detail


@settings(max_examples=examples(6))
@given(rho=st.fractions(Fraction(3, 5), Fraction(9, 10), max_denominator=20), salience=SALIENCE, s2=S2,
       ratio=RATIOS, seed=seeds(),
       factor=st.one_of(st.fractions(Fraction(1, 4), Fraction(1, 2)), st.fractions(Fraction(3, 2), Fraction(2))))
def test_vs_limit_keeps_or_reverses_the_preference_at_gamma_star(rho, salience, s2, ratio, seed, factor):
    """The exception to M1, with its regime: the VS loss's t -> infinity limit (the SVM with group margins
    1 / Delta_g = (n_max / n_g)^gamma) keeps the preference for gamma < gamma* and reverses it for gamma > gamma*,
    gamma* = 1 + log r / log(rho / (1 - rho)), r = (alpha^2 (1 - p) + s^2) / (alpha^2 (1 + p) + s^2) (theory.reweighting,
    the ridge form's zero of w_bias; it does not depend on beta). So VS removes the preference only when gamma is tuned
    to rho, alpha and s^2, and a fixed gamma > s^2 / (alpha^2 + s^2) = lim_{rho -> 1/2} gamma* reverses it near
    rho = 1/2. Drawn at gamma = gamma* x [1/4, 1/2] or [3/2, 2]: a prior run found the predicted sign in 30 of 30 draws
    already at gamma*(1 +- 0.3)."""
    star = vs_balancing_exponent(1, salience, rho, s2)
    gamma = float(factor) * star
    limit = vs_limit_margins(1, salience, rho, s2, gamma, n=N, d=N * ratio, seed=seed)
    check = checks.all_of(checks.vs_limit_sign(limit.gap, gamma, star), checks.hard_margin_kkt(limit.kkt))
    assert check.ok, check.detail


@settings(max_examples=examples(2))
@given(seed=seeds())
def test_kernel_methods_keep_the_gap_with_the_relu_ntk(seed):
    """M1 with the two-layer ReLU NTK as the kernel (n = 200 > d = 20, var 0.36): from rho = 1/2 to 0.9 (pairs at least
    M1_KERNEL_PAIRS_APART apart: the kernel gap's seed sd is ~0.1) the normalized gap rises for every method but group
    DRO (in this regime it cuts the gap by ~75%: means 0.01, 0.05, 0.14 at rho = 0.5, 0.7, 0.9 over 10 seeds, sd 0.1,
    so its per-seed trend is not resolved) and VS; the SVC with the precomputed NTK is hard-margin."""
    rhos = (Fraction(1, 2), Fraction(9, 10))
    names = ("squared", "logistic", "importance_weighted", "ldam", "logit_adjusted")
    runs = [kernel_margins(1, Fraction(13, 10), rho, VAR_RELU_E3, n=200, dim=20, seed=seed, methods=names)
            for rho in rhos]
    check = checks.all_of(checks.margin_methods_gap_grows(rhos, {m: [r[m].gap for r in runs] for m in names + ("svm",)},
                                                          apart=tol.M1_KERNEL_PAIRS_APART),
                          *(checks.hard_margin_kkt(r["svm"].kkt) for r in runs))
    assert check.ok, check.detail
