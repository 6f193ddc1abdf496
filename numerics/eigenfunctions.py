"""Kernel eigenfunctions by the Nystrom extension, and the two label-carrying features (claim E2).

Generic: works for ANY kernel given as a train Gram (anything ``numerics.eigen.top_eigenpairs``
accepts: dense, LowRank, a matrix-free LinearOperator) and a dense probe-by-train block.

Nystrom extension (docs/theory.md, E2). A Gram eigenpair (lambda_i, v_i) of K = k(X, X)
extends to the function
    phi_i(x) = k(x, X) v_i / lambda_i,
which equals v_i on the training points (K v_i = lambda_i v_i) and is the empirical estimate of
the population eigenfunction (up to the factor sqrt(n) of the L2(p) normalization, irrelevant
for correlations). Pairs with lambda_i <= 1e-8 lambda_1 are skipped: k(x, X) v_i carries a rounding
error of about n eps lambda_1, which the division by lambda_i would blow up (at the cut, for
n <= 1000: 1e3 * 2.2e-16 / 1e-8 ~ 2e-5 relative); below it, e.g. the null space of a Gram at
zero within-cluster variance, the extension is rounding noise.

Label-carrying features. On a probe set with labels y and alignment flags (aligned iff the
shortcut attribute agrees with the label), let
    g_A(x) = y 1[x aligned],   g_C(x) = y 1[x conflicting]      (y = g_A + g_C, b = g_A - g_C).
g_C is the only part of the label that separates core from bias. phi_A (phi_C) is the computed
eigenfunction with the largest |cos| with g_A (g_C) on the probe, cos(f, g) = <f, g> / (|f| |g|)
over probe points (uncentred: the empirical L2 inner product of the probe distribution). E2 claims
lambda(phi_A) / lambda(phi_C) increases with the aligned fraction rho of the TRAINING set; the probe
should be balanced (rho = 1/2) so that both features are measured on equal footing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.clusters import ClusterKernel
from numerics.eigen import top_eigenpairs
from numerics.validation import finite_matrix

#: eigenpairs with lambda_i <= NYSTROM_RCOND lambda_1 are not extended (module docstring: rounding).
NYSTROM_RCOND = 1e-8


@dataclass(frozen=True)
class LabelFeatures:
    """The top-k eigenvalues, each eigenfunction's |cos| with g_A and g_C on the probe, the chosen
    indices of phi_A and phi_C (possibly equal) and ratio = lambda(phi_A) / lambda(phi_C)."""

    values: np.ndarray
    aligned_correlation: np.ndarray
    conflicting_correlation: np.ndarray
    index_aligned: int
    index_conflicting: int

    @property
    def ratio(self) -> float:
        return float(self.values[self.index_aligned] / self.values[self.index_conflicting])


def nystrom(K_probe_train, values, vectors) -> np.ndarray:
    """Phi (n_probe x k), Phi[:, i] = k(probe, X) v_i / lambda_i; eigenvalues must be > 0."""
    K_probe_train = finite_matrix(K_probe_train, "K_probe_train")
    values, vectors = np.asarray(values, dtype=np.float64), finite_matrix(vectors, "vectors")
    if vectors.shape[0] != K_probe_train.shape[1] or values.shape != (vectors.shape[1],):
        raise ValueError(f"shapes must agree: K_probe_train (p, n), vectors (n, k), values (k,); got "
                         f"{K_probe_train.shape}, {vectors.shape}, {values.shape}")
    if not np.all(values > 0):
        raise ValueError(f"values must be positive to extend eigenvectors, got min {values.min()}")
    return (K_probe_train @ vectors) / values


def cluster_functions(y, aligned) -> tuple[np.ndarray, np.ndarray]:
    """(g_A, g_C) = (y 1[aligned], y 1[not aligned]) on the given points."""
    y = np.asarray(y, dtype=np.float64)
    aligned = np.asarray(aligned)
    if y.ndim != 1 or not np.all(np.abs(y) == 1):
        raise ValueError("y must be a 1-D array of labels in {-1, +1}")
    if aligned.shape != y.shape or aligned.dtype != bool:
        raise ValueError(f"aligned must be a boolean array of shape {y.shape}, got {aligned.dtype} {aligned.shape}")
    return y * aligned, y * ~aligned


def label_features_from_eigenpairs(values, vectors, K_probe_train, y_probe, aligned_probe) -> LabelFeatures:
    """phi_A, phi_C among the given Gram eigenpairs (values descending), evaluated on the probe."""
    values = np.asarray(values, dtype=np.float64)
    g_aligned, g_conflicting = cluster_functions(y_probe, aligned_probe)
    if not (g_aligned.any() and g_conflicting.any()):
        raise ValueError("aligned_probe must contain both aligned and conflicting points")
    keep = values > NYSTROM_RCOND * max(values.max(initial=0.0), 0.0)
    if not keep.any():
        raise ValueError("values: no eigenvalue is positive; the Gram carries no features")
    phi = nystrom(K_probe_train, values[keep], np.asarray(vectors)[:, keep])
    norms = np.linalg.norm(phi, axis=0)
    correlations = []
    for g in (g_aligned, g_conflicting):
        cos = np.zeros(values.size)
        cos[keep] = np.abs(g @ phi) / np.where(norms > 0, norms * np.linalg.norm(g), 1.0)
        correlations.append(cos)
    return LabelFeatures(values, correlations[0], correlations[1],
                         int(np.argmax(correlations[0])), int(np.argmax(correlations[1])))


def label_features(K_train, K_probe_train, y_probe, aligned_probe, *, k: int, method: str = "auto",
                   seed=0) -> LabelFeatures:
    """Top-k eigenpairs of ``K_train`` (numerics.eigen.top_eigenpairs: dense, LowRank or a
    LinearOperator such as numerics.kernels.ntk_operator), then phi_A, phi_C on the probe."""
    eig = top_eigenpairs(K_train, k, method=method, seed=seed)
    return label_features_from_eigenpairs(eig.values, eig.vectors, K_probe_train, y_probe, aligned_probe)


def predicted_label_features(ck: ClusterKernel, labels, aligned) -> LabelFeatures:
    """G1's cluster-level prediction of phi_A, phi_C and their eigenvalue ratio (claims G1, E2).

    At zero within-cluster variance the Gram's nonzero eigenpairs are (lambda, Z N^-1/2 h) with
    (lambda, h) those of H = N^1/2 Kbar N^1/2, and the Nystrom eigenfunction takes the value h_c /
    sqrt(n_c) on cluster c. That is exactly the Nystrom extension with the clusters as training
    points and probe-by-train kernel Kbar N^1/2 (since Kbar N^1/2 h = lambda N^-1/2 h), evaluated on
    a balanced probe of one point per cluster: so this reuses ``label_features_from_eigenpairs``.
    ``labels`` (m,) in {-1, +1} and ``aligned`` (m,) bool describe the clusters."""
    values, vectors = np.linalg.eigh(ck.weighted)
    return label_features_from_eigenpairs(values[::-1], vectors[:, ::-1], ck.mean * np.sqrt(ck.counts)[None, :],
                                          labels, aligned)
