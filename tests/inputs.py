"""Input constructions shared by test modules (not a test module: pytest collects test_*.py only)."""
import numpy as np


def nearly_parallel_pair(seed: int, d: int, log_angle: float, antiparallel: bool, ratio: float):
    """(x, x2): x ~ N(0, I_d) and x2 at angle 10^log_angle from x (or from -x when ``antiparallel``),
    |x2| = ratio |x|, built from x's unit vector and a unit vector orthogonal to it, so the angle is
    exact to rounding (the regime where arccos loses accuracy)."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(d), rng.standard_normal(d)
    u, w = x / np.linalg.norm(x), w - (w @ x) / (x @ x) * x
    w /= np.linalg.norm(w)
    angle = np.pi - 10.0**log_angle if antiparallel else 10.0**log_angle
    return x, ratio * np.linalg.norm(x) * (np.cos(angle) * u + np.sin(angle) * w)
