"""Benchmarks of the ResNet-18 empirical NTK (numerics.structured_ntk) against same-run baselines.

ResNet-18 at width 64 (11.2M parameters, scalar output), 3x32x32 inputs, float32, one thread
(benchmarks/conftest.py), so ratios compare algorithms. Convention
(numerics/bench.py): cases of one ``group`` are compared, ``extra_info["role"] == "baseline"`` is
the denominator. Every case also records its peak memory, ``peak_rss_gb``: the largest resident
set size above the one before the call, sampled every 2 ms by a thread reading /proc/self/statm
(after glibc's malloc_trim, so freed memory of earlier cases does not count).

Default (n = 64, "resnet18-ntk-gram-n64"): the per-sample-gradient loop then J J^T (baseline)
against the structured Gram and the chunked vmap(grad) Gram; ``rel_fro_err`` = ||K - K64||_F /
||K64||_F against a float64 reference computed once by chunked per-sample gradients (the definition,
independent of the structured contractions) of the same network (the float32 weights, cast).
Target: >= 5x faster, <= 1/2 the baseline's memory, rel_fro_err <= 1e-5. Float32 caveat: a ReLU
whose float64 pre-activation is within float32 rounding of 0 can switch sign, which changes that
unit's gradient by O(1); with these inputs (seed 64) one of the ~1e7 ReLU evaluations of the
batched forward does (z = 9.8e-7 in float64, -5.7e-7 in float32, at layer2's output), giving
rel_fro_err 4.8e-5 for the batched routes while the batch-1 loop escapes it (3e-6); without a
flip (input seeds 1, 2) the structured Gram agrees to 1.6e-7.

SHORTCUT_NTK_BENCH_FULL=1 adds: top-10 eigenpairs at n = 512 (matrix-free vjp/jvp operator + eigsh,
baseline, against the structured Gram + numerics.eigen; eig_rel_err = max_i |lambda_i -
lambda_i(matrix-free)| / lambda_i(matrix-free), sin_angle between the top-10 subspaces; targets
60 s, 1e-4, 1e-3), and the full Gram at n = 2048 (targets 10 minutes, 8 GB), whose record carries
an estimate of the largest n that fits 20 GB: peak(n) = a + b n + 16 n^2 bytes (the float64 Gram
and one n x n temporary), a and b fitted to the measured peaks at n = 512 and 2048.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time

import numpy as np
import pytest
import torch

from numerics.eigen import top_eigenpairs
from numerics.models import resnet18
from numerics.structured_ntk import chunked_gram, matrix_free_eigenpairs, structured_gram

FULL = os.environ.get("SHORTCUT_NTK_BENCH_FULL") == "1"
WIDTH, SIZE, K_TOP = 64, 32, 10
_REFERENCE = {}
_PEAKS = {}


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident set size above the starting one, sampled by a background thread."""

    def __enter__(self):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        self.start, self.peak, self._stop = _rss(), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss() - self.start)
            time.sleep(0.002)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss() - self.start)
        self.gb = self.peak / 2**30


def measured(fn, key):
    """fn wrapped so that its peak memory lands in _PEAKS[key]."""
    def run(*args, **kwargs):
        with PeakRSS() as peak:
            out = fn(*args, **kwargs)
        _PEAKS[key] = peak.gb
        return out
    return run


def network():
    return resnet18(1, WIDTH, seed=0)


def inputs(n):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(n))


def per_sample_loop_gram(model, X) -> torch.Tensor:
    """Baseline: one backward per sample into the rows of J (n x P), then K = J J^T."""
    params = list(model.parameters())
    J = torch.empty(X.shape[0], sum(p.numel() for p in params), dtype=X.dtype)
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


# ---- full Gram at n = 64 ------------------------------------------------------------------------
GRAM_N = 64


def test_gram_baseline_per_sample_loop(benchmark):
    benchmark.group = f"resnet18-ntk-gram-n{GRAM_N}"
    model, X = network(), inputs(GRAM_N)
    K = benchmark.pedantic(measured(per_sample_loop_gram, "loop"), args=(model, X), rounds=1, iterations=1)
    benchmark.extra_info.update(role="baseline", n=GRAM_N, width=WIDTH, peak_rss_gb=_PEAKS["loop"],
                                rel_fro_err=rel_fro_err(K, GRAM_N))


@pytest.mark.parametrize("route", ["structured", "chunked"])
def test_gram(benchmark, route):
    benchmark.group = f"resnet18-ntk-gram-n{GRAM_N}"
    model, X = network(), inputs(GRAM_N)
    # chunked: its gradient chunks within half of the baseline's n x P float32 Jacobian
    budget = GRAM_N * sum(p.numel() for p in model.parameters()) * 4 // 2
    gram = structured_gram if route == "structured" else lambda m, x: chunked_gram(m, x, memory=budget)
    K = benchmark.pedantic(measured(gram, route), args=(model, X), rounds=1, iterations=1)
    info = dict(n=GRAM_N, width=WIDTH, peak_rss_gb=_PEAKS[route], rel_fro_err=rel_fro_err(K, GRAM_N))
    if "loop" in _PEAKS:
        info["memory_vs_baseline"] = _PEAKS[route] / _PEAKS["loop"]
    benchmark.extra_info.update(info)


# ---- top-10 at n = 512, full Gram at n = 2048 (SHORTCUT_NTK_BENCH_FULL=1) ----------------------
TOP_N = 512


def _structured_top(model, X):
    return top_eigenpairs(structured_gram(model, X), K_TOP)


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1 (about 10 minutes for the baseline)")
def test_top10_baseline_matrix_free_eigsh(benchmark):
    benchmark.group = f"resnet18-ntk-top{K_TOP}-n{TOP_N}"
    model, X = network(), inputs(TOP_N)
    run = measured(lambda: matrix_free_eigenpairs(model, X, K_TOP, method="eigsh"), "matrix_free")
    _REFERENCE["top"] = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(role="baseline", n=TOP_N, peak_rss_gb=_PEAKS["matrix_free"])


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1")
def test_top10_structured(benchmark):
    benchmark.group = f"resnet18-ntk-top{K_TOP}-n{TOP_N}"
    model, X = network(), inputs(TOP_N)
    result = benchmark.pedantic(measured(_structured_top, "top_structured"), args=(model, X), rounds=1, iterations=1)
    info = dict(n=TOP_N, peak_rss_gb=_PEAKS["top_structured"])
    if "top" in _REFERENCE:
        ref = _REFERENCE["top"]
        info["eig_rel_err"] = float(np.max(np.abs(result.values - ref.values) / ref.values))
        info["sin_angle"] = float(np.linalg.norm(result.vectors - ref.vectors @ (ref.vectors.T @ result.vectors), 2))
    benchmark.extra_info.update(info)


@pytest.mark.skipif(not FULL, reason="set SHORTCUT_NTK_BENCH_FULL=1")
def test_gram_n2048(benchmark):
    benchmark.group = "resnet18-ntk-gram-n2048"
    model, X = network(), inputs(2048)
    benchmark.pedantic(measured(structured_gram, "n2048"), args=(model, X), rounds=1, iterations=1)
    info = dict(n=2048, peak_rss_gb=_PEAKS["n2048"])
    if "top_structured" in _PEAKS:  # peak(n) = a + b n + 16 n^2 through (512, p512), (2048, p2048)
        p1, p2 = (_PEAKS[k] * 2**30 - 16 * n**2 for k, n in (("top_structured", 512), ("n2048", 2048)))
        b = (p2 - p1) / (2048 - 512)
        a = p1 - b * 512
        n_max = (-b + np.sqrt(b * b - 4 * 16 * (a - 20 * 2**30))) / (2 * 16)
        info.update(n_max_20GB_estimate=int(n_max), bytes_per_sample=b)
    benchmark.extra_info.update(info)
