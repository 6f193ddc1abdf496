"""The one count rule: exact cluster counts round half up.

Every sample with an exact imbalance (numerics.data.canonical_counts for the GMM, numerics.colored_digits
for the images) turns a fraction of n into a count with ``half_up``, so two drivers of one claim never
disagree by one point at a tie (Python's ``round`` rounds ties to even: round(2.5) = 2).
"""
from __future__ import annotations

import math
from fractions import Fraction


def half_up(value) -> int:
    """floor(value + 1/2), exactly (value: int, Fraction, or a float taken at its exact binary value)."""
    return math.floor(Fraction(value) + Fraction(1, 2))
