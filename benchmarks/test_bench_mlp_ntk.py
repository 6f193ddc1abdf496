"""Empirical NTK of the two-layer ReLU MLP: the exact factorization against the Jacobian contraction.

Cases (float32, width 4096, d = 64, one thread, timer = CPU seconds of this process; with
``--device cuda``, on the GPU, timer = synchronised wall seconds, numerics/clock.py):
  baseline   the torch.func NTK tutorial's "jacobian contraction": per-sample Jacobians of ALL
             parameters (vmap(jacrev)) for X1 and X2, flattened, then contracted with einsum;
  factorized numerics.kernels.empirical_ntk(method="mlp_factorized"): K = (X X^T / d) * (D D^T) + A A^T.
at n = 256 and 1024 (group "mlp-ntk-n{n}"); with SHORTCUT_NTK_BENCH_FULL=1 also the factorized route
alone at n = 8192 (the baseline would need ~17 GB of Jacobians there), which must stay under 24 GB.
extra_info: role, rel_err = ||K - K_baseline||_F / ||K_baseline||_F (float32: must be <= 1e-5),
peak_rss_mb = peak resident memory added by one call, measured in a fresh subprocess
(numerics.memory.PeakRSS around the call, same inputs; on CUDA peak_cuda_mb, the GPU memory one call
allocated, numerics.memory.PeakCudaMemory, in this process), and f64_rel_err: the
factorized route against the Jacobian contraction in float64 at n = 64 (must be <= 1e-12).
Targets (issue): factorized >= 20x faster than the baseline at n = 1024 and < 0.09 s at n = 256.
Baselines run 3 rounds, the factorized route 5.

Floors (numerics/floor.py; ``floor_s``/``floor_what`` in extra_info), float32 GEMM at the case's shapes, on
the run's device:
  baseline   the contraction J1 J2^T, 2 n^2 P flops (P parameters) at the (n x width)(width x n) rate, plus
             writing and reading the two n x P Jacobians once at the read bandwidth;
  factorized the features X W^T (n x d)(d x width), D D^T and A A^T (n x width)(width x n), X X^T (n x d)(d x n).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.func import functional_call, jacrev, vmap

from numerics.bench import bench_device, warmup_rounds
from numerics.clock import device_clock
from numerics.floor import gemm_rate, read_seconds
from numerics.kernels import empirical_ntk
from numerics.memory import PeakCudaMemory
from numerics.models import TwoLayerReLU

WIDTH, D = 4096, 64
FULL = os.environ.get("SHORTCUT_NTK_BENCH_FULL") == "1"
ROOT = Path(__file__).resolve().parent.parent
_BASELINE = {}   # n -> the baseline's K, reused for the accuracy of the factorized case
DEVICE = bench_device()
WARMUP = warmup_rounds(DEVICE)   # untimed rounds before the timed ones: 1 on CUDA
pytestmark = pytest.mark.benchmark(timer=device_clock(DEVICE))
#: the extra_info key of a case's peak memory: the process's resident memory, or the GPU's
PEAK_KEY = "peak_rss_mb" if DEVICE == "cpu" else "peak_cuda_mb"
BASELINE_ROUNDS = 3
RATE_N = 2048   # floors: GEMM rates are timed with n capped here


def problem(n: int, dtype=torch.float32):
    X = torch.randn(n, D, generator=torch.Generator().manual_seed(n), dtype=dtype)
    return TwoLayerReLU(D, WIDTH, seed=0, dtype=dtype).to(DEVICE), X.to(DEVICE)


def jacobian_contraction(model, X1, X2):
    """The torch.func tutorial's empirical_ntk_jacobian_contraction, for a scalar output."""
    params = {k: v.detach() for k, v in model.named_parameters()}

    def single(p, x):
        return functional_call(model, p, (x.unsqueeze(0),)).squeeze(0)

    jac1 = [j.flatten(1) for j in vmap(jacrev(single), (None, 0))(params, X1).values()]
    jac2 = [j.flatten(1) for j in vmap(jacrev(single), (None, 0))(params, X2).values()]
    return torch.stack([torch.einsum("Nf,Mf->NM", j1, j2) for j1, j2 in zip(jac1, jac2)]).sum(0)


def factorized(model, X1, X2):
    return empirical_ntk(model, X1, X2, method="mlp_factorized")


ROUTES = {"baseline": jacobian_contraction, "factorized": factorized}


def contraction_floor(model, n: int) -> dict:
    P = sum(p.numel() for p in model.parameters())
    m = min(n, RATE_N)
    seconds = 2.0 * n * n * P / gemm_rate(m, WIDTH, m, "float32", DEVICE) + 2 * read_seconds(2 * n * P * 4, DEVICE)
    return {"floor_s": seconds, "floor_what": f"J J^T: 2 n^2 P flops (P = {P}) at the ({n} x {WIDTH})({WIDTH} x {n}) "
                                              "float32 GEMM rate + writing and reading both Jacobians"}


def factorized_floor(n: int) -> dict:
    """The factorized route's GEMMs; each timed at its shape with n capped at RATE_N (the rate of a
    GEMM this size no longer grows with n, and timing an 8192 x 4096 x 8192 one would take a minute)."""
    m = min(n, RATE_N)
    shapes = [(n, D, WIDTH, (m, D, WIDTH)), (n, WIDTH, n, (m, WIDTH, m)), (n, WIDTH, n, (m, WIDTH, m)),
              (n, D, n, (m, D, m))]
    seconds = sum(2.0 * a * b * c / gemm_rate(*rate_shape, "float32", DEVICE) for a, b, c, rate_shape in shapes)
    return {"floor_s": seconds, "floor_what": f"float32 GEMM: X W^T ({n} x {D})({D} x {WIDTH}), D D^T and A A^T "
                                              f"({n} x {WIDTH})({WIDTH} x {n}), X X^T ({n} x {D})({D} x {n})"}


_CHILD = """
import json, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {root!r})
from benchmarks.test_bench_mlp_ntk import ROUTES, problem
from numerics.memory import PeakRSS

model, X = problem({n})
with PeakRSS() as peak:
    ROUTES[{route!r}](model, X, X)
print(json.dumps(peak.mb))
"""


def peak_rss_mb(route: str, n: int) -> float:
    """Peak resident memory (MiB) one call adds, in a fresh single-threaded subprocess
    (numerics.memory.PeakRSS: the rise of the resident set size at its highest point over the call;
    a fresh process, so no earlier case's allocator state enters)."""
    code = _CHILD.format(root=str(ROOT), n=n, route=route)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def peak_mb(route: str, n: int) -> float:
    """Peak memory (MiB) one call adds: ``peak_rss_mb`` on the CPU; on CUDA the GPU memory torch allocated
    over the call (numerics.memory.PeakCudaMemory), in this process: its peak statistic resets, and the
    CUDA allocator's cached blocks of earlier cases are not counted as allocated."""
    if DEVICE == "cpu":
        return peak_rss_mb(route, n)
    model, X = problem(n)
    with PeakCudaMemory(DEVICE) as peak:
        ROUTES[route](model, X, X)
    return peak.mb


def float64_agreement() -> float:
    model, X = problem(64, torch.float64)
    exact = jacobian_contraction(model, X, X)
    return float(torch.linalg.norm(factorized(model, X, X) - exact) / torch.linalg.norm(exact))


@pytest.mark.parametrize("n", [256, 1024])
def test_mlp_ntk_baseline_jacobian_contraction(benchmark, n):
    benchmark.group = f"mlp-ntk-n{n}"
    model, X = problem(n)
    K = benchmark.pedantic(jacobian_contraction, args=(model, X, X), rounds=BASELINE_ROUNDS, iterations=1, warmup_rounds=WARMUP)
    _BASELINE[n] = K
    benchmark.extra_info.update(role="baseline", n=n, width=WIDTH, d=D, **{PEAK_KEY: peak_mb("baseline", n)},
                                **contraction_floor(model, n))


@pytest.mark.parametrize("n", [256, 1024])
def test_mlp_ntk_factorized(benchmark, n):
    benchmark.group = f"mlp-ntk-n{n}"
    model, X = problem(n)
    K = benchmark.pedantic(factorized, args=(model, X, X), rounds=5, iterations=1, warmup_rounds=WARMUP)
    reference = _BASELINE.get(n)
    if reference is None:
        reference = jacobian_contraction(model, X, X)
    rel_err = float(torch.linalg.norm(K - reference) / torch.linalg.norm(reference))
    f64 = float64_agreement()
    benchmark.extra_info.update(role="candidate", n=n, width=WIDTH, d=D, rel_err=rel_err, f64_rel_err=f64,
                                **{PEAK_KEY: peak_mb("factorized", n)}, **factorized_floor(n))
    assert rel_err <= 1e-5 and f64 <= 1e-12


@pytest.mark.skipif(not FULL, reason="n = 8192 only with SHORTCUT_NTK_BENCH_FULL=1")
def test_mlp_ntk_factorized_large(benchmark):
    benchmark.group = "mlp-ntk-n8192"
    model, X = problem(8192)
    benchmark.pedantic(factorized, args=(model, X, X), rounds=1, iterations=1, warmup_rounds=WARMUP)
    peak = peak_mb("factorized", 8192)
    benchmark.extra_info.update(role="candidate", n=8192, width=WIDTH, d=D, **{PEAK_KEY: peak}, **factorized_floor(8192))
    assert peak < 24 * 1024
