"""Benchmarks of the eigensolver core against its baselines, each measured in the same session.

Run with ``pytest benchmarks/`` or ``shortcut-ntk bench`` (numerics/bench.py: the ratio table).
Every case runs single-threaded (threadpoolctl ``threadpool_limits(1)`` for numpy/scipy's
OpenBLAS and the OpenMP pool, and ``torch.set_num_threads(1)``), so ratios compare algorithms,
not thread counts; the timer is ``time.process_time`` (CPU seconds of this one-threaded process),
so that other jobs on a shared machine do not enter the times.  Convention (numerics/bench.py):
cases of one ``group`` are compared, the one with ``extra_info["role"] == "baseline"`` is the
denominator.  Accuracy against the baseline's answer goes into ``extra_info``:
eig_rel_err = max|lambda - lambda_ref| / lambda_ref_1, sin_angle = ||(I - U U^T) V||_2 between
the top-k subspaces, matvecs = columns of A applied (certificate included).

Cases: ReLU-NTK-like dense kernel (d = 64), top-10, block route vs numpy.linalg.eigh, n = 4096
(n = 8192 too with SHORTCUT_NTK_BENCH_FULL=1), and that route's input check alone (the symmetry probe,
in a group of its own: the part of the route's time / floor that no product floor prices); low-rank route vs
numpy.linalg.eigh of X X^T (n = 4096, d = 64) and the low-rank route alone at n = 65536; matrix-free: what ``method="auto"``
picks vs eigsh on the same LinearOperator (the n = 4096 kernel behind numerics.blas.matmul), tol = 1e-8.
Baselines run 3 rounds (min/median over rounds), the routes 5.  CPU only: with ``--device cuda`` the
module is skipped.

Floors (numerics/floor.py; ``floor_s`` and ``floor_what`` in extra_info), each the products the case
actually applied, certificate included, at the one-thread GEMM rate of their own shape:
  numpy eigh     4/3 n^3 flops (Householder tridiagonalisation, the least of any dense eigh) at the
                 machine's reference GEMM rate;
  block          (matvecs - (k+1)) columns in panels (n x n)(n x b), b = numerics.eigen's dense default,
                 plus the certificate's (n x n)(n x (k+1)), times the phase of the rounds: the panel
                 product re-timed right before each round (numerics.floor.RoundProbe; ``floor_best_s``
                 is the floor at the process's best rate, ``phase`` the factor);
  input check    one streaming read of A (8 n^2 bytes) at the measured read bandwidth;
  lowrank        F^T F (r x n)(n x r), LAPACK eigh of r x r, the map F U (n x r)(r x (k+1)) and the
                 certificate's F^T V and F (F^T V);
  matrix-free    every operator application (n x n)(n x w) at its own width w, as recorded by the operator.
"""
import os
import time

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from numerics import eigen
from numerics.bench import bench_device
from numerics.blas import symmetric_matmul
from numerics.eigen import LowRank, top_eigenpairs
from numerics.floor import REFERENCE_GEMM, RoundProbe, eigh_seconds, gemm_rate, gemm_seconds, read_seconds
from numerics.kernels import relu_ntk

K_TOP = 10
D = 64
FULL = os.environ.get("SHORTCUT_NTK_BENCH_FULL") == "1"
NTK_SIZES = [4096, 8192] if FULL else [4096]
DENSE_BLOCK = max(2 * K_TOP, K_TOP + 8)   # numerics.eigen's default block size for a dense A
BASELINE_ROUNDS = 3
DENSE_ROUNDS = 5
_REFERENCE = {}   # the baseline's answer, reused for the accuracy of the other cases
pytestmark = [pytest.mark.benchmark(timer=time.process_time),
              pytest.mark.skipif(bench_device() != "cpu", reason="the eigensolver core is numpy/LAPACK: CPU only")]


def relu_ntk_kernel(n: int, seed: int = 0) -> np.ndarray:
    """The two-layer ReLU NTK (numerics.kernels.relu_ntk, docs/theory.md#R1) of X ~ N(0, 1)^(n x d)."""
    return relu_ntk(np.random.default_rng(seed).standard_normal((n, D)))


def gaussian_factor(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, D))


def top_of_full_eigh(A: np.ndarray):
    w, U = np.linalg.eigh(A)
    return w[::-1][:K_TOP].copy(), U[:, ::-1][:, :K_TOP].copy()


def eigh_floor(n: int) -> dict:
    """4/3 n^3 flops of Householder tridiagonalisation at the reference GEMM rate."""
    return {"floor_s": 4 / 3 * n**3 / gemm_rate(*REFERENCE_GEMM),
            "floor_what": f"4/3 n^3 tridiagonalisation flops at the {'x'.join(map(str, REFERENCE_GEMM))} GEMM rate"}


def block_floor(n: int, matvecs: int, phase: float) -> dict:
    """The products applied at their best rates, times ``phase`` (numerics.floor.RoundProbe of the
    (n x n)(n x b) panel product next to the rounds)."""
    q, b = K_TOP + 1, DENSE_BLOCK
    best = gemm_seconds(n, n, b, count=(matvecs - q) / b) + gemm_seconds(n, n, q)
    return {"floor_s": phase * best, "floor_best_s": best, "phase": phase,
            "floor_what": f"phase {phase:.2f} x ({matvecs - q} columns at (n x n)(n x {b}) [{gemm_rate(n, n, b) / 1e9:.3g} "
                          f"GFLOP/s] + certificate (n x n)(n x {q}) [{gemm_rate(n, n, q) / 1e9:.3g} GFLOP/s] GEMM), "
                          f"n = {n}"}


def lowrank_floor(n: int, r: int) -> dict:
    q = K_TOP + 1
    return {"floor_s": gemm_seconds(r, n, r) + eigh_seconds(r) + 3 * gemm_seconds(n, r, q),
            "floor_what": f"F^T F ({r} x {n})({n} x {r}) + eigh {r} x {r} + F U and certificate F^T V, F (F^T V) "
                          f"({n} x {r})({r} x {q}) GEMM"}


def reference(key, build):
    if key not in _REFERENCE:
        _REFERENCE[key] = top_of_full_eigh(build())
    return _REFERENCE[key]


def accuracy(values, vectors, ref) -> dict:
    w, U = ref
    return {"eig_rel_err": float(np.abs(values - w).max() / abs(w[0])),
            "sin_angle": float(np.linalg.norm(vectors - U @ (U.T @ vectors), 2))}


@pytest.mark.parametrize("n", NTK_SIZES)
def test_dense_ntk_baseline_numpy_eigh(benchmark, n):
    benchmark.group = f"dense-ntk-top{K_TOP}-n{n}"
    K = relu_ntk_kernel(n)
    _REFERENCE[("ntk", n)] = benchmark.pedantic(top_of_full_eigh, args=(K,), rounds=BASELINE_ROUNDS, iterations=1)
    benchmark.extra_info.update(role="baseline", n=n, k=K_TOP, method="numpy.linalg.eigh", **eigh_floor(n))


@pytest.mark.parametrize("n", NTK_SIZES)
def test_dense_ntk_block(benchmark, n):
    benchmark.group = f"dense-ntk-top{K_TOP}-n{n}"
    K = relu_ntk_kernel(n)
    ref = reference(("ntk", n), lambda: K)
    probe = RoundProbe(K, DENSE_BLOCK)
    result = benchmark.pedantic(top_eigenpairs, args=(K, K_TOP), kwargs={"method": "block"}, setup=probe,
                                rounds=DENSE_ROUNDS, iterations=1, warmup_rounds=1)
    info = accuracy(result.values, result.vectors, ref)
    benchmark.extra_info.update(role="ours", n=n, k=K_TOP, method="block", matvecs=result.matvecs,
                                gap_ok=result.gap_ok, max_residual=float(result.residuals.max()), **info,
                                **block_floor(n, result.matvecs, probe.phase(DENSE_ROUNDS)))
    assert info["eig_rel_err"] <= 1e-10 and info["sin_angle"] <= 1e-8


@pytest.mark.parametrize("n", NTK_SIZES)
def test_dense_ntk_input_check(benchmark, n):
    """What every dense solve pays before its first product (numerics.eigen._check_dense): the symmetry
    probe A x against A^T x in one pass over A, finiteness and max|A_ii| (K passes the probe, so the
    entrywise scan does not run).  Its floor is one streaming read of A, since the probe reads each entry
    once; its median over the dense case's floor is the share of that case's time / floor that is the
    check (docs/benchmarks.md: 0.08-0.09 on the Intel Xeon, 0.2 with the entrywise scan it replaced)."""
    benchmark.group = f"dense-ntk-input-check-n{n}"
    K = relu_ntk_kernel(n)
    _, _, probed_symmetric = benchmark.pedantic(eigen._check_dense, args=(K,), rounds=DENSE_ROUNDS,
                                                iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(role="ours", n=n, method="numerics.eigen._check_dense",
                                floor_s=read_seconds(K.nbytes),
                                floor_what=f"one streaming read of A ({K.nbytes / 1e6:.0f} MB) at the read bandwidth")
    assert probed_symmetric


def test_lowrank_baseline_numpy_eigh(benchmark):
    benchmark.group = f"lowrank-d{D}-top{K_TOP}-n4096"
    F = gaussian_factor(4096)
    A = F @ F.T
    _REFERENCE[("gram", 4096)] = benchmark.pedantic(top_of_full_eigh, args=((A + A.T) / 2,),
                                                    rounds=BASELINE_ROUNDS, iterations=1)
    benchmark.extra_info.update(role="baseline", n=4096, k=K_TOP, method="numpy.linalg.eigh of X X^T",
                                **eigh_floor(4096))


def test_lowrank_route(benchmark):
    benchmark.group = f"lowrank-d{D}-top{K_TOP}-n4096"
    F = gaussian_factor(4096)
    ref = reference(("gram", 4096), lambda: F @ F.T)
    result = benchmark(top_eigenpairs, LowRank(F), K_TOP)
    info = accuracy(result.values, result.vectors, ref)
    benchmark.extra_info.update(role="ours", n=4096, k=K_TOP, method="lowrank", matvecs=result.matvecs,
                                max_residual=float(result.residuals.max()), **info, **lowrank_floor(4096, D))
    assert info["eig_rel_err"] <= 1e-10 and info["sin_angle"] <= 1e-8


def test_lowrank_route_n65536(benchmark):
    benchmark.group = f"lowrank-d{D}-top{K_TOP}-n65536"
    F = gaussian_factor(65536)
    result = benchmark(top_eigenpairs, LowRank(F), K_TOP)
    U, s, _ = np.linalg.svd(F, full_matrices=False)   # reference: thin SVD of F
    info = accuracy(result.values, result.vectors, (s[:K_TOP] ** 2, U[:, :K_TOP]))
    benchmark.extra_info.update(role="ours", n=65536, k=K_TOP, method="lowrank", matvecs=result.matvecs,
                                max_residual=float(result.residuals.max()), **info, **lowrank_floor(65536, D))
    assert info["eig_rel_err"] <= 1e-10 and info["sin_angle"] <= 1e-8
    assert benchmark.stats.stats.median < 1.0


class KernelOperator(spla.LinearOperator):
    """v -> K v and V -> K V, both through numerics.blas.symmetric_matmul (K equals K^T entry for entry,
    checked by the caller; one BLAS and layout for both routes, the machine's faster one on thin
    products, as for the dense route and as the floor prices every application; behind torch.mm,
    MKL on an AMD EPYC ran the 20-column product at 12.4 GFLOP/s against OpenBLAS's 28.6, which
    measured the library, not the solver: numerics/eigen.py gives both); ``widths`` records the
    columns of every application, for the floor."""

    def __init__(self, K: np.ndarray):
        super().__init__(np.float64, K.shape)
        self.K, self.widths = K, []

    def _apply(self, V):
        V2 = np.ascontiguousarray(V, dtype=np.float64).reshape(self.shape[0], -1)
        self.widths.append(V2.shape[1])
        return symmetric_matmul(self.K, V2).reshape(np.shape(V))

    _matvec = _matmat = _apply

    def floor(self) -> dict:
        """Every application (n x n)(n x w) at the GEMM rate of its own width w."""
        n = self.shape[0]
        seconds = sum(gemm_seconds(n, n, w, count=self.widths.count(w)) for w in set(self.widths))
        shapes = ", ".join(f"{self.widths.count(w)} x (n x n)(n x {w}) [{gemm_rate(n, n, w) / 1e9:.3g} GFLOP/s]"
                           for w in sorted(set(self.widths)))
        return {"floor_s": seconds, "floor_what": f"{shapes} GEMM, n = {n}"}


@pytest.mark.parametrize("method", ["eigsh", "auto"])
def test_matrix_free(benchmark, method):
    """Same LinearOperator, tol = 1e-8; matvecs counts operator columns incl. the certificate; the
    floor is that of the applications of the last round."""
    benchmark.group = f"matrix-free-ntk-top{K_TOP}-n4096-tol1e-8"
    K = relu_ntk_kernel(4096)
    assert np.array_equal(K, K.T)         # relu_ntk is symmetric in its two arguments, entry for entry
    ref = reference(("ntk", 4096), lambda: K)
    operators = []

    def solve():
        operators.append(KernelOperator(K))
        return top_eigenpairs(operators[-1], K_TOP, method=method, tol=1e-8)

    result = benchmark.pedantic(solve, rounds=BASELINE_ROUNDS, iterations=1)
    info = accuracy(result.values, result.vectors, ref)
    benchmark.extra_info.update(role="baseline" if method == "eigsh" else "ours", n=4096, k=K_TOP,
                                method=result.method, matvecs=result.matvecs,
                                max_residual=float(result.residuals.max()), **info, **operators[-1].floor())
    assert info["eig_rel_err"] <= 1e-10
