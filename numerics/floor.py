"""The machine's floor, measured in the same run as the benchmarks it judges (issue 17).

A ratio against numpy's eigh moves with the machine; a ratio against the machine's own floor, measured
in the same process a moment before, does not. Every benchmark case records in ``extra_info``:

    floor_s    the least time its work can take on this machine: the products it actually applied,
               timed as what one-thread GEMM at the same panel shape costs (``gemm_seconds``), plus any
               memory traffic at the measured read bandwidth (``read_seconds``);
    floor_what a one-line account of that work (e.g. "231 columns x 2 n^2 at 4096x4096x24 GEMM").

numerics/bench.py prints time / floor per case and ``--compare`` tracks it.  ``eigh_seconds(r)`` is the
floor of a small dense eigenproblem (LAPACK eigh of r x r); ``machine_floor(device)`` the machine's
reference rates (GEMM at REFERENCE_GEMM, read bandwidth) and, on CUDA, the GPU's name, which
benchmarks/conftest.py writes into the JSON.

Both rates are BEST-of-REPEATS (or more, see MIN_SECONDS) times on the clock of the device
(numerics.clock.device_clock): on the CPU, CPU seconds of this process (the benchmarks' own timer) of
one thread (numerics.threads.one_thread); on CUDA, synchronised wall seconds of torch's products there:
the floor is what the machine can do, so the fastest repeat is the estimate and slower ones are
interference. Results are cached per shape and device for the process. A case whose floor is one product
shape (on the CPU) can also re-time that product next to each of its rounds (``RoundProbe``) and scale
its floor to the rounds' phase; it then records

    floor_best_s  the floor at the process's best rate, as above, and
    phase         the product's time next to the rounds over that best (floor_s = phase x floor_best_s).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
import torch

from numerics.blas import LIBRARIES, SWAPPED, TRANSPOSED
from numerics.clock import device_clock
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


def _best_seconds(call, repeats: int, clock: Callable[[], float] = time.process_time) -> float:
    call()                                    # warm-up: page faults, library dispatch
    best, spent, done = float("inf"), 0.0, 0
    while done < repeats or (spent < MIN_SECONDS and done < MAX_REPEATS):
        start = clock()
        call()
        seconds = clock() - start
        best, spent, done = min(best, seconds), spent + seconds, done + 1
    return best


def gemm_rate(m: int, k: int, n: int, dtype: str = "float64", device: str = "cpu") -> float:
    """FLOP/s of GEMM of an (m x k) by (k x n) matrix: 2 m k n / best time.  On the CPU, of one thread,
    the faster of the two BLAS libraries here (numerics.blas.LIBRARIES: torch's MKL, numpy's OpenBLAS;
    which one wins depends on the CPU, by 2-3x on thin shapes), each also in the swapped layout
    (b^T a^T)^T (numerics.blas.SWAPPED, what the eigensolver's thin products use) and, for a square
    first factor (m = k), in the transposed layout (numerics.blas.TRANSPOSED, which a symmetric matrix's
    products may use); on a CUDA ``device``, torch.mm there.  Measured once per (shape, dtype, device)
    in this process however the arguments are spelled."""
    if min(m, k, n) < 1:
        raise ValueError(f"gemm_rate: shape must be positive, got ({m}, {k}, {n})")
    return 2.0 * m * k * n / _fastest_gemm(int(m), int(k), int(n), str(dtype), str(torch.device(device)))[0]


@functools.cache
def _fastest_gemm(m: int, k: int, n: int, dtype: str, device: str) -> tuple[float, Callable]:
    """(best seconds, the library-and-layout product that ran them) of ``gemm_rate``'s shape."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    clock = device_clock(device)
    if torch.device(device).type != "cpu":
        a, b = torch.from_numpy(a).to(device), torch.from_numpy(b).to(device)
        return _best_seconds(functools.partial(torch.mm, a, b), REPEATS, clock), torch.mm
    layouts = (LIBRARIES, SWAPPED, TRANSPOSED) if m == k else (LIBRARIES, SWAPPED)
    products = [layout[name] for name in LIBRARIES for layout in layouts]
    with one_thread():
        return min(((_best_seconds(functools.partial(product, a, b), REPEATS, clock), product) for product in products),
                   key=lambda timed: timed[0])


def gemm_seconds(m: int, k: int, n: int, dtype: str = "float64", count: float = 1.0, device: str = "cpu") -> float:
    """The floor time of ``count`` GEMMs of shape (m x k)(k x n) at this machine's measured rate on ``device``."""
    return count * 2.0 * m * k * n / gemm_rate(m, k, n, dtype, device)


#: timings of a round probe (``RoundProbe``), the best kept: two products a round
ROUND_PROBE_REPEATS = 2


class RoundProbe:
    """A case's floor product, re-timed next to each of its timed rounds: the floor in the rounds' phase.

    ``gemm_seconds`` is the best of the product's repeats, timed once in the process.  On a shared
    machine whole stretches of seconds run slower (neighbours contending for the last-level cache and
    memory: the bare (4096 x 4096)(4096 x 20) product timed 30 times, three times in a row, had medians
    1.03-1.21 x its best, 2026-12-03), and a case's rounds can fall in such a stretch while that best
    did not; time / floor then charges the stretch to the route.  Passed as pytest-benchmark's
    ``pedantic(setup=probe)``, which runs untimed right before every round (warm-up rounds included),
    the probe times the product ``a`` (n x n) times ``columns`` columns, in the library and layout
    ``gemm_rate`` found fastest for that shape, ROUND_PROBE_REPEATS times and keeps the best.
    ``phase(rounds)`` is the median of the last ``rounds`` probes over ``gemm_seconds`` of the shape:
    how much slower the product ran next to the rounds than at its best (1 in a quiet run; below 1
    when the process's best was itself taken in a slow stretch).  A case's floor times its phase is
    its floor in the rounds' phase, with the same noise as its rounds in numerator and denominator."""

    def __init__(self, a: np.ndarray, columns: int):
        if a.ndim != 2 or columns < 1:
            raise ValueError(f"RoundProbe: a 2-D a and columns >= 1, got shape {a.shape} and {columns}")
        self.best, self._product = _fastest_gemm(a.shape[0], a.shape[1], int(columns), str(a.dtype), "cpu")
        self._a = a
        self._b = np.random.default_rng(0).standard_normal((a.shape[1], int(columns))).astype(a.dtype)
        self.times: list[float] = []

    def __call__(self) -> None:
        best = float("inf")
        with one_thread():
            for _ in range(ROUND_PROBE_REPEATS):
                start = time.process_time()
                self._product(self._a, self._b)
                best = min(best, time.process_time() - start)
        self.times.append(best)

    def phase(self, rounds: int) -> float:
        """Median of the last ``rounds`` probes (the timed rounds; warm-up rounds come first) / best."""
        if not 1 <= rounds <= len(self.times):
            raise ValueError(f"RoundProbe.phase: {rounds} rounds asked, {len(self.times)} probes taken")
        return float(np.median(self.times[-rounds:])) / self.best


def read_bandwidth(device: str = "cpu") -> float:
    """Bytes/s of a one-thread sum over a float64 array of BANDWIDTH_BYTES (a streaming read) on ``device``."""
    return _read_bandwidth(str(torch.device(device)))


@functools.cache
def _read_bandwidth(device: str) -> float:
    if torch.device(device).type == "cpu":
        data = np.ones(BANDWIDTH_BYTES // 8)
    else:
        data = torch.ones(BANDWIDTH_BYTES // 8, dtype=torch.float64, device=device)
    with one_thread():
        seconds = _best_seconds(data.sum, REPEATS, device_clock(device))
    return BANDWIDTH_BYTES / seconds


def read_seconds(nbytes: float, device: str = "cpu") -> float:
    """The floor time of streaming ``nbytes`` from memory once at the measured read bandwidth of ``device``."""
    return nbytes / read_bandwidth(device)


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


def machine_floor(device: str = "cpu") -> dict:
    """The machine's reference rates on ``device``: GEMM GFLOP/s at REFERENCE_GEMM (one thread on the
    CPU) and read GB/s, with the device, and on CUDA the GPU's name (torch.cuda.get_device_name; the
    CPU's is in pytest-benchmark's own ``machine_info``)."""
    floor = {"gemm_gflops": gemm_rate(*REFERENCE_GEMM, device=device) / 1e9,
             "gemm_shape": "x".join(map(str, REFERENCE_GEMM)), "read_gb_per_s": read_bandwidth(device) / 1e9,
             "device": str(torch.device(device))}
    if torch.device(device).type == "cuda":
        floor["processor"] = torch.cuda.get_device_name(torch.device(device))
    return floor
