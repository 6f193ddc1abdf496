"""Margin-controlling training of torch networks (issue 14; docs/theory.md M1).

``train_network`` runs full-batch gradient descent on the parameters theta of a real network (the two-layer
ReLU network of numerics.models, the ResNet-18 of numerics.resnet) with any method of
numerics.margin_control.METHODS: the loss's gradient in the outputs, dL/df, is the method's Objective
(numerics.margin_control.Method.objective: the same numbers as numerics.losses, tests/test_m1_margin_methods.py
checks it), and is pulled back through the network by backpropagation, dL/dtheta = J^T dL/df
(``f.backward(dL/df)``). Nothing of a loss's formula is written here.

The outputs are CENTRED, f_theta(x) - f_theta0(x): training starts from f = 0 and, in the lazy regime
(J constant), the iterates are exactly those of numerics.margin_control.train_kernel on the NTK Gram at
initialization K = J J^T. A method's l2 penalty (Method.l2, lambda on the mean loss) is (n lambda / 2)
||theta - theta_0||^2 on the sum scale: for the linearized network that is the RKHS norm of the centred
output, the kernel trainer's alpha^T K alpha. Group DRO moves its group weights q once per step, before
the gradient (Sagawa et al. 2020, Algorithm 1), as in the kernel trainer.

Step: eta = eta_fraction / (c lambda_max(K) + n lambda), c the loss's curvature bound in f (the rule of
numerics.margin_control.step_rule), from the Gram at initialization: stable for the linearized network
when eta_fraction < 2. Seeded: the network's initialization is the caller's (its own seed), and nothing
here draws random numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from numerics.margin_control import Method, step_rule
from numerics.validation import check_steps


@dataclass(frozen=True)
class NetworkTrained:
    """A network trained by ``train_network``: centred outputs on the training and probe points, the step (group DRO:
    the last one) and group DRO's final q (None otherwise)."""

    train_outputs: np.ndarray
    probe_outputs: np.ndarray
    eta: float
    q: np.ndarray | None


def train_network(model: nn.Module, X: torch.Tensor, y, g, method: Method, *, gram, steps: int,
                  probe: torch.Tensor | None = None, eta_fraction: float = 1.0) -> NetworkTrained:
    """Train ``model`` in place for ``steps`` full-batch steps theta <- theta - eta (J^T dL/df + n lambda
    (theta - theta_0)) on the centred outputs (module docstring); ``gram`` is the NTK Gram at initialization on
    X (it sets the step). Returns the centred outputs on X and on ``probe`` (if given). The model must be
    per-sample (a ResNet in eval mode: numerics.resnet). Raises FloatingPointError on non-finite outputs."""
    check_steps(steps)
    y, g = np.asarray(y, dtype=np.float64), np.asarray(g)
    if X.shape[0] != y.size:
        raise ValueError(f"X holds {X.shape[0]} points but y holds {y.size} labels")
    objective = method.objective(y, g)
    step = step_rule(gram, objective, eta_fraction)
    eta = step()
    params = [p for p in model.parameters() if p.requires_grad]
    start = [p.detach().clone() for p in params]
    with torch.no_grad():
        f0 = model(X)
        probe0 = None if probe is None else model(probe)
    for t in range(steps):
        f = model(X) - f0
        outputs = f.detach().cpu().numpy().astype(np.float64)
        if not np.all(np.isfinite(outputs)):
            raise FloatingPointError(f"network training diverged at step {t}")
        _, grad = objective.gradient(outputs)
        eta = step()                        # group DRO: the curvature at the q this gradient moved to
        for p in params:
            p.grad = None
        f.backward(torch.as_tensor(grad, dtype=f.dtype, device=f.device))
        with torch.no_grad():
            for p, p0 in zip(params, start):
                p -= eta * (p.grad + objective.penalty * (p - p0))
    with torch.no_grad():
        train = (model(X) - f0).cpu().numpy().astype(np.float64)
        tested = np.empty(0) if probe is None else (model(probe) - probe0).cpu().numpy().astype(np.float64)
    if not (np.all(np.isfinite(train)) and np.all(np.isfinite(tested))):
        raise FloatingPointError("network training diverged at the last step")
    return NetworkTrained(train, tested, float(eta), objective.q)
