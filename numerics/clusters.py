"""Cluster-level reduction of ANY kernel Gram (claim G1, docs/theory.md).

Let Z be the n x m cluster membership (Z[i, c] = 1 iff point i lies in cluster c), N = diag(n_c)
the counts, and K = k(X, X). Define
    Kbar[c, c'] = mean of K[i, j] over pairs i in c, j in c', i != j      (the cluster kernel),
    r[c]        = mean_{i in c} K[i, i] - Kbar[c, c]                       (within-cluster excess).
Compression identity (exact, any kernel, any variance): for h in R^m the unit vectors
Z N^-1/2 h span the cluster-constant vectors, and
    (Z N^-1/2)^T K (Z N^-1/2) = N^1/2 Kbar N^1/2 + diag(r),
because 1_c^T K 1_c' = n_c n_c' Kbar[c, c'] for c != c' and n_c (n_c - 1) Kbar[c, c] + n_c (Kbar[c, c] + r_c)
for c = c'. Hence (Cauchy interlacing) the i-th eigenvalue of that m x m matrix is <= lambda_i(K).
At zero within-cluster variance every point sits at its cluster mean, so K = Z Kbar Z^T exactly
(r = 0) and the top-m eigenvalues of K are eig(N^1/2 Kbar N^1/2) (``predicted_eigenvalues``). With
variance, the within-cluster part acts (d >> n) as a ridge diag(r), and kernel regression's output
at a fresh point of cluster c is approximately
    F = Kbar (N Kbar + diag(r))^-1 N y                                      (``ridge_cluster_outputs``),
the Woodbury form of k(x, X) (Z Kbar Z^T + R)^-1 Z y with R = diag(r_c(i)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.eigen import top_eigenpairs
from numerics.validation import finite_matrix


@dataclass(frozen=True)
class ClusterKernel:
    """Kbar (m, m), within-cluster excess r (m,), counts n_c (m,) of one Gram and one clustering."""

    mean: np.ndarray
    excess: np.ndarray
    counts: np.ndarray

    @property
    def weighted(self) -> np.ndarray:
        """N^1/2 Kbar N^1/2: the linear theory's H with G replaced by the kernel's cluster Gram."""
        root = np.sqrt(self.counts)
        return root[:, None] * self.mean * root[None, :]

    @property
    def compression(self) -> np.ndarray:
        """N^1/2 Kbar N^1/2 + diag(r): K compressed onto the cluster-constant vectors (exact)."""
        return self.weighted + np.diag(self.excess)


def membership(cluster, m: int | None = None) -> np.ndarray:
    """Z (n x m) with Z[i, c] = 1 iff cluster[i] = c. ``m`` defaults to max(cluster) + 1."""
    cluster = _cluster_indices(cluster, m)
    m = int(cluster.max()) + 1 if m is None else m
    return (cluster[:, None] == np.arange(m)[None, :]).astype(np.float64)


def cluster_kernel(K, cluster, m: int | None = None) -> ClusterKernel:
    """Kbar, r and the counts from a Gram ``K`` (n x n, numpy or torch) and labels ``cluster`` (n,).

    Every cluster 0..m-1 needs at least 2 points (Kbar[c, c] averages over pairs i != j).
    """
    K = _square_gram(K)
    cluster = _cluster_indices(cluster, m)
    if cluster.size != K.shape[0]:
        raise ValueError(f"cluster must have one entry per row of K ({K.shape[0]}), got {cluster.size}")
    Z = membership(cluster, m)
    counts = Z.sum(axis=0)
    small = np.nonzero(counts < 2)[0]
    if small.size:
        raise ValueError(f"cluster: every cluster needs at least 2 points, clusters {small.tolist()} have "
                         f"{counts[small].astype(int).tolist()}")
    sums = Z.T @ K @ Z
    diagonal = Z.T @ np.diag(K)
    pairs = np.outer(counts, counts) - np.diag(counts)
    mean = (sums - np.diag(diagonal)) / pairs
    excess = diagonal / counts - np.diag(mean)
    return ClusterKernel(mean, excess, counts)


def predicted_eigenvalues(ck: ClusterKernel, *, with_excess: bool = False) -> np.ndarray:
    """eig(N^1/2 Kbar N^1/2), descending (G1: the top-m Gram eigenvalues at zero variance).

    ``with_excess``: eig(N^1/2 Kbar N^1/2 + diag(r)) instead, the Ritz values of K on the
    cluster-constant vectors; each is <= the corresponding Gram eigenvalue (interlacing).
    """
    return np.linalg.eigvalsh(ck.compression if with_excess else ck.weighted)[::-1]


def relative_eigenvalue_errors(gram: np.ndarray, predicted: np.ndarray, n: int) -> np.ndarray:
    """|predicted - gram| / |gram| per eigenvalue of an n x n Gram, the denominator floored at
    n eps |gram_1|: an eigenvalue that is zero to rounding (e.g. the linear kernel's beyond its rank
    at zero variance) has no relative accuracy, and 0/0 must not become NaN. All-zero gives 0."""
    floor = n * np.finfo(np.float64).eps * np.abs(gram).max()
    denominator = np.maximum(np.abs(gram), floor)
    return np.divide(np.abs(predicted - gram), denominator, out=np.zeros_like(denominator), where=denominator > 0)


def ridge_cluster_outputs(ck: ClusterKernel, labels) -> np.ndarray:
    """F = Kbar (N Kbar + diag(r))^-1 N y: approximate kernel-regression output at a fresh point
    of each cluster, the within-cluster part of K acting as a ridge (G1, regime d >> n)."""
    labels = np.asarray(labels, dtype=np.float64)
    if labels.shape != ck.counts.shape:
        raise ValueError(f"labels must have one entry per cluster ({ck.counts.size}), got shape {labels.shape}")
    system = ck.counts[:, None] * ck.mean + np.diag(ck.excess)
    return ck.mean @ np.linalg.solve(system, ck.counts * labels)


def _square_gram(K) -> np.ndarray:
    K = finite_matrix(K, "K")
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square Gram matrix (n x n), got shape {K.shape}")
    return K


def _cluster_indices(cluster, m) -> np.ndarray:
    cluster = np.asarray(cluster)
    if cluster.ndim != 1 or cluster.size == 0 or not np.issubdtype(cluster.dtype, np.integer):
        raise ValueError(f"cluster must be a non-empty 1-D integer array of cluster indices, got {cluster!r}")
    if m is not None and (not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < 1):
        raise ValueError(f"m must be a positive integer, got {m!r}")
    upper = int(cluster.max()) + 1 if m is None else int(m)
    if cluster.min() < 0 or cluster.max() >= upper:
        raise ValueError(f"cluster indices must lie in [0, {upper}), got range [{cluster.min()}, {cluster.max()}]")
    return cluster


@dataclass(frozen=True)
class ClusterReduction:
    gram: np.ndarray            # top-m eigenvalues of K (descending)
    predicted: np.ndarray       # eig(N^1/2 Kbar N^1/2), descending
    ritz: np.ndarray            # eig(N^1/2 Kbar N^1/2 + diag(r)): K compressed to cluster-constant vectors
    error: np.ndarray           # |gram - predicted| / |gram|, per eigenvalue (relative_eigenvalue_errors)
    ritz_error: np.ndarray      # |gram - ritz| / |gram|
    kernel: ClusterKernel


def cluster_reduction(K: np.ndarray, cluster: np.ndarray, m: int = 4) -> ClusterReduction:
    """Top-m eigenvalues of a Gram against G1's cluster-level predictions (any kernel)."""
    ck = cluster_kernel(K, cluster, m)
    gram = top_eigenpairs(K, m).values
    predicted, ritz = predicted_eigenvalues(ck), predicted_eigenvalues(ck, with_excess=True)
    n = K.shape[0]
    return ClusterReduction(gram, predicted, ritz, relative_eigenvalue_errors(gram, predicted, n),
                            relative_eigenvalue_errors(gram, ritz, n), ck)
