"""The eigensolver core: top-k eigenpairs of a symmetric (PSD-ish) operator, with a certificate.

    top_eigenpairs(A, k, *, method="auto", tol=None, seed=None, block_size=None) -> EigenResult

``A`` is one of
  * a dense symmetric matrix (numpy array or torch tensor, float64 or float32; computed in float64),
  * ``LowRank(F)``: A = F F^T for a factor F (n x r), the n x n matrix never formed,
  * a ``scipy.sparse.linalg.LinearOperator`` (matrix-free, e.g. NTK-vector products),
    assumed symmetric (it cannot be checked without forming it),
  * a cluster model ``theory.GMM`` with isotropic noise: the population second moment
    M = E[x x^T] (d x d), whose eigenpairs are those of the linear NTK's population operator.

Routes (``method``):
  eigh     scipy.linalg.eigh, driver "evr", only the top k+1 (subset_by_index;
           "evd" on the whole matrix if MRRR fails on a tight cluster)               [dense]
  full     numpy.linalg.eigh of the whole matrix (sensible when k is a large part of n)  [dense]
  eigsh    scipy.sparse.linalg.eigsh (ARPACK Lanczos), needs k <= n - 2            [all]
  lobpcg   scipy.sparse.linalg.lobpcg, block of k+1, needs n >= 5 (k+1); restarted warm
           up to 5 times when it stalls.  It breaks down (raises EigenConvergenceError)
           when rank(A - c I) < ~3 (k+1) for some c: rank(A) < 3 (k+1) (c = 0), or an eigenvalue
           c repeated more than n - 3 (k+1) times (A a shifted low-rank matrix); its trial space
           [X, R, P] becomes singular (measured: with one eigenvalue repeated so that
           rank(A - c I) = 3-11 < 3 (k+1), 5-40 of 40 rotations raise at k = 1-3, n = 10-40;
           none at rank(A - c I) >= 3 (k+1); a thorough-profile run found it at n = 10, k = 1,
           with a five-fold bottom eigenvalue).  With a tie
           at the cut (lambda_k = lambda_{k+1}) it can also raise: it stalls at n = 5 (k+1)
           (dev-seed runs: n = 15, k = 2, 22 of 40 rotations raise, none padded to n = 20)
           or stagnates near 1e-10 |lambda_1| (n = 44, k = 6), above the default tol  [all]
  block    block Krylov with a buffer (below)                                        [all]
  lowrank  the small side of F F^T (below)                                           [LowRank]
  population  the m x m weighted Gram H = Pi^1/2 U^T U Pi^1/2 (below)                  [GMM]
  auto     LowRank -> lowrank; LinearOperator -> the measured cost model below; dense: n <= 512 or
           k > n/4 -> eigh, otherwise block.  (LowRank with eigsh/lobpcg/block is applied as
           v -> F (F^T v).)

auto on a LinearOperator: a measured cost model.  Whether block or eigsh is faster depends on what
one application of A to b columns costs against b applications to one: a dense matrix behind a
GEMM, or a batched NTK-vector product, reads its data once per application, so a wide block costs
little more than one column; an operator that loops over columns costs b times one.  The block route
at the dense default b = max(2k, k+8) applies more columns than eigsh (n = 4096 ReLU-NTK, top-10,
tol 1e-8, certificate included: 191 against eigsh's 114, i.e. 180 against 103 before the
certificate's 11: 1.75x) in far fewer applications (10 against 104).  So for n > 512 and k <= n - 2
the route times (wall clock) A applied to B = max(2k, k+8) orthonormal random columns, then to the
first of them alone (the wider call first, so that a first-call warm-up counts against the block),
and takes the block route with b = B, starting from that product, when t(B) <= B t(1) / 1.75
(a column in a block at least 1.75x cheaper than alone), eigsh otherwise.  Why 1.75: once the probe
has run, its product is the block route's first block (sunk either way), so what is left to compare
is the block's other ~160 columns, in B-wide applications, against eigsh's ~103 single ones: break-even
at a gain of 160 / 103 = 1.55, and 1.75 leaves ~12% for the block's orthogonalisation and
Rayleigh-Ritz (~10% of its time on the dense route).  Measured with the kernel behind torch.mm
(benchmarks/test_bench_eigen.py keeps the machine's faster BLAS, numerics/blas.py; torch.mm is the
slower one on AMD): on an Intel machine t(1) = 14.5 ms, t(20) = 29 ms (gain 10: block 0.21 s against
eigsh's 0.89 s); on an AMD EPYC machine, whose MKL is slow on thin products, t(1) = 5.3 ms, t(20) =
54 ms (gain 1.96: block 0.55-0.74 s, median of 5 0.568 s, against eigsh's 0.67-0.79 s, median
0.676 s; a threshold of 2 took either route there by the probe's noise, and taking eigsh it had
wasted the 20-column product, ~8% of eigsh's time); an operator that loops over columns has
t(B) = B t(1) (gain 1).  The probe's B + 1 columns count in ``matvecs``; when eigsh is taken they
are its overhead (B + 1 of its ~114 there).
n <= 512 (products too short to time reliably) or k > n - 2 (eigsh cannot): block with b = 2.
``block_size`` given: block.  The choice depends on a timing, so two runs may take different
routes (both certified); pass ``method`` for a reproducible route.

Block route.  b random orthonormal columns start a Krylov basis Q = [V, A V, A^2 V, ...]
(each new block projected off Q twice, each projection followed by a Cholesky QR -- CholeskyQR2,
BLAS-3 only; Householder QR when the block is too ill-conditioned for it; directions that vanish,
i.e. an invariant subspace, are replaced by random ones; the first projection uses only the
previous and the new block, as block Lanczos, when the couplings Q_i^T A Q_j to all earlier blocks,
which Rayleigh-Ritz computes anyway, are at the Krylov relation's rounding level:
``_first_pass_start``).  Every step costs one BLAS-3 product A @ Q_j (n x b) and a Rayleigh-Ritz
step: LAPACK eigh of H = Q^T A Q, extended by the new block's rows and columns only (Q^T A Q_j,
which the first projection needs anyway).  Ritz pairs
(theta_i, x_i = Q y_i) have residuals ||A x_i - theta_i x_i|| = ||(A Q) y_i - theta_i Q y_i||,
computed from the stored products; a step first screens them with the Krylov relation's b x b
estimate (``_block``) and forms Q y_i, (A Q) y_i only when that passes.  It stops when the top k
explicit residuals are <= tol |theta_1| after at least one Krylov step, or when its basis spans the
space: a first block alone is a random subspace, whose (k+1)-th Ritz value says nothing about
lambda_{k+1} (a thorough-profile run found n = 11 with a 3-fold top eigenvalue and a block of 10:
the block met that eigenspace in two directions, the top 2 converged at once, and gap_ok was True
across the tie).  Where the time goes (n = 4096 ReLU-NTK, top-10, 231 columns, one thread, 12
applications of A).  On an Intel Xeon (2026-12-02, instrumented, mean of 7;
process time 0.25-0.33 s, the machine is noisy): the 12 applications of A 0.205-0.230 s, each a
streaming read of A at the memory's rate (one read of A alone: 14-17 ms); the symmetry check of A
(_max_asymmetry) 0.023-0.031 s; the thin products of orthogonalisation and Ritz vectors ~0.035 s;
Rayleigh-Ritz (11 eigh of H up to 220 x 220) 0.015 s.  Three changes of 2026-12-02 took 0.030 s off
the median there (paired, 16 alternating solves: 0.306 -> 0.271 s): tall-by-small products in the
layout both BLAS libraries run faster (``numerics.blas.swapped_matmul``), the guarded block-Lanczos first
projection, and a transposed copy before the symmetry check's subtraction.  On an AMD EPYC machine
(2026-12-01, cProfile, 0.34-0.36 s, before those changes): the 12 applications of A 0.283 s (4/5),
the symmetry check 0.022 s (1/16), the thin products 0.031 s (1/11), Rayleigh-Ritz 0.010 s (1/35).
There one (n x n)(n x w) product costs about 10 ms + 0.5 ms per column (w = 1, 11, 20, 40, 128:
5.2, 18.7, 20.9, 34.4, 83 ms: A is streamed once per call), so fewer, wider calls pay only if they
do not add columns: the default b = 20 (231 columns, 0.355 s) is within 3% of the best of b = 12-48
(b = 12: 191 columns, 0.347 s; b = 24-48: 251-443 columns, 0.38-0.57 s; on the Intel machine b =
12-40: 191-371 columns, medians 0.34-0.47 s, b = 20-24 best; benchmarks/test_bench_eigen.py prints
time / floor).  A slower AMD EPYC machine of 2026-12-02 (one-thread GEMM 33-36 GFLOP/s at 1024^3;
numpy's OpenBLAS chosen): 0.77 s, of which the 12 applications of A 0.57 s (48 ms each for 20
columns, ~14 GFLOP/s: OpenBLAS's kernel, not the memory, limits them there), the symmetry check
0.097 s and the rest 0.106 s.  There OpenBLAS runs (V^T A)^T = A^T V 17-34% faster than A V at n =
2048-4096 (n = 4096, 20 columns: 48 -> 40 ms; 11 columns: 52 -> 34 ms), bit for bit the same
result on this kernel, so an A that passes the symmetry probe (``_check_dense``: A x and A^T x agree to
two products' rounding) is applied as A^T V (numerics.blas.symmetric_matmul; with torch's MKL the
layout is unchanged): dense solve 0.86-0.91 -> 0.68-0.76 s (medians of 7, three alternating pairs).
A float64 A accepted by the entrywise rule only (an asymmetry the probe resolves) is applied as A V,
the matrix the certificate judges.  On an AMD EPYC machine of
2026-12-03 (one-thread GEMM 44 GFLOP/s at 1024^3, numpy's OpenBLAS chosen; process time, 7 solves):
0.41-0.43 s, of which the 12 applications of A 0.31 s (the route's floor, 0.31 s), the symmetry
check 0.046 s and the rest 0.060-0.065 s (thin products 0.030 s, Rayleigh-Ritz 0.012 s); with the
symmetry check rewritten around torch's blocked transpose (``_max_asymmetry``) it takes 0.025-0.030 s
there, the solve 0.40-0.41 s.  An unguarded block-Lanczos first projection lost the certificate
after a near-breakdown (a new direction of relative norm ~1e-9 that is kept, not replaced): the
couplings it drops are then rounding amplified by that breakdown, not O(eps ||A||), and the guard
sees them.  Since 2026-12-05 the input check is the symmetry probe (``_check_dense``), one pass over A
(8.1-8.8 ms at n = 4096 on the Intel Xeon against 31-33 ms for the entrywise scan, which now runs only
when the probe resolves an asymmetry).
Beyond max(15 b, 300) basis columns it restarts thick (keeps the top half of the Ritz vectors
and their products).  Dense A: b = max(2k, k + 8); the basis grows by b > k vectors a step, so
convergence of the top k is set by the spectrum beyond the buffer (Krylov-accelerated), not by
a near-tie lambda_k ~ lambda_{k+1} at the cut; its products, and all of the routes' thin linear
algebra, run through the faster of torch's MKL and numpy's OpenBLAS on this machine (numerics/blas.py:
2-3x apart on thin shapes, one way on Intel, the other on AMD).  Matrix-free A (LinearOperator,
LowRank applied as an operator) with ``method="block"``: b = 2, because where every column costs one
operator application small blocks need the fewest (measured on the n = 4096 ReLU-NTK kernel, top-10,
tol 1e-8, before the certificate's 11: b = 1, 2, 3 -> 80, 98, 105 applications, eigsh 103;
benchmarks/test_bench_eigen.py).
A block of b columns resolves eigenvalue multiplicities up to b (single-vector Lanczos, eigsh,
can miss copies of a repeated eigenvalue): pass ``block_size`` when eigenvalues may repeat.

Low-rank route (docs/theory.md#L3).  The nonzero eigenvalues of F F^T are those of F^T F: if
F^T F u = lambda u with |u| = 1 and lambda > 0, then v = F u / sqrt(lambda) is a unit
eigenvector of F F^T with the same eigenvalue.  Equivalently F = U S W^T (thin SVD) gives
lambda_i = s_i^2, v_i = U[:, i].  Only the top min(k+1, r) pairs of F^T F are computed
(``_top_eigh``: scipy's LAPACK, MRRR for that subset).  On an AMD EPYC machine, whose products run
in numpy's OpenBLAS, torch's full eigh of the 64 x 64 Gram made the n = 4096 route 7% slower
(medians 3.39 against 3.16 ms over 380 alternating solves, one thread, 2026-12-02; not measured on
Intel).  The Gram route eig(F^T F) costs n r^2 and squares the condition number: v_i loses a
factor sqrt(lambda_1 / lambda_i) of accuracy.  It is used when
every requested pair has lambda_i >= 1e-4 lambda_1 (loss <= 100x, orthonormality to ~1e-12);
otherwise the thin SVD of F is used.  The thin products (the map F U and the certificate's F^T V and
F (F^T V)) run in the swapped layout (``numerics.blas.swapped_matmul``), the reordered pairs stay
F-ordered (no transposing copy before the certificate), and the seed's Generator is built only when
the route draws (beyond the rank; ``numerics.seeds.lazy_numpy_generator``).  Together, paired with the
code before them over 600 alternating solves, three times (n = 4096, r = 64, k = 10, one thread, AMD
EPYC, 2026-12-03): medians 2.80-3.34 -> 2.40-2.86 ms, old / new 1.16-1.18, bit-identical results.
k may exceed r: the pairs beyond the rank have eigenvalue 0 and vectors
completing an orthonormal basis (seeded Gaussian columns projected off the range of F and
orthonormalised, as in the block route).

Population route (docs/theory.md#L2).  M = U Pi U^T + s^2 I.  H = Pi^1/2 U^T U Pi^1/2 (m x m) has the
nonzero eigenvalues eta of U Pi U^T; each eigenpair (eta, h) gives the unit eigenvector
u = U Pi^1/2 h / sqrt(eta) of M with eigenvalue eta + s^2.  The complement of span(U) has
eigenvalue s^2 (orthonormal completion as in the low-rank route).  eta <= 32 m eps eta_1 counts
as zero.

Certificate (every route).  The returned pairs (and the (k+1)-th when k < n) are checked with
a fresh application of A: residual_i = ||A v_i - lambda_i v_i||_2.  Iterative routes (eigsh,
lobpcg, block) raise ``EigenConvergenceError`` unless every top-k residual is
<= 10 tol_eff |lambda_1|, with tol_eff = max(tol, 32 sqrt(n) eps) (the rounding floor of a
float64 product).  ``tol`` defaults to 1e-12.  For eigsh ARPACK's own rule
||r_i|| <= tol |theta_i| is used (stricter).

gap_ok.  Every route computes one pair past the cut when k < n (for iterative routes a Ritz
pair, whose residual r_{k+1} may be large: only the top k are iterated to convergence).  With
r = max(top-k residuals, 32 sqrt(n) eps |lambda_1|):  gap_ok = lambda_k - lambda_{k+1} - r_{k+1} > 100 r.
Then Davis-Kahan bounds the angle between the returned span and the true top-k eigenspace by
sqrt(k) r / gap < 0.01 sqrt(k) -- exactly for the direct routes; for iterative ones the gap is the
Ritz estimate (a Krylov space cannot bound lambda_{k+1} from above).  gap_ok False means the k-th
vector is not separable from the (k+1)-th: the returned top-k span is one of several equally
valid choices.  k = n: gap_ok is True (the span is the whole space).

Validation: k an int with 1 <= k <= n (TypeError / ValueError naming k); A 2-D square; no NaN/inf
(checked for dense and LowRank input, and on every output of a LinearOperator); dense A symmetric:
for float64 (and integer) A, A x = A^T x to two products' rounding for a fixed sign vector x, or else
max|A - A^T| <= 1e-10 max|A| (``_check_dense``: what the probe accepts beyond the entrywise rule), and the
same number of units in the last place, 1e-10 eps_A / eps_64, for a lower precision A (float32:
5.4e-2: a Gram formed in float32 from P parameters differs from its transpose by ~sqrt(P) eps_32
relative to max|A| with a worst case P eps_32, 1e-3 and more at P ~ 1e8, and A is only known to its
own rounding); such A is then replaced by its symmetric part (A + A^T) / 2, in float64, so that every
route solves the same symmetric matrix (eigh reads one triangle, the certificate all of A). The
rounding floor 32 sqrt(n) eps of the residual tolerance and of gap_ok uses eps_A for a dense A: a
float32 matrix carries entrywise rounding eps_32 |A|, of spectral norm ~ sqrt(n) eps_32 |lambda_1|, so
its eigenpairs are no better determined than that. tol in (0, 1); block_size >= 1
and only with the block route; unknown method -> ValueError listing the allowed ones; unknown
type of A -> TypeError.  ``seed`` (int >= 0, numpy Generator, or None = 0) seeds every random
start vector; no global RNG is read.  The solver's own small linear algebra runs single-threaded
(``numerics.threads.one_thread``); products with A keep the caller's thread settings.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla
import torch

from numerics.blas import matmul, swapped_matmul, symmetric_matmul, tensor_view
from numerics.data import MixtureArrays
from numerics.seeds import lazy_numpy_generator
from numerics.threads import one_thread
from numerics.tolerances import probe_asymmetry_rounding
from theory.gmm import GMM

__all__ = ["EigenConvergenceError", "EigenResult", "LowRank", "top_eigenpairs", "DEFAULT_TOL"]

DEFAULT_TOL = 1e-12
_EPS = np.finfo(np.float64).eps
_SYMMETRY_RTOL = 1e-10
_SYMMETRY_TILE = 64   # rows per block row of the entrywise symmetry scan (_max_asymmetry)
_PROBE_ROWS = 32      # rows per slab of the symmetry probe (_probe_products)
_PROBE_SEED = 0       # the probe's sign vector (_probe_signs)
_GAP_FACTOR = 100.0
_GRAM_MIN_RATIO = 1e-4
_MAX_BLOCK_STEPS = 500
_MMAX = 300
_MATRIX_FREE_BLOCK = 2
_PROBE_MIN_N = 512     # auto on a LinearOperator: no timing probe at or below this n
_BATCH_GAIN = 1.75     # ... block when A applied to B columns costs <= B / this times 1 column
_LOBPCG_RUNS = 5
_CHOLQR_MIN_PIVOT = 1e-4
_ROUTES = {
    "dense": ("auto", "eigh", "full", "eigsh", "lobpcg", "block"),
    "lowrank": ("auto", "lowrank", "eigsh", "lobpcg", "block"),
    "operator": ("auto", "eigsh", "lobpcg", "block"),
    "population": ("auto", "population"),
}


class EigenConvergenceError(RuntimeError):
    """An iterative route did not reach the requested residual tolerance."""


@dataclass(frozen=True, eq=False)
class EigenResult:
    """Top-k eigenpairs of A with their certificate.

    values     (k,) float64, descending.
    vectors    (n, k) float64, orthonormal columns; A vectors[:, i] ~ values[i] vectors[:, i].
    residuals  (k,) ||A v_i - lambda_i v_i||_2 from a fresh application of A.
    method     the route used ("eigh", "full", "eigsh", "lobpcg", "block", "lowrank").
    matvecs    columns of A applied (a block product of b columns counts b), including the
               k+1 columns of the certificate and, for auto on a LinearOperator, the cost probe's;
               for "lowrank" one column = F (F^T v).
    gap_ok     lambda_k - lambda_{k+1} - r_{k+1} > 100 x top-k residual level (module docstring);
               False: the k-th vector is not separable from the (k+1)-th.
    Iterating yields (values, vectors), so ``values, vectors = top_eigenpairs(A, k)`` works.
    """

    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    method: str
    matvecs: int
    gap_ok: bool

    def __iter__(self):
        return iter((self.values, self.vectors))


class LowRank:
    """A = F F^T given by its factor F (n x r, numpy array or torch tensor); never formed."""

    def __init__(self, F):
        F = _as_float64(F, "F")
        if F.ndim != 2:
            raise ValueError(f"F must be 2-D (n x r), got shape {F.shape}")
        if not np.isfinite(F).all():
            raise ValueError("F must be finite (no NaN/inf)")
        self.F = F

    @property
    def shape(self) -> tuple[int, int]:
        return (self.F.shape[0], self.F.shape[0])


class _Operator:
    """A as a function V (n x b) -> A V, counting applied columns and rejecting NaN/inf output."""

    def __init__(self, n: int, matmat):
        self.n, self._matmat, self.count = n, matmat, 0

    def __call__(self, V: np.ndarray) -> np.ndarray:
        V = np.asarray(V, dtype=np.float64)
        vec = V.ndim == 1
        V2 = V.reshape(self.n, -1)
        out = np.asarray(self._matmat(V2), dtype=np.float64).reshape(self.n, V2.shape[1])
        self.count += V2.shape[1]
        if not np.isfinite(out).all():
            raise ValueError("A produced non-finite values (NaN/inf)")
        return out[:, 0] if vec else out

    def linear_operator(self) -> spla.LinearOperator:
        return spla.LinearOperator((self.n, self.n), matvec=self, matmat=self, rmatvec=self,
                                   rmatmat=self, dtype=np.float64)


def top_eigenpairs(A, k, *, method: str = "auto", tol: float | None = None, seed=None,
                   block_size: int | None = None) -> EigenResult:
    """Top-k eigenpairs of the symmetric operator A, eigenvalues descending, with residuals.

    See the module docstring for the accepted A, the routes, ``method="auto"``, the certificate
    (residuals; ``EigenConvergenceError`` when an iterative route does not converge) and gap_ok.
    ``tol``: residual target relative to |lambda_1| for iterative routes (default 1e-12).
    ``block_size``: columns per product of the block route (default max(2k, k+8) for dense A,
    2 for matrix-free A); a block of b resolves eigenvalue multiplicities up to b.
    Example: ``values, vectors = top_eigenpairs(K, 10)``; ``top_eigenpairs(LowRank(X), 5).values``.
    """
    kind, n = _kind_and_size(A)
    k = _check_k(k, n)
    tol = _check_tol(tol)
    rng = lazy_numpy_generator(seed, default=0)   # built only by a route that draws
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, one of {_ROUTES[kind]}, got {type(method).__name__}")
    if method not in _ROUTES[kind]:
        raise ValueError(f"method must be one of {_ROUTES[kind]} for this A, got {method!r}")

    eps, start = _EPS, None
    default_block = max(2 * k, k + 8) if kind == "dense" else _MATRIX_FREE_BLOCK
    if kind == "dense":
        A, eps, probed_symmetric = _check_dense(A)
        if method == "auto":
            method = "eigh" if n <= 512 or k > n / 4 else "block"
        product = symmetric_matmul if probed_symmetric else matmul
        op = _Operator(n, lambda V: product(A, np.ascontiguousarray(V)))
    elif kind == "lowrank":
        F = A.F
        method = "lowrank" if method == "auto" else method
        op = _Operator(n, lambda V: swapped_matmul(F, swapped_matmul(F.T, V)))
    elif kind == "population":
        mixture = MixtureArrays.from_gmm(A)
        method, M = "population", mixture.second_moment
        op = _Operator(n, lambda V: M @ V)
    else:
        op = _Operator(n, A.matmat)
        if method == "auto" and block_size is None:
            method, default_block, start = _operator_route(op, k, rng())
        method = "block" if method == "auto" else method
    block_size = _check_block_size(block_size, method, default_block)

    q = min(k + 1, n)  # one pair past the cut, for gap_ok
    tol_eff = max(tol, 32 * math.sqrt(n) * eps)
    if method == "eigh":
        values, vectors = _top_eigh(A, q)
    elif method == "full":
        values, vectors = np.linalg.eigh(A)
    elif method == "lowrank":
        values, vectors = _lowrank(A.F, q, rng)
    elif method == "population":
        values, vectors = _population(mixture, q, rng)
    elif method == "eigsh":
        values, vectors = _eigsh(op, k, tol_eff, rng())
    elif method == "lobpcg":
        values, vectors = _lobpcg(op, k, q, tol_eff, rng())
    else:
        values, vectors = _block(op, k, q, tol_eff, rng(), min(n, block_size), start)
    order = np.argsort(values)[::-1][:q]
    # the columns in that order: np.take makes a C-ordered copy, the layout a dense A's certificate product
    # takes (it would copy again otherwise); v[:, order] an F-ordered one, which keeps the low-rank map's
    # F-ordered vectors without a transposing copy, so its certificate runs on F-ordered operands
    vectors = np.take(vectors, order, axis=1) if kind == "dense" else vectors[:, order]
    return _certify(op, values[order], vectors, k, method, tol_eff, eps)


# ---------------------------------------------------------------------------------------------
# validation


def _as_float64(X, name: str) -> np.ndarray:
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(X).__name__}")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be real (float/int), got dtype {X.dtype}")
    return np.asarray(X, dtype=np.float64)


def _kind_and_size(A) -> tuple[str, int]:
    if isinstance(A, LowRank):
        return "lowrank", A.shape[0]
    if isinstance(A, GMM):
        return "population", A.dim
    if isinstance(A, spla.LinearOperator):
        if len(A.shape) != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be square, got shape {A.shape}")
        if np.dtype(A.dtype).kind == "c":
            raise TypeError(f"A must be a real operator, got dtype {A.dtype}")
        return "operator", A.shape[0]
    if isinstance(A, (np.ndarray, torch.Tensor)):
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a 2-D square matrix, got shape {tuple(A.shape)}")
        return "dense", A.shape[0]
    raise TypeError("A must be a numpy array, torch tensor, LowRank, scipy LinearOperator or theory.GMM, "
                    f"got {type(A).__name__}")


def _check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int with 1 <= k <= n = {n}, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"k must satisfy 1 <= k <= n = {n}, got {k}")
    return int(k)


def _check_tol(tol) -> float:
    if tol is None:
        return DEFAULT_TOL
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not 0 < tol < 1:
        raise ValueError(f"tol must be a float with 0 < tol < 1, got {tol!r}")
    return float(tol)


def _check_block_size(block_size, method: str, default: int) -> int:
    if block_size is None:
        return default
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be an int >= 1, got {block_size!r}")
    if method != "block":
        raise ValueError(f"block_size applies to method 'block' only, not {method!r}")
    return int(block_size)


def _check_dense(A) -> tuple[np.ndarray, float, bool]:
    """(float64 copy/view of A, eps_A, whether A passed the probe): rejects NaN/inf and an asymmetric A.
    eps_A is the machine epsilon of A's floating dtype, eps_64 for float64 and exact (integer, bool) input.

    A float64 A is first probed (``_probe_products``): with x the fixed sign vector of ``_probe_signs``,
    y = A x and z = A^T x in one pass over A.  A symmetric A has |y_i - z_i| <= 2 gamma_n n max|A| (each
    product's rounding, |x| = 1), so A is accepted at once when max_i |y_i - z_i| <= probe_asymmetry_rounding(n)
    n max|A| (numerics.tolerances): no product with A resolves an asymmetry below that on the probe.  Otherwise
    the entrywise rule decides: accepted when max|A - A^T| <= 1e-10 max|A| (``_max_asymmetry``, a tiled
    transposing scan, ~4x a read of A), refused above.  So every A the entrywise rule accepts is accepted.
    What the probe alone accepts, with E = A - A^T (so y - z = E x): a single asymmetric pair up to the bound,
    7.5e-9 max|A| at n = 4096, 1.2e-10 at n = 512 (|(E x)_i| = |E_ij| whatever the signs); no row of E whose
    largest entry exceeds the rest of the row's sum plus the bound; and, for an E that does not depend on x,
    a row of E with an entry over twice the bound slips past with probability at most 1/2 over the signs
    (flipping x_j moves (E x)_i by 2 |E_ij|: at most one of the two values is within the bound), so an
    asymmetry spread over many rows is seen all but surely.  The signs are fixed, so an E built against them
    (E x = 0: a 3-cycle E_01 = a, E_02 = -a x_1 x_2, E_12 = a x_0 x_2 and its mirror) passes whatever its
    size: the probe guards against accidental asymmetry, not adversarial.  A NaN/inf entry makes its row's
    y_i NaN/inf (x_j = +-1), so the probe finds it.  max|A| is bounded below by max|A_ii|, which a PSD
    matrix attains (|A_ij| <= sqrt(A_ii A_jj)); the full maximum is read only when that bound does not
    already pass.  Measured (n = 4096 ReLU-NTK, one thread, Intel Xeon, 2026-12-05):
    the probe 8.1-8.8 ms against 31-33 ms for the entrywise scan and 6 ms for a read of A.

    A lower-precision A (eps_A > eps_64) is judged entrywise, max|A - A^T| <= 1e-10 (eps_A / eps_64) max|A|,
    and replaced by (A + A^T) / 2, exactly symmetric (fl(a + b) = fl(b + a))."""
    if isinstance(A, torch.Tensor):
        eps = float(torch.finfo(A.dtype).eps) if A.dtype.is_floating_point else _EPS
    else:
        eps = float(np.finfo(A.dtype).eps) if A.dtype.kind == "f" else _EPS
    A = _as_float64(A, "A")
    if not (A.flags.c_contiguous or A.flags.f_contiguous):
        A = np.ascontiguousarray(A)
    amax = np.abs(np.diagonal(A)).max()
    if eps > _EPS:
        _check_entrywise(A, _SYMMETRY_RTOL * eps / _EPS, amax)
        return (A + A.T) / 2, eps, True
    rows, columns = _probe_products(A)
    if not (torch.isfinite(rows).all() and np.isfinite(amax)):
        raise ValueError("A must be finite (no NaN/inf)")
    gap, allowance = float((rows - columns).abs().max()), probe_asymmetry_rounding(A.shape[0]) * A.shape[0]
    if gap > allowance * amax:
        amax = max(amax, _max_abs(A))
    if gap <= allowance * amax:
        return A, eps, True
    _check_entrywise(A, _SYMMETRY_RTOL, amax)
    return A, eps, False


def _check_entrywise(A: np.ndarray, rtol: float, amax: float) -> None:
    """Raises unless A is finite and max|A - A^T| <= rtol max|A|; ``amax``: a lower bound of max|A| (max|A_ii|),
    raised to the full maximum only when the bound does not already pass.  A NaN/inf entry a_ij makes
    a_ij - a_ji NaN/inf, so the scan finds it."""
    asym = _max_asymmetry(A)
    if not (np.isfinite(asym) and np.isfinite(amax)):
        raise ValueError("A must be finite (no NaN/inf)")
    if asym > rtol * amax:
        amax = max(amax, _max_abs(A))
    if asym > rtol * amax:
        raise ValueError(f"A must be symmetric: max|A - A^T| = {asym:.3g} > {rtol:.3g} max|A| = {rtol * amax:.3g} "
                         "(1e-10 scaled by the machine epsilon of A's dtype over float64's)")


def _max_abs(A: np.ndarray) -> float:
    """max|A| in one read of A (torch.aminmax, one thread)."""
    with one_thread():
        low, high = torch.aminmax(tensor_view(A))
    return max(float(high), -float(low))


def _probe_signs(n: int) -> np.ndarray:
    """The probe vector x in {-1, +1}^n: fixed pseudo-random signs (seed _PROBE_SEED), the same for every
    call, so that whether an A is accepted does not depend on the caller's seed."""
    return np.where(np.random.default_rng(_PROBE_SEED).random(n) < 0.5, -1.0, 1.0)


def _probe_products(A: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(A x, A^T x) for x = _probe_signs(n), in one pass over A, one thread: per slab of _PROBE_ROWS rows
    S = A[i:i + t], y[i:i + t] = S x (torch.mv) and z += S^T x[i:i + t] (addmv), the second product reading
    S from the cache.  Each entry of y and z is a sum of n products in some order: |fl - exact| <= gamma_n
    |A| |x|.  An F-ordered A is probed as A^T (C-ordered; the two results swap, their difference only changes
    sign).  Measured (n = 4096, one thread, Intel Xeon, 2026-12-05, best of 11): t = 32 8.1 ms, t = 16-64
    8.3-9.2 ms, t = 128 11.0 ms; numpy's A @ x and x @ A as two passes 10.6 ms."""
    if not A.flags.c_contiguous:
        A = A.T
    n, t = A.shape[0], _PROBE_ROWS
    matrix, x = tensor_view(A), torch.from_numpy(_probe_signs(n))
    rows, columns = torch.empty(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    with one_thread():
        for i in range(0, n, t):
            slab = matrix[i:i + t]
            torch.mv(slab, x, out=rows[i:i + t])
            columns.addmv_(slab.T, x[i:i + t])
    return rows, columns


def _max_asymmetry(A: np.ndarray) -> float:
    """max|A - A^T| over all entries (NaN if any entry is NaN, inf or NaN if any is inf) in one pass
    over A, one thread.  Block row I (rows i .. i + t, t = _SYMMETRY_TILE) is compared with its mirror
    block column in four torch calls, each reading or writing along rows: the column slab
    A[i:, i:i + t] is copied into a contiguous buffer C, C^T into a second buffer D by torch's cache-
    blocked transpose (its fast path for a transposed contiguous matrix), and A[i:i + t, i:] - D into
    D, whose minimum and maximum (torch.aminmax: NaN propagates) bound the block row's asymmetry.
    Measured (n = 4096, one thread, AMD EPYC, 2026-12-03, best of 7; one streaming read of A 7.3 ms):
    23 ms, against 43 ms for the earlier numpy version, which copied the mirror tiles transposed in
    one strided call (its inner loop read t rows 8 n bytes apart, all mapping to the same cache set:
    29 of its 43 ms); n = 8192: 88-104 against 165-219 ms.  t = 64 was within 5% of the best of t =
    32-96 at both sizes; t = 128 and 256 were 6-68% slower.  The rows and columns past the last whole
    block row are compared as one n x (n mod t) slab."""
    if not A.flags.c_contiguous:          # an F-ordered A: A^T is C-ordered, with the same asymmetry
        A = A.T
    n, t = A.shape[0], _SYMMETRY_TILE
    whole = n - n % t
    matrix, tops = tensor_view(A), [0.0]
    C, D = torch.empty(whole * t, dtype=torch.float64), torch.empty(whole * t, dtype=torch.float64)
    with one_thread():
        for i in range(0, whole, t):
            m = whole - i
            slab = C[:m * t].view(m, t)
            slab.copy_(matrix[i:whole, i:i + t])
            mirror = D[:m * t].view(t, m)
            mirror.copy_(slab.T)
            torch.sub(matrix[i:i + t, i:whole], mirror, out=mirror)
            low, high = torch.aminmax(mirror)
            tops += [float(high), -float(low)]    # NaN propagates through both
        if whole < n:
            with np.errstate(invalid="ignore"):   # inf - inf: NaN, reported by the caller
                rest = A[:, whole:] - A[whole:, :].T
            tops += [rest.max(), -rest.min()]
    return float(np.max(tops))


def _operator_route(op: _Operator, k: int, rng: np.random.Generator):
    """``auto`` for a LinearOperator (module docstring): (route, its block size, start).  With
    B = max(2k, k+8): ("block", B, (V, A V)) when A applied to B orthonormal columns V costs at most
    B / _BATCH_GAIN times A applied to one (the block route then starts from that product), ("eigsh",
    -, None) otherwise; ("block", 2, None) without a probe for n <= _PROBE_MIN_N or k > n - 2.  The
    probe's applications count in ``op.count``."""
    if op.n <= _PROBE_MIN_N or k > op.n - 2:
        return "block", _MATRIX_FREE_BLOCK, None
    wide = min(max(2 * k, k + 8), op.n)
    V = _extend(np.empty((op.n, 0)), rng.standard_normal((op.n, wide)), rng)
    seconds, products = [], []
    for columns in (V, V[:, :1]):          # the wide call first: a first-call warm-up counts against it
        start = time.perf_counter()
        products.append(op(columns))
        seconds.append(time.perf_counter() - start)
    if seconds[0] <= wide / _BATCH_GAIN * seconds[1]:
        return "block", wide, (V, products[0])
    return "eigsh", _MATRIX_FREE_BLOCK, None


# ---------------------------------------------------------------------------------------------
# routes (each returns unsorted values and matching vectors, q = min(k+1, n) of them or more)


def _lowrank(F: np.ndarray, q: int, rng: Callable[[], np.random.Generator]):
    n, r = F.shape
    m = min(q, r)
    lam, U = _top_eigh(matmul(F.T, F), m)
    lam, U = lam[::-1], U[:, ::-1]
    if q <= r <= n and lam[m - 1] >= _GRAM_MIN_RATIO * lam[0] > 0:
        values, vectors = lam, swapped_matmul(F, U / np.sqrt(lam))
    else:
        Uf, s, _ = scipy.linalg.svd(F, full_matrices=False, lapack_driver="gesdd")
        m = min(q, s.size)
        values, vectors = s[:m] ** 2, Uf[:, :m]
    if q > m:  # beyond the rank: eigenvalue 0, vectors completing an orthonormal basis
        Z = _extend(np.asfortranarray(vectors), rng().standard_normal((n, q - m)), rng())
        values, vectors = np.concatenate([values, np.zeros(q - m)]), np.hstack([vectors, Z])
    return values, vectors


def _population(mixture: MixtureArrays, q: int, rng: Callable[[], np.random.Generator]):
    noise = mixture.weights @ mixture.variances               # diag of S, per coordinate
    if not np.allclose(noise, noise[0], rtol=1e-12, atol=0):
        raise ValueError("A (a cluster model) must have isotropic noise S = s^2 I for the population route")
    B = mixture.means.T * np.sqrt(mixture.weights)             # U Pi^1/2, d x m
    eta, h = np.linalg.eigh(matmul(B.T, B))
    eta, h = eta[::-1], h[:, ::-1]
    r = min(q, int(np.sum(eta > 32 * eta.size * _EPS * max(eta[0], 0.0))))
    values, vectors = eta[:r] + noise[0], matmul(B, h[:, :r] / np.sqrt(eta[:r]))
    if q > r:  # the complement of span(U): eigenvalue s^2
        Z = _extend(np.asfortranarray(vectors), rng().standard_normal((B.shape[0], q - r)), rng())
        values, vectors = np.concatenate([values, np.full(q - r, noise[0])]), np.hstack([vectors, Z])
    return values, vectors


def _eigsh(op: _Operator, k: int, tol: float, rng: np.random.Generator):
    if k > op.n - 2:
        raise ValueError(f"k must satisfy k <= n - 2 = {op.n - 2} for method 'eigsh' (ARPACK computes "
                         f"k+1 < n pairs), got {k}")
    try:
        return spla.eigsh(op.linear_operator(), k=k + 1, which="LA", tol=tol,
                          v0=rng.standard_normal(op.n))
    except spla.ArpackNoConvergence as err:
        raise EigenConvergenceError(f"eigsh did not converge: {err}") from err


def _lobpcg(op: _Operator, k: int, q: int, tol: float, rng: np.random.Generator):
    if op.n < 5 * q:
        raise ValueError(f"method 'lobpcg' needs n >= 5 (k+1) = {5 * q}, got n = {op.n} "
                         f"(k = {k}); use 'eigh' or 'block'")
    X = np.linalg.qr(rng.standard_normal((op.n, q)))[0]
    values = np.linalg.eigvalsh(X.T @ op(X))
    for _ in range(_LOBPCG_RUNS):  # lobpcg can stall (ill-conditioned Gram): restart it warm
        target = tol * np.abs(values).max()  # its tolerance is absolute; |theta| <= |lambda_1|
        with warnings.catch_warnings():  # non-convergence: judged here and by the certificate
            warnings.simplefilter("ignore")
            values, X = spla.lobpcg(op.linear_operator(), X, largest=True, tol=target, maxiter=500)
        if np.linalg.norm(op(X) - X * values, axis=0)[:k].max() <= target:
            break
    return values, X


def _block(op: _Operator, k: int, q: int, tol: float, rng: np.random.Generator, b: int, start=None):
    """Thick-restarted block Krylov with full reorthogonalisation, block size b (module docstring);
    ``start``: (V, A V), the first block (orthonormal n x b) with its product, when the caller has them.

    Residual screen.  With W = A Q and Z = W_last - Q (Q^T W_last) (the next block before it is
    orthonormalised), A Q = Q H + Z E^T holds to rounding, E^T selecting the last block: every earlier
    block's product lies in the span of the blocks up to its successor, and a thick restart keeps
    that (A X = X Theta + Z Y_last).  So the Ritz residual ||A Q y - theta Q y|| = ||Z y_last||,
    from the b x b Gram Z^T Z that the Cholesky QR forms anyway.  The explicit residual (the n x m
    products Q Y and W Y) is computed only when that estimate passes, or at a restart, and it alone
    decides convergence.  Once a vanishing direction was replaced by a random one the relation no
    longer holds exactly, and every step computes the explicit residual."""
    n = op.n
    mmax = min(n, max(15 * b, _MMAX))
    keep = max(q, (mmax - b) // 2)
    # column-major, so that Q[:, :m] and W[:, :m] are contiguous for the BLAS
    Q, W, H = np.empty((n, mmax), order="F"), np.empty((n, mmax), order="F"), np.zeros((mmax, mmax))
    m, exact = 0, True
    block, product = start if start is not None else (_extend(Q[:, :0], rng.standard_normal((n, b)), rng), None)
    for step in range(_MAX_BLOCK_STEPS):
        m2 = m + block.shape[1]
        Q[:, m:m2], W[:, m:m2] = block, (op(block) if product is None else product)
        product = None
        with one_thread():
            h = matmul(Q[:, :m2].T, W[:, m:m2])
            H[:m2, m:m2], H[m:m2, :m] = h, h[:m].T
            H[m:m2, m:m2] = (h[m:] + h[m:].T) / 2
            m, last = m2, W[:, m:m2][:, :n - m2]
            restart = m + min(b, n - m) > mmax
            want = min(m, keep if restart else q)
            theta, Y = _top_eigh(H[:m, :m], want)
            theta, Y = theta[::-1], Y[:, ::-1].copy()
            first = _first_pass_start(h[:, :last.shape[1]], exact, math.sqrt(n) * _EPS * abs(theta[0]))
            Z = last - swapped_matmul(Q[:, first:m], h[first:, :last.shape[1]])
            G = matmul(Z.T, Z)
            Ylast = Y[m - h.shape[1]:m, :k][:last.shape[1]]
            estimate = np.sqrt(np.maximum(np.einsum("ij,ij->j", Ylast, G @ Ylast), 0))
            target = tol * abs(theta[0])
            if restart or m == n or not exact or last.shape[1] < h.shape[1] or (m >= q and estimate.max() <= target):
                X, AX = swapped_matmul(Q[:, :m], Y), swapped_matmul(W[:, :m], Y)
                res = np.linalg.norm(AX[:, :k] - X[:, :k] * theta[:k], axis=0)
                if (step and m >= q and res.max() <= target) or m == n:
                    return theta, X
            block, replaced = _complement(Q[:, :m], Z, np.abs(last).max(), rng, G)
            exact = exact and not replaced
            if restart:
                m = want
                Q[:, :m], W[:, :m], H[:m, :m] = X, AX, np.diag(theta)
    raise EigenConvergenceError(f"block Krylov: top-{k} residual estimate {estimate.max():.3g} > tol |lambda_1| = "
                                f"{target:.3g} after {_MAX_BLOCK_STEPS} block steps")


def _first_pass_start(h: np.ndarray, exact: bool, level: float) -> int:
    """The first row of Q that the block route's first projection of a new block's product W_j = A Q_j
    uses, given h = Q^T W_j (all rows, which Rayleigh-Ritz needs anyway): the previous and the new block
    only (as block Lanczos: Q_i^T A Q_j = 0 for i < j - 1 in exact arithmetic) when every coupling to the
    earlier blocks is <= ``level`` = sqrt(n) eps |theta_1|, the rounding level of the Krylov relation
    (~eps ||A|| per entry; measured on the n = 4096 ReLU-NTK: <= 0.1 eps |theta_1|), so that what the
    first pass leaves along them is no larger than its own rounding and the second pass removes it; all
    of Q (0) otherwise: after a thick restart (a new block couples to every kept Ritz vector through its
    residual), after a replaced direction (``exact`` False), and after a near-breakdown, whose amplified
    rounding couples the next blocks to all of Q (tests/test_eigen.py's tiny-tail test: dropping such
    couplings failed the certificate)."""
    start = h.shape[0] - 2 * h.shape[1]
    if exact and 0 < start < h.shape[0] and np.abs(h[:start]).max() <= level:
        return start
    return 0


def _top_eigh(H: np.ndarray, count: int):
    """The top ``count`` eigenpairs of the symmetric H, ascending: LAPACK's MRRR driver (evr) for
    that subset only. MRRR can fail outright ("Internal Error") on a tightly clustered spectrum --
    the thorough profile found H = 3.6e-5 I + O(1e-20) (4 x 4) -- or return fewer pairs than asked
    on an exactly repeated eigenvalue (a dev-profile run found 3 of the top 5 returned for a 12 x 12 H
    with eigenvalues of multiplicity 4, 6, 2; of 2000 random rotations of diag(3 (x4), 2 (x6), 1 (x2)),
    2 lose pairs so, with this environment's OpenBLAS LAPACK); either way the full divide-and-conquer
    driver (evd) is used instead, which has neither failure mode.  H is finite (a dense A passed
    _check_dense; the block route's H comes from operator outputs checked by _Operator), so LAPACK's
    input scan (check_finite) is skipped."""
    n = H.shape[0]
    try:
        values, vectors = scipy.linalg.eigh(H, subset_by_index=[n - count, n - 1], driver="evr", check_finite=False)
        if values.size == count:
            return values, vectors
    except np.linalg.LinAlgError:
        pass
    values, vectors = scipy.linalg.eigh(H, driver="evd", check_finite=False)
    return values[n - count:], vectors[:, n - count:]


def _extend(Q: np.ndarray, Z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Orthonormal columns orthogonal to Q spanning Z's part outside range(Q); directions of
    Z that vanish there (relative 1e-10) are replaced by random ones (``_complement``)."""
    return _complement(Q, Z - swapped_matmul(Q, matmul(Q.T, Z)), np.abs(Z).max(), rng)[0]


def _complement(Q: np.ndarray, Z: np.ndarray, scale: float, rng: np.random.Generator,
                G: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """(B, replaced): orthonormal B orthogonal to Q spanning Z, a block already projected off Q once,
    whose directions of norm <= 1e-10 ``scale`` (Z's size before that projection) are replaced by random
    ones (``replaced``: whether any was).  Classical Gram-Schmidt's second pass and a Cholesky QR after
    each pass (CholeskyQR2: BLAS-3 only; ``G``: Z^T Z when the caller has it already).  When the first
    Cholesky QR cannot be trusted (Z ill-conditioned or with a vanishing direction: _cholesky_qr returns
    None), Householder QR takes its place and finds the directions to replace."""
    B, replaced = _cholesky_qr(Z, 1e-10 * scale, G), False
    if B is None:
        B, R = np.linalg.qr(Z)
        weak = np.abs(np.diag(R)) <= 1e-10 * scale
        replaced = bool(weak.any())
        if replaced:
            B[:, weak] = rng.standard_normal((Q.shape[0], int(weak.sum())))
    B -= swapped_matmul(Q, matmul(Q.T, B))
    return _cholesky_qr(B), replaced


def _cholesky_qr(Z: np.ndarray, vanish: float | None = None, G: np.ndarray | None = None) -> np.ndarray | None:
    """Z D^-1 L^-T, orthonormal columns spanning Z, where D = diag of the column norms and L L^T the
    Cholesky factorisation of the column-scaled Gram D^-1 Z^T Z D^-1 (unit diagonal; ``G``: Z^T Z when
    the caller has it).  Its loss of orthogonality is ~ cond(Z D^-1)^2 eps, so with ``vanish`` given it
    returns None unless the block is safely conditioned: every L_ii >= _CHOLQR_MIN_PIVOT (then
    cond(Z D^-1) <~ 1 / min L_ii, loss <~ 1e-8, removed by a second pass) and every R_ii = L_ii D_ii >
    vanish.  Without ``vanish`` (Z already well conditioned) a failing Cholesky raises LinAlgError."""
    G = matmul(Z.T, Z) if G is None else G
    d = np.sqrt(np.diag(G))
    if vanish is not None and not d.min() > vanish:
        return None
    try:
        L = np.linalg.cholesky(G / np.outer(d, d))
    except np.linalg.LinAlgError:
        if vanish is None:
            raise
        return None
    pivots = np.diag(L)
    if vanish is not None and (pivots.min() < _CHOLQR_MIN_PIVOT or (pivots * d).min() <= vanish):
        return None
    Linv = scipy.linalg.lapack.dtrtri(L, lower=1)[0]       # L has positive pivots: invertible
    return matmul(Z, Linv.T / d[:, None])


# ---------------------------------------------------------------------------------------------
# certificate


def _certify(op: _Operator, values, vectors, k: int, method: str, tol_eff: float, eps: float) -> EigenResult:
    R = op(vectors) - vectors * values
    res = np.sqrt(np.einsum("ij,ij->j", R, R))
    scale = abs(values[0])
    if method in ("eigsh", "lobpcg", "block") and res[:k].max() > 10 * tol_eff * scale:
        raise EigenConvergenceError(f"{method}: top-{k} residual {res[:k].max():.3g} > 10 tol |lambda_1| "
                                    f"= {10 * tol_eff * scale:.3g}")
    level = max(res[:k].max(), 32 * math.sqrt(op.n) * eps * scale)
    gap_ok = len(values) == k or bool(values[k - 1] - values[k] - res[k] > _GAP_FACTOR * level)
    return EigenResult(values[:k].copy(), vectors[:, :k].copy(), res[:k], method, op.count, gap_ok)
