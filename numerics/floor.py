"""The machine's floor, measured in the same run as the benchmarks it judges (issue 17).

A ratio against numpy's eigh moves with the machine; a ratio against the machine's own floor, measured
in the same process a moment before, does not. Every benchmark case records in ``extra_info``:

    floor_s    the least time its work can take on this machine: the products it actually applied,
               timed as what one-thread GEMM at the same panel shape costs (``gemm_seconds``), plus any
               memory traffic at the measured read bandwidth (``read_seconds``);
    floor_what a one-line account of that work (e.g. "231 columns x 2 n^2 at 4096x4096x24 GEMM").

numerics/bench.py prints time / floor per case and ``--compare`` tracks it.  ``eigh_seconds(r)`` is the
floor of a small dense eigenproblem (LAPACK eigh of r x r); ``machine_floor()`` the machine's reference
rates (GEMM at REFERENCE_GEMM, read bandwidth), which benchmarks/conftest.py writes into the JSON.

Both rates are BEST-of-REPEATS (or more, see MIN_SECONDS) CPU times (``time.process_time``, the benchmarks' own timer) of one
thread (numerics.threads.one_thread): the floor is what the machine can do, so the fastest repeat is
the estimate and slower ones are interference. Results are cached per shape for the process.
"""
from __future__ import annotations

import functools
import time

import numpy as np
import torch

from numerics.blas import LIBRARIES, SWAPPED, TRANSPOSED
from numerics.threads import one_thread

#: repeats of each floor measurement (the best is kept) ...
REPEATS = 5
#: ... at least, and more while the repeats so far took under MIN_SECONDS (at most MAX_REPEATS): a
#: memory-bound call (a matrix-vector product, ~7 ms at n = 4096) spreads by ~25% between repeats, and
#: its best of 5 was above what the benchmarked route itself reached (best of 20: 6.2 ms against 7.7 ms)
MIN_SECONDS = 0.25
MAX_REPEATS = 50
#: bytes streamed by the bandwidth probe: 256 MiB, far beyond any last-level cache of this machine kind
BANDWIDTH_BYTES = 256 * 2**20


def _best_seconds(call, repeats: int) -> float:
    call()                                    # warm-up: page faults, library dispatch
    best, spent, done = float("inf"), 0.0, 0
    while done < repeats or (spent < MIN_SECONDS and done < MAX_REPEATS):
        start = time.process_time()
        call()
        seconds = time.process_time() - start
        best, spent, done = min(best, seconds), spent + seconds, done + 1
    return best


def gemm_rate(m: int, k: int, n: int, dtype: str = "float64") -> float:
    """FLOP/s of one-thread GEMM of an (m x k) by (k x n) matrix: 2 m k n / best time of the faster of
    the two BLAS libraries here (numerics.blas.LIBRARIES: torch's MKL, numpy's OpenBLAS; which one
    wins depends on the CPU, by 2-3x on thin shapes), each also in the swapped layout (b^T a^T)^T
    (numerics.blas.SWAPPED, what the eigensolver's thin products use) and, for a square first factor
    (m = k), in the transposed layout (numerics.blas.TRANSPOSED, which a symmetric matrix's products may
    use), measured once per (shape, dtype) in this process however the arguments are spelled."""
    if min(m, k, n) < 1:
        raise ValueError(f"gemm_rate: shape must be positive, got ({m}, {k}, {n})")
    return _measured_gemm_rate(int(m), int(k), int(n), str(dtype))


@functools.cache
def _measured_gemm_rate(m: int, k: int, n: int, dtype: str) -> float:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    layouts = (LIBRARIES, SWAPPED, TRANSPOSED) if m == k else (LIBRARIES, SWAPPED)
    products = [layout[name] for name in LIBRARIES for layout in layouts]
    with one_thread():
        seconds = min(_best_seconds(functools.partial(product, a, b), REPEATS) for product in products)
    return 2.0 * m * k * n / seconds


def gemm_seconds(m: int, k: int, n: int, dtype: str = "float64", count: float = 1.0) -> float:
    """The floor time of ``count`` GEMMs of shape (m x k)(k x n) at this machine's measured rate."""
    return count * 2.0 * m * k * n / gemm_rate(m, k, n, dtype)


@functools.cache
def read_bandwidth() -> float:
    """Bytes/s of a one-thread sum over a float64 array of BANDWIDTH_BYTES (a streaming read)."""
    data = np.ones(BANDWIDTH_BYTES // 8)
    with one_thread():
        seconds = _best_seconds(data.sum, REPEATS)
    return BANDWIDTH_BYTES / seconds


def read_seconds(nbytes: float) -> float:
    """The floor time of streaming ``nbytes`` from memory once at the measured read bandwidth."""
    return nbytes / read_bandwidth()


@functools.cache
def eigh_seconds(r: int) -> float:
    """Best one-thread time of a LAPACK symmetric eigensolver on an r x r matrix, the faster of numpy's
    (OpenBLAS) and torch's (MKL), as for GEMM: the floor of the small dense eigenproblem a route cannot
    avoid (e.g. eig(F^T F) of the low-rank one)."""
    if r < 1:
        raise ValueError(f"eigh_seconds: r must be positive, got {r}")
    a = np.random.default_rng(0).standard_normal((r, r))
    a = a + a.T
    with one_thread():
        return min(_best_seconds(functools.partial(np.linalg.eigh, a), REPEATS),
                   _best_seconds(functools.partial(torch.linalg.eigh, torch.from_numpy(a)), REPEATS))


#: the GEMM shape whose rate stands for the machine in ``shortcut-ntk bench``'s header and --compare
REFERENCE_GEMM = (1024, 1024, 1024)


def machine_floor() -> dict:
    """The machine's reference rates: one-thread GEMM GFLOP/s at REFERENCE_GEMM and read GB/s."""
    return {"gemm_gflops": gemm_rate(*REFERENCE_GEMM) / 1e9, "gemm_shape": "x".join(map(str, REFERENCE_GEMM)),
            "read_gb_per_s": read_bandwidth() / 1e9}
