"""Every tolerance the suite uses, with where it comes from (THEORY.md section 8).

Tests and the report import these, so a verdict in the report and a pass in pytest mean the
same thing.
"""
import numpy as np

EPS = float(np.finfo(np.float64).eps)

#: T1, float64 rounding: each of t <= 300 gradient steps adds O(eps) relative to ||r_0||
#: (|1 - eta lambda| <= 1 never amplifies), so the accumulated error is <= 300 c eps ~ 1e-13;
#: 1e-10 keeps a 1e3 margin.
RESIDUAL_LAW = 1e-10

#: L2, float64 rounding: numpy's eigh is backward stable, |computed - exact| <= c d eps ||M||
#: with c ~ 10, plus eps ||M|| from converting the exact M to floats; 1e-10 relative covers
#: d <= 8 with a 1e4 margin.
POPULATION_EIGENVALUES = 1e-10

#: L3, float64 rounding on an exact-moment design: forming X X^T and its eigh cost
#: c n eps ||K|| with n <= 1000 points, about 1e-13 relative; the issue's 1e-9 sits above that.
DESIGN_EIGENVALUES = 1e-9

#: L3: the low-rank and dense routes are both backward stable, so their eigenvalues agree to
#: a few n eps relative to lambda_1.
ROUTE_AGREEMENT = 1e-10

#: L1, infinite-width limit: the fitted log-log slope of error vs width must be within this of
#: -1/2. With 4 seeds averaged, the per-width error has ~25% relative spread, i.e. +-0.1 in
#: slope over a 256x width range; 0.2 is twice that.
WIDTH_SLOPE = 0.2

#: L3, sampled data: Chebyshev failure probability of the eigenvalue deviation bound
#: sqrt(V / (n delta)) (theory/concentration.py).
CONCENTRATION_DELTA = 1e-3


def davis_kahan_rounding(eigenvalue_scale: float, gap: float, dim: int) -> float:
    """sin(angle) bound for eigenvectors computed by a backward-stable solver: the perturbation
    is at most 10 dim eps ||A|| and Davis-Kahan gives sin <= ||E|| / gap."""
    return 10 * dim * EPS * eigenvalue_scale / gap

#: ResNet-18 empirical NTK, float64 (every strategy vs the per-sample-gradient definition): an
#: entry is a sum over P <= 1e6 parameters of products of backpropagated gradients, each carrying
#: ~20 layers of rounding; the summation error is <= P eps |terms| in the worst case and ~sqrt(P) eps
#: in practice (measured <= 3e-16 at width 4), so 1e-10 relative to max|K| leaves a 1e5 margin.
RESNET_NTK_FLOAT64 = 1e-10

#: G1 for the ResNet at zero within-cluster variance: identical images give bitwise identical Gram
#: entries (float32 contractions are deterministic per sample), so K = Z Kbar Z^T holds exactly for
#: the float64 matrix and only eigh's backward error remains: <= 10 n eps lambda_1, i.e. relative to
#: lambda_4 <= 10 n eps lambda_1 / lambda_4 ~ 4e-10 at n = 160, lambda_1 / lambda_4 <= 1e3 (measured
#: <= 1e-14). Also the rounding allowance of the (exact) Cauchy interlacing, relative to lambda_1.
RESNET_G1_EXACT = 1e-8

#: E3, kernel regression interpolates: the training margins y K K^-1 gamma y / gamma equal 1 up to the
#: solve's backward error, <= n eps cond(K) ~ 160 * 2.2e-16 * 4e3 ~ 1.4e-10 for the ResNet Grams of
#: numerics.experiments.resnet (cond(K) measured 1.9e3-3.6e3); 1e-8 allows cond(K) up to ~3e5.
RESNET_TRAIN_MARGIN = 1e-8

#: G1 (ReLU NTK): the top-4 eigenvalue error of the cluster prediction is O(sigma^2) (first order: the
#: excess r; second order: ||E||^2 / gap with ||E|| = O(sigma)); the order fitted over sigma = 0.2, 0.05,
#: 0.0125 must exceed 1.5, half-way between linear and quadratic (sigma = 0.2 is pre-asymptotic:
#: measured 1.69-1.91 over 9 settings).
RELU_G1_VARIANCE_ORDER = 1.5

#: E2 negative control (rho = 1/2): the choice of phi_A, phi_C is a tie between the core and bias
#: features, ratio in {R_-/R_+, 1, R_+/R_-}; the band is |log ratio| <= log(R_+/R_-) + log(this), the
#: factor covering seed noise (measured at most exp(0.21) = 1.23 at salience 1, where R_+ = R_-).
RELU_E2_TIE_NOISE = 1.25

#: E3 negative control (rho = 1/2): |aligned - conflicting| mean test margin, mirror-symmetric in
#: expectation. Its seed noise at n = 800 (12 seeds each at salience 4/5, 5/4 and var 1/4, 16/25) has
#: standard deviation 0.029-0.042 (max |diff| 0.084); 0.2 is ~5 sd of the worst. (0.1 failed once in a
#: --hypothesis-seed=2 dev run: 0.137.) Power: at rho = 0.9 the deficit was >= 0.29 in all 48 runs.
RELU_E3_SYMMETRY_BAND = 0.2

#: E3, kernel regression with relu_ntk: training margins equal gamma up to the LU solve's error
#: <= n eps cond(K) gamma ~ 800 * 2.2e-16 * 3e3 ~ 5e-10 gamma (cond(K) measured <= 3e3).
RELU_KERNEL_MARGIN = 1e-8

#: E3, real gradient descent (width 512, n = 200, 3000 steps of 1.9 / lambda_max): the training margins
#: are not interpolated exactly. The analytic NTK's slowest mode has decayed to e^-7.5 (T1; eta lambda_min
#: >= 2.5e-3 measured), the finite-width network lags it: measured max |y f - gamma| <= 0.0074 at 3000
#: steps, and 0.067 at 1500 steps (a thorough-profile counterexample to the old 1500-step setting);
#: 0.05 is the stated "held at gamma" allowance.
RELU_GD_MARGIN = 0.05
