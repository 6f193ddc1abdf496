"""Experiments for the linear-network claims T1, L1, L2, L3, S1 and N1 (docs/theory.md)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from numerics.data import MixtureArrays, exact_moment_design, sample_gmm
from numerics.eigen import LowRank, top_eigenpairs
from numerics.features import feature_outputs
from numerics.kernels import empirical_ntk, linear_ntk
from numerics.models import DeepLinear, OneLayerLinear
from numerics.training import gradient_descent
from theory import dynamics, linear
from theory.concentration import eigenvalue_deviation_bound
from theory.gmm import GMM, imbalance


def _relative(a, b) -> float:
    """max |a - b| / max |b| (0 when both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.max(np.abs(b), initial=0.0)
    diff = np.max(np.abs(a - b), initial=0.0)
    return 0.0 if diff == 0 else diff / scale if scale > 0 else np.inf


def to_floats(exprs) -> np.ndarray:
    """SymPy numbers (an iterable or a Matrix) as a float64 array, evaluated at 30 digits first."""
    return np.array([float(sp.N(e, 30)) for e in exprs], dtype=np.float64)


# ---- T1 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResidualDecay:
    eigenvalues: np.ndarray   # of K = X X^T, descending (n,)
    measured: np.ndarray      # <v_i, Y - f_t(X)>, (steps + 1, n)
    law: np.ndarray           # (1 - eta lambda_i)^t <v_i, Y - f_0(X)>, same shape
    law_error: float          # max |measured - law| / ||Y - f_0(X)||
    decomposition_error: float  # max |f_t - f_0 - sum_i f^(i)_t| / max |f_t - f_0| on fresh points
    eta: float


def residual_decay(gmm: GMM, n: int, *, seed: int, steps: int, eta_fraction: float = 0.5) -> ResidualDecay:
    """Train f(x) = w.x (w_0 ~ N(0, I) from ``seed``) by real torch gradient descent and compare
    the residual along every eigenvector of K = X X^T with the SymPy-solved law (claim T1)."""
    if not 0 < eta_fraction < 1:
        raise ValueError(f"eta_fraction must lie in (0, 1) (a stable step), got {eta_fraction}")
    train = sample_gmm(gmm, n, seed=seed)
    test = sample_gmm(gmm, 16, seed=seed + 1)
    X, Y, Xt = (torch.tensor(a, dtype=torch.float64) for a in (train.X, train.y, test.X))
    K = linear_ntk(train.X)
    eig = top_eigenpairs(K, n, method="full")
    eta = eta_fraction * 2 / eig.values[0]
    model = OneLayerLinear(gmm.dim, seed=seed)
    f0_test = model(Xt).detach().numpy()
    outputs = gradient_descent(model, X, Y, eta=eta, steps=steps, record=range(steps + 1))
    r0 = eig.vectors.T @ (train.y - outputs[0])
    law_fn = sp.lambdify((dynamics.ETA, dynamics.LAM, dynamics.R0, dynamics.T), dynamics.gradient_descent_law())
    t = np.arange(steps + 1)[:, None]
    law = law_fn(eta, eig.values[None, :], r0[None, :], t)
    measured = np.stack([eig.vectors.T @ (train.y - outputs[s]) for s in range(steps + 1)])
    learned = model(Xt).detach().numpy() - f0_test
    features = feature_outputs(linear_ntk(test.X, train.X), eig.values, eig.vectors, train.y - outputs[0],
                               eta=eta, steps=steps)
    return ResidualDecay(eig.values, measured, law,
                         float(np.max(np.abs(measured - law)) / np.linalg.norm(r0)),
                         _relative(features.sum(axis=1), learned), float(eta))


# ---- L1 ---------------------------------------------------------------------------------------
def one_layer_ntk_error(X: np.ndarray, *, method: str = "auto") -> float:
    """max |K_emp - X X^T| / max |X X^T| for f(x) = w.x (claim L1: exactly 0 up to rounding)."""
    Xt = torch.tensor(X, dtype=torch.float64)
    return _relative(empirical_ntk(OneLayerLinear(X.shape[1]), Xt, method=method).numpy(), linear_ntk(X))


@dataclass(frozen=True)
class WidthConvergence:
    widths: tuple
    errors: np.ndarray   # mean over seeds of ||K_emp - (L/d) X X^T||_F / ||(L/d) X X^T||_F
    slope: float         # least-squares slope of log(error) vs log(width); theory -1/2


def log_log_slope(widths, errors) -> float:
    """Least-squares slope of log(error) against log(width) (theory: -1/2); nan for one width."""
    return float(np.polyfit(np.log(widths), np.log(errors), 1)[0]) if len(widths) > 1 else float("nan")


def deep_linear_width_convergence(X: np.ndarray, depth: int, widths, *, seeds) -> WidthConvergence:
    """Empirical NTK of DeepLinear(d, width, depth) against its limit (L/d) X X^T (claim L1)."""
    n, d = X.shape
    Xt = torch.tensor(X, dtype=torch.float64)
    limit = linear_ntk(X, scale=depth / d)
    errors = []
    for width in widths:
        per_seed = [np.linalg.norm(empirical_ntk(DeepLinear(d, width, depth, seed=s), Xt, method="ntvp").numpy()
                                   - limit) / np.linalg.norm(limit) for s in seeds]
        errors.append(np.mean(per_seed))
    errors = np.array(errors)
    return WidthConvergence(tuple(widths), errors, log_log_slope(widths, errors))


# ---- L2 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PopulationSpectrum:
    symbolic: np.ndarray       # SymPy eig(M), descending
    numeric: np.ndarray        # numpy eigvalsh of the float M, descending
    error: float               # max relative difference, scaled by eig_1
    gram_route_error: float    # SymPy H-route eigenvalues against the top of ``symbolic`` (nan if not isotropic)
    subspace_sin: float        # sin of the largest principal angle between SymPy and numpy eigvectors
                               # of the top eigenvalue's eigenspace


def population_spectrum(gmm: GMM) -> PopulationSpectrum:
    """SymPy eigenpairs of M = E[x x^T] against numpy's eigh of M built in floats (claim L2)."""
    pairs = linear.population_eigenpairs(gmm)
    symbolic = to_floats(v for v, _ in pairs)
    numeric_vals, numeric_vecs = np.linalg.eigh(MixtureArrays.from_gmm(gmm).second_moment)
    numeric_vals, numeric_vecs = numeric_vals[::-1], numeric_vecs[:, ::-1]
    gram_error = np.nan
    if gmm.isotropic_variance is not None:
        gram = to_floats(v for v, _ in linear.gram_route_eigenpairs(gmm))
        gram_error = _relative(gram, symbolic[: gram.size]) if gram.size else 0.0
    top = np.isclose(symbolic, symbolic[0], rtol=1e-12, atol=0)
    sym_basis = np.column_stack([to_floats(u) for (_, u), keep in zip(pairs, top) if keep])
    num_basis = numeric_vecs[:, : sym_basis.shape[1]]
    sin = np.linalg.norm(sym_basis @ sym_basis.T - num_basis @ num_basis.T, 2)
    return PopulationSpectrum(symbolic, numeric_vals, _relative(symbolic, numeric_vals), float(gram_error),
                              float(sin))


# ---- L3 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignSpectrum:
    n: int
    gram_over_n: np.ndarray    # top-d eigenvalues of X X^T / n (dense route)
    theory: np.ndarray         # SymPy eig(M)
    error: float               # relative, scaled by eig_1
    lowrank_error: float       # low-rank vs dense eigenvalues, relative
    lowrank_subspace_sin: float  # projector distance of the top-r eigenspaces, r = first gap > 1e-6 eig_1
    gap: float                   # that eigengap, lambda_r - lambda_{r+1} of X X^T (Davis-Kahan denominator)


def exact_design_spectrum(gmm: GMM) -> DesignSpectrum:
    """Gram eigenvalues / n on the exact-moment design against SymPy's eig(M) (claim L3)."""
    design = exact_moment_design(gmm)
    d = gmm.dim
    theory = to_floats(v for v, _ in linear.population_eigenpairs(gmm))
    dense = top_eigenpairs(linear_ntk(design.X), d, method="eigh")
    low = top_eigenpairs(LowRank(design.X), d, method="lowrank")
    gaps = np.nonzero(-np.diff(dense.values) > 1e-6 * dense.values[0])[0]
    r = gaps[0] + 1 if gaps.size else d
    gap = dense.values[r - 1] - dense.values[r] if r < d else dense.values[-1]
    P_dense = dense.vectors[:, :r] @ dense.vectors[:, :r].T
    P_low = low.vectors[:, :r] @ low.vectors[:, :r].T
    return DesignSpectrum(design.n, dense.values / design.n, theory, _relative(dense.values / design.n, theory),
                          _relative(low.values, dense.values), float(np.linalg.norm(P_dense - P_low, 2)),
                          float(gap))


@dataclass(frozen=True)
class SampledSpectrum:
    n: int
    gram_over_n: np.ndarray
    theory: np.ndarray
    deviation: float   # max_i |eig_i(K)/n - eig_i(M)|
    bound: float       # (E||M_hat - M||_F^4 / delta)^(1/4) (theory/concentration.py), probability >= 1 - delta


def sampled_spectrum(gmm: GMM, n: int, *, seed: int, delta: float = 1e-3) -> SampledSpectrum:
    """Gram eigenvalues / n on n i.i.d. samples, against eig(M) and a stated bound (claim L3)."""
    sample = sample_gmm(gmm, n, seed=seed)
    theory = to_floats(v for v, _ in linear.population_eigenpairs(gmm))
    k = min(gmm.dim, n)
    values = top_eigenpairs(LowRank(sample.X), k, method="lowrank").values / n
    bound = float(sp.N(eigenvalue_deviation_bound(gmm, n, sp.Rational(delta)), 30))
    return SampledSpectrum(n, values, theory, float(np.max(np.abs(values - theory[:k]))), bound)


# ---- S1 / N1 ----------------------------------------------------------------------------------
def aligned_direction_sin(gmm: GMM) -> float:
    """sin of the angle between the top eigenvector of the float M and the aligned-mean
    direction (alpha, beta)/norm of a canonical model (claim S1)."""
    arrays = MixtureArrays.from_gmm(gmm)
    aligned = arrays.means[0] / np.linalg.norm(arrays.means[0])
    top = np.linalg.eigh(arrays.second_moment)[1][:, -1]
    # the norm of the orthogonal component: sqrt(1 - cos^2) would lose half the digits (~1e-8)
    return float(np.linalg.norm(top - (top @ aligned) * aligned))


@dataclass(frozen=True)
class SpectrumVsImbalance:
    rhos: np.ndarray
    closed_form: np.ndarray   # (len(rhos), 2): eig_+, eig_- from the SymPy closed form
    sampled: np.ndarray       # (len(rhos), 2): top-2 Gram eigenvalues / n on samples
    top_direction_sin: np.ndarray  # sin(angle(top eigvec of M, aligned mean))


def spectrum_vs_imbalance(alpha, beta, var, rhos, *, n: int, seed: int, dim: int = 2) -> SpectrumVsImbalance:
    """The two canonical eigenvalues as rho sweeps (claim S1), closed form vs sampled Gram."""
    plus, minus = linear.canonical_eigenvalues()
    closed = sp.lambdify((linear.ALPHA, linear.BETA, linear.P, linear.S), [plus, minus])
    rows, sampled, sins = [], [], []
    for rho in rhos:
        gmm = GMM.canonical(alpha, beta, rho, var, dim=dim)
        rows.append(closed(float(alpha), float(beta), imbalance(float(rho)), float(np.sqrt(float(var)))))
        sample = sample_gmm(gmm, n, seed=seed)
        sampled.append(top_eigenpairs(LowRank(sample.X), 2, method="lowrank").values / n)
        sins.append(aligned_direction_sin(gmm))
    return SpectrumVsImbalance(np.asarray(rhos, dtype=float), np.array(rows), np.array(sampled), np.array(sins))
