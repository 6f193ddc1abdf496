"""M1 on trained networks and support-vector proliferation (docs/theory.md M1; issue 14).

The network trainer (numerics.network_margins) is checked against the linear trainer of numerics.margin_control on
the one network that is linear in its parameters, f = w.x, for every method (group DRO's q-update and l2 included).
Then the claim on a trained two-layer ReLU network and a ResNet-18: squared, logistic and LDAM keep the gap growing
with rho, within the rho = 1/2 band at 1/2; importance weighting stopped early grows less than logistic from the same
initialization (the regime where reweighting acts). Support-vector proliferation: wherever sklearn's support-vector
count is n, the hard-margin SVM is the min-norm interpolant (cos = 1); they differ for d < n.
"""
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import checks, losses
from numerics import tolerances as tol
from numerics.data import MixtureArrays
from numerics.experiments.margins import (
    NETWORK_METHODS,
    effective_bias_weight,
    linear_sample,
    relu_network_margins,
    resnet_margins,
    svm_proliferation,
)
from numerics.experiments.relu import canonical_sample
from numerics.experiments.resnet import DigitsSetting, network, train_and_test
from numerics.margin_control import METHODS, kkt_residuals, svm_on_gram, train_linear
from numerics.models import OneLayerLinear
from numerics.network_margins import train_network
from numerics.pytest_plugin import THOROUGH, examples
from numerics.report.margins import RESNET_QUICK, RESNET_STEPS
from numerics.settings import VAR_RELU_E3
from numerics.structured_ntk import structured_gram
from theory.gmm import GMM
from theory.strategies import seeds

pytestmark = pytest.mark.claim("M1")

SALIENCE = Fraction(13, 10)
RHOS = (Fraction(1, 2), Fraction(9, 10))


# ---- the trainer ---------------------------------------------------------------------------------
@settings(max_examples=examples(2))
@given(seed=seeds())
def test_network_trainer_is_gradient_descent_through_backpropagation(seed):
    """train_network on f = w.x from a RANDOM w_0 (OneLayerLinear(seed)) trains the centred output (w - w_0).x with
    the l2 penalty on w - w_0, so it must equal train_linear's w from 0 (the numpy trainer of numerics.margin_control,
    checked against the losses' typed formulas in test_m1_margin_methods) for every method, group DRO (q-updates,
    l2) and importance weights included; the same holds on the probe points."""
    _, sample, _ = linear_sample(1, SALIENCE, Fraction(4, 5), Fraction(3, 10), n=40, d=400, seed=seed)
    X, y, g = sample.X, sample.y, sample.cluster
    probe = np.random.default_rng(seed).standard_normal((8, X.shape[1]))
    steps, worst = 200, 0.0
    for method in METHODS.values():
        model = OneLayerLinear(X.shape[1], seed=seed)
        trained = train_network(model, torch.tensor(X), y, g, method, gram=X @ X.T, steps=steps,
                                probe=torch.tensor(probe))
        w = train_linear(X, y, g, method, steps=steps).final
        worst = max(worst, float(np.max(np.abs(trained.train_outputs - X @ w)) / np.max(np.abs(X @ w))),
                    float(np.max(np.abs(trained.probe_outputs - probe @ w)) / np.max(np.abs(probe @ w))))
    check = checks.at_most("max |network trainer - linear trainer| / max |f|", worst,
                           tol.network_trainer_rounding(steps, X.shape[1]))
    assert check.ok, check.detail


@given(w=st.lists(st.floats(-3, 3), min_size=2, max_size=2), salience=st.fractions(Fraction(3, 5), Fraction(2)))
@example(w=[1e-9, 1.0], salience=Fraction(3, 5))
def test_effective_bias_weight_is_the_linear_ratio_on_the_cluster_means(w, salience):
    """On the four cluster means of the canonical model (a balanced probe, one point per cluster) the effective bias
    weight of f = w.x is beta w_bias / (alpha w_core), from f(mu_c) = alpha y_c w_core + beta b_c w_bias (alpha = 1).
    Small w_core makes the ratio ill-conditioned; the tolerance carries its condition number 1 + |ratio|."""
    w = np.array(w)
    if abs(w[0]) < tol.CLOSED_FORM_ROUNDING:
        w[0] = 1.0
    gmm = GMM.canonical(1, salience, Fraction(1, 2), Fraction(1, 4), dim=2)
    arrays = MixtureArrays.from_gmm(gmm)
    means, y = arrays.means, arrays.labels
    aligned = np.array([True, True, False, False])
    measured = effective_bias_weight(means @ w, y, aligned)
    expected = float(salience) * w[1] / w[0]
    check = checks.at_most("|effective bias weight - beta w_bias / w_core| / max(1, |.|)",
                           abs(measured - expected) / max(1.0, abs(expected)), tol.bias_weight_rounding(expected))
    assert check.ok, check.detail


# ---- M1 on the networks ----------------------------------------------------------------------------
def _network_check(runs, band, *, reweighting: bool) -> checks.Check:
    """The rule of the report's network rows (checks.trained_network_methods) on ``runs`` (one per rho in RHOS)."""
    return checks.trained_network_methods(RHOS, {m: [r[m].gap for r in runs] for m in runs[0]},
                                          [{m: r[m].train_margins for m in r} for r in runs], band,
                                          apart=tol.M1_KERNEL_PAIRS_APART, reweighting=reweighting)


def test_trained_relu_network_keeps_the_gap():
    """M1 on a trained antisymmetric two-layer ReLU network (width 128, 300 steps; n = 200, d = 20, var 0.36): squared,
    logistic and LDAM keep the gap rising from rho = 1/2 to 0.9, within the band at 1/2, each separating its
    training set; early-stopped importance weighting grows less than logistic."""
    runs = [relu_network_margins(1, SALIENCE, rho, VAR_RELU_E3, n=200, dim=20, seed=0, width=128, steps=300)
            for rho in RHOS]
    check = _network_check(runs, tol.M1_RELU_NETWORK_BALANCE_BAND, reweighting=True)
    assert check.ok, check.detail


#: a float64 ResNet-18 small enough for one exact NTK Gram in a second (width 4, 24 images)
TINY_RESNET = DigitsSetting(width=4, n=24, n_test=8, dtype=torch.float64)
#: the one-step test's step fraction: the Taylor remainder is then ~1e-4 of the step (ntk_step_linearization)
ONE_STEP_FRACTION = 1e-4


def _reference_gradient(name, y, g):
    """dL/df at f = 0 from the numerics.losses functions themselves (not the trainer's Objective)."""
    f = np.zeros(y.size)
    if name == "importance_weighted":
        return losses.logistic(f, y, g, weights=losses.importance_weights(g))[1]
    if name == "group_dro":
        q = losses.dro_weights_step(losses.dro_start(g), losses.group_losses(f, y, g), eta_q=METHODS[name].eta_q)
        return losses.group_dro(f, y, g, q)[1]
    return getattr(losses, name)(f, y, g)[1]


def test_resnet_step_is_the_ntk_step_of_the_loss():
    """One train_network step of a float64 ResNet-18 (eval mode) moves its centred outputs by -eta K_0 dL/df to first
    order in eta, K_0 the exact NTK Gram (numerics.structured_ntk: per-layer contractions, not backpropagation of
    dL/df) and dL/df from numerics.losses, for squared, logistic, importance-weighted, LDAM and group DRO at rho = 3/4:
    backpropagation of each method's output gradient through the ResNet, group weights and margins included."""
    train, _ = train_and_test(Fraction(3, 4), seed=0, setting=TINY_RESNET)
    y, g = train.y.numpy(), train.cluster
    K = structured_gram(network(TINY_RESNET, 0), train.images).numpy()
    errors = {}
    for name in ("squared", "logistic", "importance_weighted", "ldam", "group_dro"):
        trained = train_network(network(TINY_RESNET, 0), train.images, y, g, METHODS[name], gram=K, steps=1,
                                eta_fraction=ONE_STEP_FRACTION)
        predicted = -trained.eta * K @ _reference_gradient(name, y, g)
        errors[name] = float(np.linalg.norm(trained.train_outputs - predicted) / np.linalg.norm(predicted))
    check = checks.all_of(*(checks.at_most(f"{name}: ||Delta f + eta K_0 dL/df|| / ||eta K_0 dL/df||", error,
                                           tol.ntk_step_linearization(ONE_STEP_FRACTION))
                            for name, error in errors.items()))
    assert check.ok, check.detail


#: the thorough ResNet draws train 3x the report's RESNET_STEPS: at 100 steps the thorough profile found a seed (73260)
#: whose squared-loss run had not yet fitted one training point (min margin -0.25; 0.89 after 300 steps)
THOROUGH_RESNET_STEPS = 3 * RESNET_STEPS


@pytest.mark.skipif(not THOROUGH, reason="thorough profile only (about half a minute per seed)")
@settings(max_examples=examples(6))
@given(seed=seeds())
@example(seed=553726)
def test_trained_resnet_keeps_the_gap(seed):
    """M1 on the report's ResNet-18 (numerics.report.margins.RESNET_QUICK) over seeds, trained THOROUGH_RESNET_STEPS:
    the rules of the ResNet row. Early-stopped reweighting is not claimed there: seed 553726 (thorough profile) grew the
    weighted gap 0.413 against logistic's 0.408."""
    runs = [resnet_margins(rho, seed=seed, setting=RESNET_QUICK, steps=THOROUGH_RESNET_STEPS) for rho in RHOS]
    check = _network_check(runs, tol.M1_RESNET_BALANCE_BAND, reweighting=False)
    assert check.ok, check.detail


@pytest.mark.skipif(not THOROUGH, reason="thorough profile only (a few minutes)")
@settings(max_examples=examples(20))
@given(seed=seeds(), salience=st.fractions(Fraction(4, 5), Fraction(2), max_denominator=10),
       var=st.fractions(Fraction(1, 4), Fraction(1, 2), max_denominator=20),
       rho=st.fractions(Fraction(9, 10), Fraction(19, 20), max_denominator=20))
def test_trained_relu_network_keeps_the_gap_over_draws(seed, salience, var, rho):
    """The same claim over draws of salience, variance, rho (at least M1_KERNEL_PAIRS_APART from 1/2) and seed."""
    runs = [relu_network_margins(1, salience, r, var, n=200, dim=20, seed=seed, width=256, steps=500)
            for r in (Fraction(1, 2), rho)]
    gaps = {m: [r[m].gap for r in runs] for m in NETWORK_METHODS if m != "importance_weighted"}
    check = checks.all_of(checks.margin_methods_gap_grows([Fraction(1, 2), rho], gaps, apart=tol.M1_KERNEL_PAIRS_APART),
                          checks.margin_methods_balanced({m: v[0] for m, v in gaps.items()},
                                                         tol.M1_RELU_NETWORK_BALANCE_BAND))
    assert check.ok, check.detail


# ---- support-vector proliferation ------------------------------------------------------------------
RATIOS = (0.5, 2, 5, 10, 20, 50)


def _bounds(sweep, n):
    return [tol.svm_interpolant_cosine(k.allowance, c, int(round(r * n)))
            for k, c, r in zip(sweep.kkt, sweep.condition, sweep.ratios)]


@settings(max_examples=examples(4))
@given(seed=seeds(), rho=st.fractions(Fraction(1, 2), Fraction(9, 10), max_denominator=10),
       var=st.fractions(Fraction(1, 4), Fraction(1), max_denominator=20))
def test_support_vectors_proliferate_and_then_the_svm_is_the_interpolant(seed, rho, var):
    """Wherever every training point is a support vector the hard-margin SVM's direction is the min-norm
    interpolant's (cos = 1 within the KKT allowance through cond K); at d/n = 50 every point is one; at d/n = 1/2 at
    most d of the n are and the two differ. Every SVM passes the hard-margin KKT check."""
    n = 40
    sweep = svm_proliferation(1, SALIENCE, rho, var, n=n, ratios=RATIOS, seed=seed)
    check = checks.all_of(checks.support_vector_proliferation(sweep.ratios, sweep.cosine, sweep.support_fraction,
                                                              _bounds(sweep, n)),
                          *(checks.hard_margin_kkt(k) for k in sweep.kkt))
    assert check.ok, check.detail


def test_a_soft_margin_svm_is_not_the_interpolant():
    """Negative control: with C at a tenth of the largest hard-margin multiplier (a soft-margin SVM) at d/n = 50 the
    KKT check fails and the direction leaves the interpolant's by more than the certificate allows."""
    n = 40
    sweep = svm_proliferation(1, SALIENCE, Fraction(9, 10), Fraction(3, 10), n=n, ratios=(50,), seed=0)
    sample = canonical_sample(1, SALIENCE, Fraction(9, 10), Fraction(3, 10), n=n, dim=50 * n, seed=0)
    K = sample.X @ sample.X.T
    hard = svm_on_gram(K, sample.y, intercept=False)
    soft = svm_on_gram(K, sample.y, intercept=False, C=float(hard.multipliers.max()) / 10)
    w_soft, w_min = sample.X.T @ soft.coefficients, np.linalg.lstsq(sample.X, sample.y, rcond=None)[0]
    cos = float(w_soft @ w_min / (np.linalg.norm(w_soft) * np.linalg.norm(w_min)))
    bound = tol.svm_interpolant_cosine(kkt_residuals(hard, sample.y).allowance, np.linalg.cond(K), 50 * n)
    kkt = checks.hard_margin_kkt(kkt_residuals(soft, sample.y))
    check = checks.all_of(checks.Check(not kkt.ok, -kkt.worst, f"must FAIL: {kkt.detail}"),
                          checks.at_least("soft-margin 1 - cos(SVM, min-norm) beyond the certificate", 1 - cos, bound),
                          checks.at_least("hard-margin support fraction at d/n = 50", sweep.support_fraction[0], 1.0))
    assert check.ok, check.detail


# ---- figure 8 ---------------------------------------------------------------------------------------
def test_the_margin_figure_draws_one_panel_per_row(tmp_path):
    """margin_methods draws figure 8 from the rows' method series (one panel per M1 row that has them) and returns
    None for rows without them (the proliferation row)."""
    import matplotlib.image

    from numerics.report.margin_figure import margin_methods
    from numerics.report.rows import Row

    series = {"method_rho": [0.5, 0.9], "method_conflicting": {"squared": [1.0, 0.7], "logistic": [0.9, 0.5]},
              "method_aligned": {"squared": [1.0, 1.2], "logistic": [1.1, 1.3]}, "balance_band": 0.4}
    rows = [Row("M1", arch, f"{arch} network: 2 methods", "", "", "", 0.0, "holds", series=series)
            for arch in ("linear", "relu", "resnet18")]
    path = margin_methods(rows, tmp_path)
    image = matplotlib.image.imread(path)
    other = Row("M1", "linear", "proliferation", "", "", "", 0.0, "holds", series={"svp_ratio": [1.0]})
    assert path.name == "fig8_margin_methods.png" and image.ndim == 3 and image.shape[1] > image.shape[0]
    assert margin_methods([other], tmp_path) is None


def test_network_rule_judges_reweighting_only_where_claimed():
    """checks.trained_network_methods on synthetic gaps (the thorough ResNet seed 553726's growths): every other rule
    holds, the weighted gap grows more than logistic's, so the rule fails with ``reweighting`` and holds without it."""
    gaps = {"squared": [0.02, 0.42], "logistic": [-0.066, 0.342], "importance_weighted": [-0.066, 0.347]}
    fitted = [{m: np.ones(4) for m in gaps} for _ in RHOS]
    judged = {claimed: checks.trained_network_methods(RHOS, gaps, fitted, tol.M1_RESNET_BALANCE_BAND,
                                                      apart=tol.M1_KERNEL_PAIRS_APART, reweighting=claimed)
              for claimed in (True, False)}
    assert judged[False].ok and not judged[True].ok, (judged[False].detail, judged[True].detail)
