"""Determinism (issue 8): every seeded function gives bit-identical results for the same seed in
another process, whatever the global RNGs (random, numpy.random, torch) hold: no library code
reads them. The report's own two-process check is in tests/test_report.py."""
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from numerics.colored_digits import colored_digits
from numerics.data import sample_gmm
from numerics.eigen import top_eigenpairs
from numerics.models import DeepLinear, OneLayerLinear, TwoLayerReLU, resnet18
from numerics.training import gradient_descent
from theory import GMM

ROOT = Path(__file__).resolve().parents[1]


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        h.update(str((a.dtype, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _parameters(model) -> list[torch.Tensor]:
    return [p for _, p in sorted(model.state_dict().items())]


def fingerprints(global_seed: int) -> dict[str, str]:
    """SHA-256 of each seeded function's output (seed 5), after seeding the global RNGs with
    ``global_seed`` (so a dependence on them would change the digest)."""
    random.seed(global_seed)
    np.random.seed(global_seed)
    torch.manual_seed(global_seed)
    gmm = GMM.canonical(1, 2, 0.8, 0.25)
    sample = sample_gmm(gmm, 50, seed=5)
    digits = colored_digits(20, 0.9, seed=5, size=8)
    X = torch.tensor(sample.X)
    trained = TwoLayerReLU(2, 32, seed=5)
    gradient_descent(trained, X, torch.tensor(sample.y, dtype=torch.float64), eta=0.1, steps=5, progress=False)
    rng = np.random.default_rng(5)
    A = rng.standard_normal((80, 80))
    return {
        "sample_gmm": _digest(sample.X, sample.y, sample.cluster),
        "colored_digits": _digest(digits.images, digits.y, digits.b),
        "OneLayerLinear": _digest(*_parameters(OneLayerLinear(3, seed=5))),
        "DeepLinear": _digest(*_parameters(DeepLinear(3, 8, 2, seed=5))),
        "TwoLayerReLU": _digest(*_parameters(TwoLayerReLU(3, 8, seed=5))),
        "resnet18": _digest(*_parameters(resnet18(width=2, seed=5))),
        "gradient_descent": _digest(*_parameters(trained)),
        "top_eigenpairs block": _digest(*top_eigenpairs(A + A.T, 3, method="block", seed=5)),
    }


def _in_another_process(global_seed: int) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=str(global_seed))
    out = subprocess.run([sys.executable, __file__, str(global_seed)], check=True, capture_output=True,
                         text=True, cwd=ROOT, env=env).stdout
    return json.loads(out)


def test_seeded_functions_are_identical_across_processes_and_global_seeds():
    """This process with the global RNGs at seed 0 against another (its own interpreter, PYTHONHASHSEED 1)
    with them at seed 1: one other process tells both a global-RNG read and a per-process one (a second,
    at seed 2, added nothing a fault could need and cost 7 s of the default run's budget)."""
    assert _in_another_process(1) == fingerprints(0)


def test_negative_control_a_different_seed_changes_every_fingerprint():
    """The digests do see the seed: each function with seed 5 -> 6 gives a different digest
    (so the equality above is not vacuous)."""
    gmm = GMM.canonical(1, 2, 0.8, 0.25)
    assert _digest(sample_gmm(gmm, 50, seed=5).X) != _digest(sample_gmm(gmm, 50, seed=6).X)
    assert _digest(colored_digits(20, 0.9, seed=5, size=8).images) != _digest(colored_digits(20, 0.9, seed=6, size=8).images)
    for build in (lambda s: OneLayerLinear(3, seed=s), lambda s: DeepLinear(3, 8, 2, seed=s),
                  lambda s: TwoLayerReLU(3, 8, seed=s), lambda s: resnet18(width=2, seed=s)):
        assert _digest(*_parameters(build(5))) != _digest(*_parameters(build(6)))


if __name__ == "__main__":
    print(json.dumps(fingerprints(int(sys.argv[1]))))
