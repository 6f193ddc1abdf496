"""Write tests/data/nt_reference.json: neural-tangents' infinite-width NNGP and NTK of deep ReLU networks
(claim R1, docs/theory.md), the independent reference for numerics.kernels.relu_ntk / relu_nngp.

Network: stax.serial([Dense(512, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std)), NTK
parameterization, on a grid depth in 1..4, W_std in {1, 1.5}, b_std in {0, 0.5}; inputs X (5 x 4) and
X2 (3 x 4), fixed below, with nearly parallel, nearly antiparallel and duplicate rows. The fixture holds the Gram k(X, X) and
the cross kernel k(X, X2) of each setting, in float64 (jax_enable_x64), every float written exactly
(json writes repr, which round-trips).

neural-tangents is NOT a dependency of the project: run this in a scratch venv, e.g.
    python3 -m venv /tmp/ntvenv
    /tmp/ntvenv/bin/pip install neural-tangents==0.6.5 jax==0.4.30 jaxlib==0.4.30 tf2jax==0.3.6 numpy
    /tmp/ntvenv/bin/python scripts/nt_reference.py
(neural-tangents 0.6.5 imports jax.core.Jaxpr, which jax >= 0.5 no longer has; tf2jax 0.3.6 is the last
that imports with jax 0.4.30.)
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import neural_tangents  # noqa: E402  (after enabling float64)
from neural_tangents import stax  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "nt_reference.json"
DEPTHS, W_STDS, B_STDS = (1, 2, 3, 4), (1.0, 1.5), (0.0, 0.5)


def inputs() -> tuple[np.ndarray, np.ndarray]:
    """X: three Gaussian rows, a row at an angle ~pi - 7e-3 to row 0 and one at ~1e-3 to row 1 (both
    inside numerics.kernels' |cos| > 1 - 1e-4 chord branch); X2: two Gaussian rows and an exact copy of X's
    row 2. Not closer to 0 or pi: neural-tangents takes the angle from arctan2(sqrt(Sigma11 Sigma22 -
    Sigma12^2), Sigma12), which loses ~eps / sin(theta) in theta (~2e-9 relative in the NTK at exactly
    antiparallel inputs), so such pairs would test neural-tangents' rounding, not ours."""
    rng = np.random.default_rng(20260203)
    X = rng.standard_normal((5, 4))
    X[3] = -0.7 * X[0] + 4e-3 * np.linalg.norm(X[0]) * rng.standard_normal(4)
    X[4] = 1.3 * X[1] + 1e-3 * np.linalg.norm(X[1]) * rng.standard_normal(4)
    X2 = rng.standard_normal((3, 4))
    X2[2] = X[2]
    return X, X2


def kernels(X, X2, depth, W_std, b_std) -> dict:
    _, _, kernel_fn = stax.serial(*[stax.Dense(512, W_std, b_std), stax.Relu()] * depth, stax.Dense(1, W_std, b_std))
    gram, cross = kernel_fn(X, None, ("nngp", "ntk")), kernel_fn(X, X2, ("nngp", "ntk"))
    return {"depth": depth, "W_std": W_std, "b_std": b_std,
            "nngp": np.asarray(gram.nngp).tolist(), "ntk": np.asarray(gram.ntk).tolist(),
            "cross_nngp": np.asarray(cross.nngp).tolist(), "cross_ntk": np.asarray(cross.ntk).tolist()}


def main() -> None:
    X, X2 = inputs()
    fixture = {"neural_tangents": neural_tangents.__version__, "jax": jax.__version__,
               "network": "stax.serial([Dense(512, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std))",
               "X": X.tolist(), "X2": X2.tolist(),
               "settings": [kernels(X, X2, *s) for s in itertools.product(DEPTHS, W_STDS, B_STDS)]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
