"""Report entries for ResNet-18 on colored digits: G1, E2, E3 (THEORY.md 7).

Each entry drives numerics.experiments.resnet (the functions the tests call) at a default sweep and
judges it with the tests' criteria and tolerances. Quick: width 32 (E3 training: width 16), 2 seeds;
full: width 64, 5 seeds. The E2 and E3 rows share their NTK Grams (memoised per setting and seed).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from numerics import tolerances as tol
from numerics.experiments import resnet as ex
from numerics.report.rows import Context, Row, verdict

RHOS = (0.5, 0.6, 0.7, 0.8, 0.9)
SHRINKS = (1.0, 0.5, 0.25, 0.1, 0.0)
NETWORK = "ResNet-18 (eval-mode NTK)"


def _setting(ctx: Context, **changes) -> ex.DigitsSetting:
    return ex.DEFAULT.with_(width=64 if ctx.full else 32, device=ctx.device).with_(**changes)


def _seeds(ctx: Context) -> range:
    return range(ctx.seed, ctx.seed + (5 if ctx.full else 2))


def _describe(setting: ex.DigitsSetting, seeds) -> str:
    return (f"width {setting.width}, digits {setting.classes[0]} vs {setting.classes[1]}, contrast {setting.contrast}, "
            f"{setting.size}px, n={setting.n}, test {setting.n_test}, {len(seeds)} seeds")


@lru_cache(maxsize=64)
def _grams(rho: float, seed: int, setting: ex.DigitsSetting) -> ex.DigitsGrams:
    return ex.digits_grams(rho, seed=seed, setting=setting)


def _pairs(rhos, gap):
    return [(i, j) for i in range(len(rhos)) for j in range(len(rhos)) if rhos[j] - rhos[i] >= gap - 1e-12]


def g1(ctx: Context) -> Row:
    setting = _setting(ctx)
    shrunk = ex.cluster_reduction(0.9, SHRINKS, seed=ctx.seed, setting=setting)
    errors = np.array([s.relative_errors for s in shrunk])
    spectrum = ex.spectrum_vs_rho(RHOS, seed=ctx.seed, setting=setting)
    exact, falling = errors[-1].max(), bool(np.all(np.diff(errors[:-1], axis=0) < 0))
    return Row("G1", NETWORK,
               f"rho=0.9, images pulled to cluster means by t in {SHRINKS}; {_describe(setting, [ctx.seed])}",
               "top-4 Gram eigenvalues = eig(N^1/2 Kbar N^1/2) at t=0; error falls with t",
               f"t=0 err {exact:.1e}; t=1 errs {', '.join(f'{e:.2f}' for e in errors[0])}; "
               f"t=0.1 errs {', '.join(f'{e:.3f}' for e in errors[-2])}",
               float(exact), verdict(exact <= tol.RESNET_G1_EXACT and falling),
               series={"shrinks": list(SHRINKS), "errors": errors.tolist(),
                       "eigenvalues": [s.eigenvalues.tolist() for s in shrunk],
                       "predicted": [s.predicted.tolist() for s in shrunk],
                       "spectrum_rho": list(RHOS), "spectrum": [s.eigenvalues.tolist() for s in spectrum],
                       "spectrum_theory": [s.predicted.tolist() for s in spectrum],
                       "spectrum_unit": f"Gram eigenvalue (n = {setting.n})"})  # theory: G1's prediction


def e2(ctx: Context) -> Row:
    setting, seeds = _setting(ctx), _seeds(ctx)
    ratios = np.array([[ex.feature_ratio(_grams(r, s, setting)).ratio for r in RHOS] for s in seeds])
    pairs = _pairs(RHOS, 0.2)
    worst = max((ratios[:, i] / ratios[:, j]).max() for i, j in pairs)  # < 1 when every pair rises
    control = bool(np.all(np.abs(np.log(ratios[:, 0])) < np.log(ratios[:, -1])))
    return Row("E2", NETWORK, f"rho {RHOS[0]}..{RHOS[-1]}, balanced test probe; {_describe(setting, seeds)}",
               "lambda(phi_A)/lambda(phi_C) rises with rho (pairs >= 0.2 apart); |log ratio| at 1/2 < at 0.9",
               "ratio by rho: " + "; ".join(", ".join(f"{v:.2f}" for v in row) for row in ratios),
               float(worst), verdict(worst < 1 and control),
               series={"rho": list(RHOS), "ratios": ratios.tolist(), "seeds": list(seeds)})


def e3_kernel(ctx: Context) -> Row:
    setting, seeds = _setting(ctx), _seeds(ctx)
    margins = [[ex.kernel_regression_margins(_grams(r, s, setting)) for r in RHOS] for s in seeds]
    conflicting = np.array([[m.conflicting_margin for m in row] for row in margins])
    accuracy = np.array([[m.conflicting_accuracy for m in row] for row in margins])
    gap = np.array([[m.aligned_margin - m.conflicting_margin for m in row] for row in margins])
    train_error = max(float(np.max(np.abs(m.train_margins - 1))) for row in margins for m in row)
    pairs = _pairs(RHOS, 0.3)
    falling = all(np.all(conflicting[:, j] < conflicting[:, i]) and np.all(accuracy[:, j] <= accuracy[:, i])
                  for i, j in pairs)
    control = bool(np.all(np.abs(gap[:, 0]) < gap[:, -1]))
    return Row("E3", NETWORK + ", kernel regression",
               f"rho {RHOS[0]}..{RHOS[-1]}, gamma=1; {_describe(setting, seeds)}",
               "conflicting margin and accuracy fall with rho (pairs >= 0.3 apart), train margins = gamma; "
               "no aligned/conflicting gap at rho=1/2",
               f"conflicting margin {conflicting.mean(0)[0]:.2f}->{conflicting.mean(0)[-1]:.2f}, accuracy "
               f"{accuracy.mean(0)[0]:.2f}->{accuracy.mean(0)[-1]:.2f} (seed mean); train margin err {train_error:.1e}",
               float(np.max(conflicting[:, -1] / conflicting[:, 0])),  # < 1: the margin fell
               verdict(falling and control and train_error <= tol.RESNET_TRAIN_MARGIN),
               series={"rho": list(RHOS), "conflicting_margin": conflicting.tolist(),
                       "conflicting_accuracy": accuracy.tolist(), "aligned_minus_conflicting": gap.tolist(),
                       "margin_rho": list(RHOS), "margin_conflicting": conflicting.mean(0).tolist()})


def e3_trained(ctx: Context) -> Row:
    setting = _setting(ctx, width=32 if ctx.full else 16)
    if ctx.full:
        rhos, seeds, steps = (0.5, 0.7, 0.9), _seeds(ctx), 300
    else:
        rhos, seeds, steps = (0.5, 0.9), range(ctx.seed, ctx.seed + 1), 150
    margins = [[ex.trained_margins(r, seed=s, setting=setting, steps=steps, eta_fraction=0.1) for r in rhos]
               for s in seeds]
    conflicting = np.array([[m.conflicting_margin for m in row] for row in margins])
    accuracy = np.array([[m.conflicting_accuracy for m in row] for row in margins])
    spread = [(float(m.train_margins.min()), float(m.train_margins.max())) for row in margins for m in row]
    falling = bool(np.all(conflicting[:, -1] < conflicting[:, 0]))
    return Row("E3", NETWORK + ", trained by GD", f"{steps} full-batch GD steps, eta=0.2/lambda_1, f_0 subtracted, "
               f"rho {rhos}; {_describe(setting, seeds)}",
               "conflicting margin falls from rho=1/2 to 0.9",
               f"conflicting margin {conflicting.mean(0)[0]:.2f}->{conflicting.mean(0)[-1]:.2f}, accuracy "
               f"{accuracy.mean(0)[0]:.2f}->{accuracy.mean(0)[-1]:.2f}; train margins in "
               f"[{min(s[0] for s in spread):.2f}, {max(s[1] for s in spread):.2f}] (not interpolated)",
               float(np.max(conflicting[:, -1] / conflicting[:, 0])), verdict(falling),
               series={"rho": list(rhos), "conflicting_margin": conflicting.tolist(),
                       "conflicting_accuracy": accuracy.tolist(), "train_margin_range": spread,
                       "margin_rho": list(rhos), "margin_conflicting": conflicting.mean(0).tolist()})


ENTRIES = [("G1", "resnet18", g1), ("E2", "resnet18", e2), ("E3", "resnet18", e3_kernel),
           ("E3", "resnet18", e3_trained)]
