"""Bad input raises one clear error naming the argument (DESIGN.md conventions)."""
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch
from torch import nn

from numerics.data import exact_moment_design, sample_gmm
from numerics.kernels import empirical_ntk, linear_ntk, ntk_vector_product, relu_ntk
from numerics.models import DeepLinear, OneLayerLinear, resnet18
from numerics.training import gradient_descent, min_norm_interpolant
from theory import GMM
from theory.gmm import Cluster

MEANS = [[1, 0], [0, 1]]
HALF = sp.Rational(1, 2)
ONES = torch.ones(2, 2, dtype=torch.float64)


def _ntk(model=None, X1=ONES, X2=None, **kwargs):
    return empirical_ntk(OneLayerLinear(2) if model is None else model, X1, X2, **kwargs)


def _batchnorm_model():
    """A scalar-output model with BatchNorm, left in train mode."""
    return nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1), nn.Flatten(0)).double().train()


def _image_model():
    return resnet18(width=2, seed=0, dtype=torch.float64)

CASES = [
    ("weights not summing to 1", lambda: GMM.from_arrays([0.5, 0.6], MEANS, [1, -1], [0, 0]),
     ValueError, r"cluster weights must sum to 1, got \d+/\d+ \(= 1.1\)"),
    ("negative weight", lambda: GMM.from_arrays([1.5, -0.5], MEANS, [1, -1], [0, 0]),
     ValueError, r"clusters\[1\].weight must be >= 0, got -1/2"),
    ("negative variance", lambda: GMM.from_arrays([0.5, 0.5], MEANS, [1, -1], [0, -1]),
     ValueError, r"clusters\[1\].variances\[0\] must be >= 0, got -1"),
    ("NaN variance", lambda: GMM.from_arrays([0.5, 0.5], MEANS, [1, -1], [0, math.nan]), ValueError, r"variances\[1\] must be finite"),
    ("label not +-1", lambda: GMM.from_arrays([0.5, 0.5], MEANS, [1, 0], [0, 0]), ValueError, r"label must be -1 or \+1"),
    ("mismatched dims", lambda: GMM.from_arrays([0.5, 0.5], [[1, 0], [0, 1, 0]], [1, -1], [0, 0]),
     ValueError, "mean and variances must be 2 x 1"),
    ("missing mean", lambda: GMM.from_arrays([0.5, 0.5], [[1, 0]], [1, -1], [0, 0]), ValueError,
     r"means must have one entry per cluster \(2\), got 1"),
    ("string var", lambda: GMM.canonical(1, 1, 0.5, "0.1"), TypeError, "var must be a real number or SymPy expression, got str"),
    ("missing variance", lambda: GMM.from_arrays([0.5, 0.5], MEANS, [1, -1], [0]), ValueError,
     r"variances must have one entry per cluster \(2\), got 1"),
    ("string mean", lambda: GMM.from_arrays([0.5, 0.5], [[1, "a"], [0, 1]], [1, -1], [0, 0]), TypeError,
     r"means\[0\] must be a real number"),
    ("variances of another dimension", lambda: GMM([Cluster(1, HALF, sp.Matrix([1, 0]), sp.Matrix([0, 0])),
                                                    Cluster(-1, HALF, sp.Matrix([0, 1]), sp.Matrix([0, 0, 0]))]),
     ValueError, r"clusters\[1\]: mean and variances must be 2 x 1 like clusters\[0\], got \(2, 1\) and \(3, 1\)"),
    ("string beta", lambda: GMM.canonical(1, "b", 0.5, 0), TypeError, "beta must be a real number"),
    ("string var_core", lambda: GMM.canonical(1, 1, 0.5, 0, var_core="x"), TypeError, "var_core must be a real number"),
    ("string var_bias", lambda: GMM.canonical(1, 1, 0.5, 0, var_bias="x"), TypeError, "var_bias must be a real number"),
    ("negative var_bias", lambda: GMM.canonical(1, 1, 0.5, 0, var_bias=-1), ValueError, "var_bias must be >= 0, got -1"),
    ("missing label", lambda: GMM.from_arrays([0.5, 0.5], MEANS, [1], [0, 0]), ValueError, "labels must have one entry per cluster"),
    ("no clusters", lambda: GMM([]), ValueError, "at least one cluster"),
    ("rho above 1", lambda: GMM.canonical(1, 1, 1.2, 0), ValueError, r"rho must lie in \[0, 1\], got \d+/\d+ \(= 1.2\)"),
    ("rho below 0", lambda: GMM.canonical(1, 1, -0.1, 0), ValueError, r"rho must lie in \[0, 1\], got -\d+/\d+ \(= -0.1\)"),
    ("rho NaN", lambda: GMM.canonical(1, 1, math.nan, 0), ValueError, "rho must be finite"),
    ("negative var", lambda: GMM.canonical(1, 1, 0.9, -1), ValueError, "var must be >= 0, got -1"),
    ("negative core var", lambda: GMM.canonical(1, 1, 0.9, 1, var_core=-1), ValueError, "var_core must be >= 0, got -1"),
    ("dim too small", lambda: GMM.canonical(1, 1, 0.9, 1, dim=1), ValueError, "dim must be an integer >= 2"),
    ("string alpha", lambda: GMM.canonical("1", 1, 0.9, 1), TypeError, "alpha must be a real number"),
    ("symbolic weights cannot be sampled", lambda: sample_gmm(GMM.canonical(1, 1, sp.Symbol("rho"), 0), 5, seed=0),
     ValueError, "weights must be numeric"),
    ("n not positive", lambda: sample_gmm(GMM.canonical(1, 1, 0.5, 0), 0, seed=0), ValueError, "n must be a positive integer"),
    ("seed missing", lambda: sample_gmm(GMM.canonical(1, 1, 0.5, 0), 5, seed=None), TypeError, "seed must be an int"),
    ("counts mismatch", lambda: sample_gmm(GMM.canonical(1, 1, 0.5, 0), 5, seed=0, counts=[1, 1, 1]), ValueError, "counts must be 4"),
    ("design too large", lambda: exact_moment_design(GMM.canonical(1, 1, Fraction(1, 3) + Fraction(1, 10**9), 0)),
     ValueError, "max_points"),
    ("NaN data to linear_ntk", lambda: linear_ntk(np.array([[np.nan, 1.0]])), ValueError, "X1 must be finite"),
    ("1-D data to linear_ntk", lambda: linear_ntk(np.ones(3)), ValueError, "X1 must be a 2-D array"),
    ("column mismatch", lambda: linear_ntk(np.ones((2, 3)), np.ones((2, 2))), ValueError, "same number of columns"),
    ("NaN data to empirical_ntk", lambda: empirical_ntk(OneLayerLinear(2), torch.tensor([[math.nan, 0.0]], dtype=torch.float64)),
     ValueError, "X1 must be finite"),
    ("unknown NTK method", lambda: empirical_ntk(OneLayerLinear(2), torch.ones(2, 2, dtype=torch.float64), method="magic"),
     ValueError, "method must be 'auto' or one of"),
    ("sample shape mismatch", lambda: _ntk(X2=torch.ones(2, 3, dtype=torch.float64)),
     ValueError, r"same sample shape, got \(2,\) and \(3,\)"),
    ("NaN X2 to linear_ntk", lambda: linear_ntk(np.ones((2, 2)), [[np.nan, 1.0]]), ValueError, "X2 must be finite"),
    ("1-D X2 to relu_ntk", lambda: relu_ntk(np.ones((2, 2)), np.ones(2)), ValueError, "X2 must be a 2-D array"),
    ("NaN X2 to empirical_ntk", lambda: _ntk(X2=torch.tensor([[math.nan, 0.0]], dtype=torch.float64)),
     ValueError, "X2 must be finite"),
    ("numpy X1 to empirical_ntk", lambda: _ntk(X1=np.ones((2, 2))), TypeError, "X1 must be a torch.Tensor, got ndarray"),
    ("numpy X2 to empirical_ntk", lambda: _ntk(X2=np.ones((2, 2))), TypeError, "X2 must be a torch.Tensor, got ndarray"),
    ("1-D X1 to empirical_ntk", lambda: _ntk(X1=torch.ones(2, dtype=torch.float64)), ValueError,
     r"X1 must be a batch \(n x \.\.\.\) with n >= 1, got shape \(2,\)"),
    ("empty batch to empirical_ntk", lambda: _ntk(X1=torch.ones(0, 2, dtype=torch.float64)), ValueError,
     r"X1 must be a batch .* got shape \(0, 2\)"),
    ("empty X2 to ntk_vector_product", lambda: ntk_vector_product(OneLayerLinear(2), ONES, torch.ones(0, 2, dtype=torch.float64)),
     ValueError, r"X2 must be a batch"),
    ("3-D output model", lambda: _ntk(nn.Sequential(nn.Linear(2, 6), nn.Unflatten(1, (3, 2))).double()), ValueError,
     r"model must return outputs of shape \(n,\), \(n, 1\) or \(n, k\) for a batch of n samples, got \(2, 3, 2\)"),
    ("BatchNorm in train mode", lambda: _ntk(_batchnorm_model()), ValueError,
     r"model must be in eval mode \(model.eval\(\)\): in train mode BatchNorm mixes the samples of a batch "
     "and the NTK is not a kernel of single inputs"),
    ("grey image to resnet18", lambda: _image_model()(torch.ones(2, 1, 16, 16, dtype=torch.float64)), ValueError,
     r"x must be a batch of images of shape \(n, 3, H, W\), got shape \(2, 1, 16, 16\)"),
    ("unbatched image to resnet18", lambda: _image_model()(torch.ones(3, 16, 16, dtype=torch.float64)), ValueError,
     r"x must be a batch of images of shape \(n, 3, H, W\), got shape \(3, 16, 16\)"),
    ("float32 image to float64 resnet18", lambda: _image_model()(torch.ones(2, 3, 16, 16)), TypeError,
     "x must have the model's dtype torch.float64, got torch.float32"),
    ("NaN kernel scale", lambda: linear_ntk(np.ones((2, 2)), scale=math.nan), ValueError,
     r"scale must be a finite number > 0, got nan"),
    ("zero kernel scale", lambda: linear_ntk(np.ones((2, 2)), scale=0), ValueError, r"scale must be a finite number > 0, got 0"),
    ("inf kernel scale", lambda: linear_ntk(np.ones((2, 2)), scale=math.inf), ValueError,
     r"scale must be a finite number > 0, got inf"),
    ("string kernel scale", lambda: linear_ntk(np.ones((2, 2)), scale="2"), ValueError,
     r"scale must be a finite number > 0, got '2'"),
    ("NaN design to min_norm_interpolant", lambda: min_norm_interpolant(np.array([[np.nan, 1.0]]), np.ones(1)),
     ValueError, "X must be finite"),
    ("targets mismatch", lambda: min_norm_interpolant(np.ones((2, 2)), np.ones(3)), ValueError,
     r"targets must be 2 finite numbers \(one per row of X\), got shape \(3,\)"),
    ("width zero", lambda: DeepLinear(3, 0, 2, seed=0), ValueError, "width must be a positive integer"),
    ("unstable step", lambda: gradient_descent(OneLayerLinear(2), torch.ones(2, 2, dtype=torch.float64),
                                               torch.ones(2, dtype=torch.float64), eta=-1.0, steps=3), ValueError, "eta must be"),
]


@pytest.mark.parametrize("make, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_symbolic_parameters_are_allowed_and_substituted_before_sampling():
    rho, s = sp.Symbol("rho", positive=True), sp.Symbol("s", positive=True)
    gmm = GMM.canonical(1, 2, rho, s**2)
    assert sp.simplify(sum(gmm.weights)) == 1
    numeric = gmm.subs({rho: sp.Rational(9, 10), s: sp.Rational(1, 2)})
    assert sample_gmm(numeric, 10, seed=0).X.shape == (10, 2)
