"""Which of the two BLAS libraries in this environment multiplies float64 matrices faster here.

Two BLAS libraries are loaded side by side: torch's (Intel MKL in the CPU wheel) and numpy's
(OpenBLAS).  Which one is faster depends on the CPU, and by a wide margin.  One thread, thin float64
products as the eigensolver makes them (n x n by n x b, n x m by m x b):
  * on the Intel machines of the earlier rounds, torch.mm was 2-3x faster than numpy;
  * on an AMD EPYC machine of the same kind (2026-12-01), numpy was 2-3.5x faster than torch.mm:
    (4096 x 4096)(4096 x 20) at 34 against 16.5 GFLOP/s, (4096 x 220)(220 x 20) 0.76 against 2.7 ms.
So no fixed choice is right on both, and the library is measured once per process
(``gemm_library``): the best of PROBE_REPEATS one-thread runs of each on the probe shape below.
numpy is taken only when it is at least NUMPY_MARGIN times faster, so that a machine where the two
are close keeps torch in every run (measured gaps are 2x or more either way; a tie cannot flip the
choice from one process to the next).  ``SHORTCUT_NTK_BLAS=torch`` or ``=numpy`` pins the library
(bit-for-bit reproducible products across machines of different CPUs).

``matmul(a, b)`` is a @ b, float64, through the chosen library (numerics/eigen.py's products);
``symmetric_matmul(a, b)`` the same for a symmetric a, in the layout that library runs faster
(a dense A's products in the eigensolver); ``swapped_matmul(a, b)`` a @ b as (b^T a^T)^T, the faster
layout for a tall or wide factor times a thin one (the eigensolver's thin products); numerics/floor.py
times both libraries in every layout that computes the product (for a square a also the transposed
one) and takes the fastest as the machine's floor.  ``tensor_view(a)`` is a torch view of a
numpy array for read-only use (the torch product, the eigensolver's symmetry probe and scan).  ``self_gram(a)``
is a a^T of a torch tensor by BLAS syrk, half of GEMM's multiply-adds (the structured NTK's diagonal
blocks).
"""
from __future__ import annotations

import functools
import os
import time
import warnings

import numpy as np
import torch

from numerics.threads import one_thread

#: environment variable that pins the library: "torch" or "numpy"
ENVIRONMENT = "SHORTCUT_NTK_BLAS"
#: numpy must beat torch by this factor to be chosen (module docstring: measured gaps are >= 2x)
NUMPY_MARGIN = 1.25
#: the probe: a thin product (rows x inner)(inner x columns), as the eigensolver's A @ Q_j, at a size
#: whose product takes ~1 ms (1024 x 1024 float64, 8 MiB: past L2, so memory traffic counts as in the
#: real products)
PROBE_SHAPE = (1024, 1024, 20)
PROBE_REPEATS = 7


def tensor_view(a: np.ndarray) -> torch.Tensor:
    """a as a torch tensor sharing its memory (torch.from_numpy), for callers that only read it: a
    read-only a is accepted without torch's warning that writing through the view is undefined."""
    if a.flags.writeable:
        return torch.from_numpy(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(a)


def _torch_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return torch.mm(tensor_view(a), tensor_view(b)).numpy()


def _numpy_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


def _transposed(product):
    """a^T b through ``product`` as product(b^T, a)^T."""
    def transposed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return product(b.T, a).T
    return transposed


def _swapped(product):
    """a b through ``product`` as product(b^T, a^T)^T: the same product with both factors in the other
    memory order and a column-major result."""
    def swapped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return product(b.T, a.T).T
    return swapped


LIBRARIES = {"torch": _torch_matmul, "numpy": _numpy_matmul}
#: a b for any shapes, computed as (b^T a^T)^T (``swapped_matmul``).  For a tall factor and a thin one
#: both libraries ran it faster than a b (one thread, n = 4096, best of 200 unless noted):
#:   * the block route's column-major Q (n x m)(m x 20), Intel Xeon, 2026-12-02: m = 220 torch.mm 1.70 ->
#:     0.97 ms, numpy 1.75 -> 1.01 ms; m = 60 torch.mm 0.30 -> 0.26 ms, numpy 0.35 -> 0.29 ms;
#:   * the low-rank route's C-ordered F (4096 x 64)(64 x 11), AMD EPYC, 2026-12-03: numpy 0.315 -> 0.239
#:     ms, torch.mm 0.499 -> 0.341 ms; and F^T V as (V^T F)^T for a C-ordered V: 0.43 -> 0.28 ms (medians
#:     of 300).
#: Not for a square Z L^-T (the Cholesky QR's m = p = b): there it gains nothing (58-60 us either way)
#: and costs 18% on a row-major Z.
SWAPPED = {name: _swapped(product) for name, product in LIBRARIES.items()}
#: a^T b for a square a, computed as (b^T a)^T: for a C-ordered a that puts a in the BLAS's column-major
#: "no transpose" position, a layout some BLAS runs faster (``symmetric_matmul``)
TRANSPOSED = {name: _transposed(product) for name, product in LIBRARIES.items()}
#: the layout ``symmetric_matmul`` uses with each library: numpy's OpenBLAS ran (b^T a)^T 17-34% faster
#: than a b at n = 2048 and 4096, b = 11 and 20 columns (one thread, AMD EPYC, 2026-12-02; n = 4096,
#: b = 20: 48 -> 40 ms; at n = 1024, inside the last-level cache, the two were within 10%); torch's MKL
#: keeps a b, the layout its block-route figures were measured in (Intel Xeon).
SYMMETRIC = {"torch": LIBRARIES["torch"], "numpy": TRANSPOSED["numpy"]}


def gemm_library() -> str:
    """"torch" or "numpy": the environment's pin (``SHORTCUT_NTK_BLAS``), else the one measured faster
    on the probe shape (numpy only when NUMPY_MARGIN times faster), once per process."""
    pinned = os.environ.get(ENVIRONMENT)
    if pinned is not None:
        if pinned not in LIBRARIES:
            raise ValueError(f"{ENVIRONMENT} must be one of {sorted(LIBRARIES)}, got {pinned!r}")
        return pinned
    return _measured_library()


@functools.cache
def _measured_library() -> str:
    seconds = probe_seconds()
    return "numpy" if seconds["numpy"] * NUMPY_MARGIN <= seconds["torch"] else "torch"


def probe_seconds() -> dict[str, float]:
    """Best one-thread CPU seconds of each library on PROBE_SHAPE (float64, C-ordered operands)."""
    rows, inner, columns = PROBE_SHAPE
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((rows, inner)), rng.standard_normal((inner, columns))
    best = {}
    with one_thread():
        for name, product in LIBRARIES.items():
            product(a, b)                                 # warm-up: library dispatch, page faults
            times = []
            for _ in range(PROBE_REPEATS):
                start = time.process_time()
                product(a, b)
                times.append(time.process_time() - start)
            best[name] = min(times)
    return best


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 2-D numpy arrays of one float dtype, through ``gemm_library()``."""
    return LIBRARIES[gemm_library()](a, b)


#: dtypes whose ``self_gram`` goes through numpy's syrk (the others, e.g. bfloat16, through torch)
SYRK_DTYPES = (torch.float32, torch.float64)


def self_gram(a: torch.Tensor) -> torch.Tensor:
    """a a^T for a 2-D tensor a (r x k), an r x r tensor on a's device.

    On the CPU, through numpy's matmul of the C-ordered array with its own transpose, which numpy
    recognises (same buffer, transposed strides) and hands to BLAS syrk: the r (r + 1) / 2 dot products
    of one triangle, mirrored into the other, half of what a GEMM computes. Measured (one thread,
    OpenBLAS, float32, AMD EPYC, 2026-12-03): r = 1024, k = 147456 in 1.70 s against torch's
    a @ a.T in 3.65 s; the saving is 46-53% from r = 512 up, and 15-56% at r = 256, where syrk's
    triangle runs slower. torch has no syrk, so CUDA tensors (and dtypes numpy lacks) take torch's
    a @ a.T, the full square. Either way the result is symmetric up to the order of the sums."""
    if a.ndim != 2:
        raise ValueError(f"self_gram needs a 2-D tensor, got shape {tuple(a.shape)}")
    if a.device.type != "cpu" or a.dtype not in SYRK_DTYPES:
        return a @ a.T
    x = np.ascontiguousarray(a.detach().numpy())
    return torch.from_numpy(x @ x.T)


def symmetric_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a square a the caller knows to be symmetric (then a^T b is a b, up to the order of the
    BLAS's sums; numerics.eigen passes an a whose products with a sign vector agree with its transpose's
    to their rounding), through ``gemm_library()`` in that library's faster layout (``SYMMETRIC``)."""
    return SYMMETRIC[gemm_library()](a, b)


def swapped_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b computed as (b^T a^T)^T through ``gemm_library()`` (``SWAPPED``: the faster layout for a tall
    or wide factor times a thin one); the result is column-major."""
    return SWAPPED[gemm_library()](a, b)
