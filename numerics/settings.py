"""Default settings shared by the report, its figures and the tests' pinned examples.

One place for the canonical parameters and the rho sweep, so the report's modules and the
figures cannot drift apart (they used to retype them with different grids). Hypothesis tests
draw their own values from theory.strategies; where a test pins the report's setting it imports
it from here.
"""
from __future__ import annotations

from fractions import Fraction

#: Canonical model (theory.GMM.canonical): core strength alpha, bias strength (salience) beta.
ALPHA, BETA = Fraction(1), Fraction(13, 10)

#: The imbalance sweep of every rho-vs-measurement row: 1/2 (the balanced control) up to 0.95.
RHO_SWEEP = (Fraction(1, 2), Fraction(3, 5), Fraction(7, 10), Fraction(4, 5), Fraction(9, 10), Fraction(19, 20))

#: The one imbalance at which single-rho rows are measured (p = 0.8).
RHO_IMBALANCED = Fraction(9, 10)

#: Within-cluster variances: linear rows (s^2), the ReLU E2/G1 rows (sigma = 0.3) and the ReLU E3 rows.
VAR_LINEAR = Fraction(1, 4)
VAR_RELU_E2 = Fraction(9, 100)
VAR_RELU_E3 = Fraction(36, 100)
