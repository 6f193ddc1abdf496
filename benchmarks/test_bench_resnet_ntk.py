"""Benchmarks of the ResNet-18 empirical NTK (numerics.structured_ntk) against same-run baselines.

ResNet-18 at width 64 (11.2M parameters, scalar output), 3x32x32 inputs, float32, one thread
(benchmarks/conftest.py), so ratios compare algorithms. Convention
(numerics/bench.py): cases of one ``group`` are compared, ``extra_info["role"] == "baseline"`` is
the denominator. Every case also records its peak memory, ``peak_rss_gb``: the largest resident
set size above the one before the call (numerics.memory.PeakRSS: Linux's high-water mark, reset
before the call, after glibc's malloc_trim, so freed memory of earlier cases does not count).
With ``--device cuda`` the network, inputs, Grams and float64 reference live on the GPU, the timer is
synchronised wall seconds (numerics/clock.py), the memory is ``peak_cuda_gb`` (what torch allocated
on the GPU over the call, numerics.memory.PeakCudaMemory) and the Gram floors are at the GPU's GEMM
rates; the eigensolver on a formed Gram stays numpy/LAPACK on the CPU, and its floor at the CPU's.

Default (n = 64, "resnet18-ntk-gram-n64"): the per-sample-gradient loop then J J^T (baseline)
against the structured Gram and the chunked vmap(grad) Gram; ``rel_fro_err`` = ||K - K64||_F /
||K64||_F against a float64 reference computed once by chunked per-sample gradients (the definition,
independent of the structured contractions) of the same network (the float32 weights, cast).
Target: >= 5x faster, <= 1/2 the baseline's memory, rel_fro_err <= 1e-5. Float32 caveat: a ReLU
whose float64 pre-activation is within float32 rounding of 0 can switch sign, which changes that
unit's gradient by O(1); with these inputs (seed 64) one of the ~1e7 ReLU evaluations of the
batched forward does (z = 9.8e-7 in float64, -5.7e-7 in float32, at layer2's output), giving
rel_fro_err 4.8e-5 for the chunked route while the batch-1 loop escapes it (3e-6); the structured
route's channels-last forward (other convolution kernels, other rounding) escapes it too (1.7e-7, as
without a flip: input seeds 1, 2 gave 1.6e-7).

Every case records the floor contract of numerics/floor.py: ``floor_s``, its counted multiply-adds at the
measured one-thread GEMM rate (float32 for the Gram work, float64 for the eigensolver's products on K,
each at its own block shape, dimensions capped at GEMM_PROBE_MAX for the probe), and ``floor_what``.
The structured Gram cases also record the per-layer breakdown of numerics.structured_ntk.GramProfile:
``layers`` = [[name, seconds, MACs], ...] ("capture" = the batched forward and backward, forward MACs
only; "biases and BatchNorm" = those parameters' Gram; then one row per weight), ``macs``,
``gflops`` = 2 MACs / the case's time, ``gemm_fraction`` = floor / the case's time (the share of the
measured GEMM rate achieved over the whole call), and print the table.

SHORTCUT_NTK_BENCH_FULL=1 adds: top-10 eigenpairs at n = 512 (matrix-free vjp/jvp operator + eigsh,
baseline, against the structured Gram + numerics.eigen; target 60 s; eig_rel_err = max_i |lambda_i -
lambda_i(matrix-free)| / lambda_i(matrix-free) and sin_angle between the top-10 subspaces are
reported, not judged by a fixed number: both sides are float32 computations of the NTK, which differ by
rounding of order eps_32 lambda_1 in norm, so Weyl's bound puts the eigenvalue error near eps_32
lambda_1 / lambda_10 and Davis-Kahan the angle near eps_32 lambda_1 / (lambda_10 - lambda_11); this
network's spectrum is steep and crowded there (n = 512: lambda_1 = 2.6e5, lambda_10 = 4.3e-3 lambda_1,
lambda_10 - lambda_11 = 2.8e-4 lambda_1; eps_32 times those ratios: 2.8e-5 and 4.2e-4; measured
3.1e-5 and 1.3e-3, 2026-12-03), and a smaller gap would raise the angle with both sides correct), the
full Gram at n = 2048 (targets 60 s and gemm_fraction >= 0.5, 8 GB), whose
record carries an estimate of the largest n that fits 20 GB: peak(n) = a + b n + 16 n^2 bytes (the
float64 Gram and one n x n temporary), a and b fitted to the measured peaks at n = 512 and 2048; and
top-10 eigenpairs of the structured Gram at n = 4096 (targets 5 minutes, 8 GB; the certificate's
relative residuals ``max_rel_residual`` = max_i r_i / lambda_i).
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from numerics.bench import bench_device, warmup_rounds
from numerics.clock import device_clock
from numerics.eigen import top_eigenpairs
from numerics.floor import gemm_seconds
from numerics.memory import peak_memory
from numerics.models import resnet18
from numerics.structured_ntk import GramProfile, chunked_gram, matrix_free_eigenpairs, structured_gram

DEVICE = bench_device()
WARMUP = warmup_rounds(DEVICE)   # untimed rounds before the timed ones: 1 on CUDA
pytestmark = pytest.mark.benchmark(timer=device_clock(DEVICE))
#: the extra_info key of a case's peak memory: the process's resident memory, or the GPU's
PEAK_KEY = "peak_rss_gb" if DEVICE == "cpu" else "peak_cuda_gb"
FULL = os.environ.get("SHORTCUT_NTK_BENCH_FULL") == "1"
WIDTH, SIZE, K_TOP = 64, 32, 10
#: largest dimension of a floor GEMM probe: one-thread rates saturate well below it (measured: 150-175
#: GFLOP/s float32 from 512 x 128 x 512 up), and it keeps the probe's matrices at a few tens of MB
GEMM_PROBE_MAX = 4096
_REFERENCE = {}
_PEAKS = {}


def measured(fn, key):
    """fn wrapped so that its peak memory lands in _PEAKS[key]."""
    def run(*args, **kwargs):
        with peak_memory(DEVICE) as peak:
            out = fn(*args, **kwargs)
        _PEAKS[key] = peak.gb
        return out
    return run


def network():
    return resnet18(1, WIDTH, seed=0, device=DEVICE)


def inputs(n):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(n)).to(DEVICE)


def per_sample_loop_gram(model, X) -> torch.Tensor:
    """Baseline: one backward per sample into the rows of J (n x P), then K = J J^T."""
    params = list(model.parameters())
    J = torch.empty(X.shape[0], sum(p.numel() for p in params), dtype=X.dtype, device=X.device)
    for i in range(X.shape[0]):
        grads = torch.autograd.grad(model(X[i:i + 1])[0], params)
        torch.cat([g.reshape(-1) for g in grads], out=J[i])
    return (J @ J.T).to(torch.float64)


def float64_reference(n) -> torch.Tensor:
    if n not in _REFERENCE:
        _REFERENCE[n] = chunked_gram(network().double(), inputs(n).double(), memory=3 * 2**30)
    return _REFERENCE[n]


def rel_fro_err(K, n) -> float:
    ref = float64_reference(n)
    return float(torch.linalg.norm(K - ref) / torch.linalg.norm(ref))


def gemm_floor(macs: float, shape, dtype: str = "float32", device: str = DEVICE) -> float:
    """Seconds of ``macs`` multiply-adds at the measured GEMM rate of ``shape`` (m, k, n) on ``device``
    (one thread on the CPU), each dimension capped at GEMM_PROBE_MAX."""
    m, k, n = (max(1, min(int(x), GEMM_PROBE_MAX)) for x in shape)
    return gemm_seconds(m, k, n, dtype, count=macs / (m * k * n), device=device)


def profiled_gram(model, X, profile: GramProfile):
    """The structured Gram with ``profile`` holding THIS call's rows only (a benchmark runs it several rounds)."""
    profile.layers.clear()
    return structured_gram(model, X, profile=profile)


def profile_info(profile: GramProfile, seconds: float) -> dict:
    """The per-layer breakdown, totals and floor of one structured Gram timed at ``seconds`` (the case's
    own time; module docstring); prints the table."""
    rows = profile.merged()
    floor = sum(gemm_floor(row.macs, row.gemm) for row in rows)
    print(f"\n{profile.table()}\ncase {seconds:.3f} s, floor {floor:.3f} s, GEMM fraction {floor / seconds:.2f}")
    return dict(layers=[[row.name, round(row.seconds, 4), row.macs] for row in rows], macs=profile.macs,
                gflops=2 * profile.macs / seconds / 1e9, gemm_fraction=floor / seconds,
                floor_s=floor, floor_what=f"{profile.macs / 1e9:.1f} GMAC of the structured Gram (block products, "
                                          "gradient formation, capture forward) at float32 GEMM of each layer's block shape")


def forward_macs(model, n: int) -> int:
    """Multiply-adds of the model's forward over n samples (the capture row of a one-sample profile)."""
    profile = GramProfile()
    structured_gram(model, inputs(1), profile=profile)
    return n * profile.layers[0].macs


def eigen_floor(result, n: int) -> float:
    """The eigensolver's products on the dense K: matvecs columns of 2 n^2 flops at float64 GEMM of
    n x n by n x 16 (a block of columns), on the CPU, where numerics.eigen runs."""
    return gemm_floor(result.matvecs * n * n, (n, n, 16), "float64", "cpu")


# ---- full Gram at n = 64 ------------------------------------------------------------------------
GRAM_N = 64


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_gram_baseline_per_sample_loop(benchmark):
    benchmark.group = f"resnet18-ntk-gram-n{GRAM_N}"
    model, X = network(), inputs(GRAM_N)
    K = benchmark.pedantic(measured(per_sample_loop_gram, "loop"), args=(model, X), rounds=3, iterations=1, warmup_rounds=WARMUP)
    P = _n_params(model)
    benchmark.extra_info.update(role="baseline", n=GRAM_N, width=WIDTH, **{PEAK_KEY: _PEAKS["loop"]},
                                rel_fro_err=rel_fro_err(K, GRAM_N),
                                floor_s=gemm_floor(GRAM_N * GRAM_N * P, (GRAM_N, P, GRAM_N)),
                                floor_what=f"J J^T: {GRAM_N}^2 x {P} MACs at float32 GEMM (the n backwards not counted)")


@pytest.mark.parametrize("route", ["structured", "chunked"])
def test_gram(benchmark, route):
    benchmark.group = f"resnet18-ntk-gram-n{GRAM_N}"
    model, X = network(), inputs(GRAM_N)
    P = _n_params(model)
    # chunked: its gradient chunks within half of the baseline's n x P float32 Jacobian
    budget = GRAM_N * P * 4 // 2
    profile = GramProfile()
    gram = (lambda m, x: profiled_gram(m, x, profile)) if route == "structured" else (
        lambda m, x: chunked_gram(m, x, memory=budget))
    K = benchmark.pedantic(measured(gram, route), args=(model, X), rounds=3 if route == "structured" else 1,
                           iterations=1, warmup_rounds=WARMUP)
    info = dict(n=GRAM_N, width=WIDTH, **{PEAK_KEY: _PEAKS[route]}, rel_fro_err=rel_fro_err(K, GRAM_N))
    if route == "structured":
        info.update(profile_info(profile, benchmark.stats.stats.min))
    else:
        pairs = GRAM_N * (GRAM_N + 1) // 2
        info.update(floor_s=gemm_floor(pairs * P, (GRAM_N, P, GRAM_N)),
                    floor_what=f"G G^T upper triangle: {pairs} pairs x {P} MACs at float32 GEMM "
                               "(the per-sample gradients not counted)")
    if "loop" in _PEAKS:
        info["memory_vs_baseline"] = _PEAKS[route] / _PEAKS["loop"]
    benchmark.extra_info.update(info)


# ---- top-10 at n = 512 and 4096, full Gram at n = 2048 (SHORTCUT_NTK_BENCH_FULL=1) --------------
TOP_N, GRAM_FULL_N, TOP_FULL_N = 512, 2048, 4096


def _structured_top(model, X, profile):
    return top_eigenpairs(profiled_gram(model, X, profile), K_TOP)


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1 (about 10 minutes for the baseline)")
def test_top10_baseline_matrix_free_eigsh(benchmark):
    benchmark.group = f"resnet18-ntk-top{K_TOP}-n{TOP_N}"
    model, X = network(), inputs(TOP_N)
    run = measured(lambda: matrix_free_eigenpairs(model, X, K_TOP, method="eigsh"), "matrix_free")
    result = _REFERENCE["top"] = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=WARMUP)
    forward = forward_macs(model, TOP_N)
    benchmark.extra_info.update(role="baseline", n=TOP_N, **{PEAK_KEY: _PEAKS["matrix_free"]},
                                floor_s=gemm_floor(result.matvecs * 2 * forward, (4096, 576, 64)),
                                floor_what=f"{result.matvecs} operator columns x 2 forwards (vjp + jvp) of "
                                           f"{forward / 1e9:.1f} GMAC at float32 GEMM")


def _top_info(result, profile, n, key, seconds) -> dict:
    gram = profile_info(profile, seconds)
    floor = gram["floor_s"] + eigen_floor(result, n)
    return dict(gram, n=n, **{PEAK_KEY: _PEAKS[key]}, floor_s=floor, gemm_fraction=floor / seconds, matvecs=result.matvecs,
                max_rel_residual=float(np.max(result.residuals / result.values)),
                floor_what=gram["floor_what"] + f"; then {result.matvecs} columns x n^2 at float64 GEMM")


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1")
def test_top10_structured(benchmark):
    benchmark.group = f"resnet18-ntk-top{K_TOP}-n{TOP_N}"
    model, X, profile = network(), inputs(TOP_N), GramProfile()
    result = benchmark.pedantic(measured(_structured_top, "top_structured"), args=(model, X, profile),
                                rounds=1, iterations=1, warmup_rounds=WARMUP)
    info = _top_info(result, profile, TOP_N, "top_structured", benchmark.stats.stats.min)
    if "top" in _REFERENCE:
        ref = _REFERENCE["top"]
        info["eig_rel_err"] = float(np.max(np.abs(result.values - ref.values) / ref.values))
        info["sin_angle"] = float(np.linalg.norm(result.vectors - ref.vectors @ (ref.vectors.T @ result.vectors), 2))
    benchmark.extra_info.update(info)


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1")
def test_gram_n2048(benchmark):
    benchmark.group = f"resnet18-ntk-gram-n{GRAM_FULL_N}"
    model, X, profile = network(), inputs(GRAM_FULL_N), GramProfile()
    benchmark.pedantic(measured(profiled_gram, "n2048"), args=(model, X, profile), rounds=1, iterations=1, warmup_rounds=WARMUP)
    info = dict(profile_info(profile, benchmark.stats.stats.min), n=GRAM_FULL_N, **{PEAK_KEY: _PEAKS["n2048"]})
    if "top_structured" in _PEAKS:  # peak(n) = a + b n + 16 n^2 through (512, p512), (2048, p2048)
        p1, p2 = (_PEAKS[k] * 2**30 - 16 * n**2 for k, n in (("top_structured", TOP_N), ("n2048", GRAM_FULL_N)))
        b = (p2 - p1) / (GRAM_FULL_N - TOP_N)
        a = p1 - b * TOP_N
        n_max = (-b + np.sqrt(b * b - 4 * 16 * (a - 20 * 2**30))) / (2 * 16)
        info.update(n_max_20GB_estimate=int(n_max), bytes_per_sample=b)
    benchmark.extra_info.update(info)


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1 (about 3 minutes)")
def test_top10_structured_n4096(benchmark):
    benchmark.group = f"resnet18-ntk-top{K_TOP}-n{TOP_FULL_N}"
    model, X, profile = network(), inputs(TOP_FULL_N), GramProfile()
    result = benchmark.pedantic(measured(_structured_top, "n4096"), args=(model, X, profile), rounds=1, iterations=1, warmup_rounds=WARMUP)
    benchmark.extra_info.update(_top_info(result, profile, TOP_FULL_N, "n4096", benchmark.stats.stats.min))
