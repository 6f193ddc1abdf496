"""The claim registry: every claim the suite verifies, with its section of docs/theory.md.

A claim id is how tests (``@pytest.mark.claim("L2")``), the claims ledger, the pass rules
(numerics.checks.RULES) and the report refer to a statement; docs/theory.md#<id> states it, sketches
its derivation and says where it does not hold.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One verifiable statement.

    kind: "exact" (holds to float64 rounding), "limit" (error shrinks with width or
    sample size), "empirical" (a trend measured on sampled data), "control"
    (a negative control: the mechanism removed, the effect must vanish) or "identity"
    (true for any kernel and data: a sanity check of the code, never evidence for a claim).
    short: a few words for the report's table.
    """

    id: str
    statement: str
    section: str
    kind: str
    short: str


CLAIMS: dict[str, Claim] = {
    c.id: c
    for c in (
        Claim("T1", "Residual along NTK eigenvector i decays as (1 - eta lambda_i)^t; "
              "the output splits into features f^(i) = k(x,X) v_i <v_i,Y> / lambda_i", "1", "exact", "residual decays as (1-eta lambda)^t"),
        Claim("L1", "Linear networks: one-layer NTK = X X^T exactly; deep linear NTK -> (L/d) X X^T "
              "with O(1/sqrt(width)) error", "3", "limit", "linear NTK = c x.x'"),
        Claim("L2", "Population eigenpairs of a linear NTK are those of M = E[x x^T] = A + s^2 I; "
              "canonical closed form eig_+- ", "3", "exact", "population eigenpairs of M"),
        Claim("L3", "Gram eigenvalues / n equal eig(M) on exact-moment designs and concentrate on samples; "
              "low-rank and dense routes agree", "3", "exact", "Gram eig / n -> eig(M)"),
        Claim("S1", "Shortcut = top eigenfunction: eig_+ increases and eig_- decreases in |p|; "
              "top eigenvector -> aligned mean direction as rho -> 1", "4", "exact", "shortcut = top eigenfunction"),
        Claim("S2", "Within-cluster variance acts as a ridge and keeps top features dominant after training; "
              "w_bias grows with p and the core variance", "5", "exact", "variance keeps shortcut influential"),
        Claim("S3", "Margin control does not remove the preference: equal training margins (min-norm "
              "interpolant) with smaller margins on fresh conflicting points; d >> n ridge formula", "6", "exact",
              "margin control keeps the preference"),
        Claim("N1", "Negative controls: p = 0 gives no core-bias mixing, equal weights no ordering by "
              "alignment, s^2 = 0 fits every cluster", "4-5", "control", "controls: p=0, s2=0, balance"),
        Claim("R1", "Two-layer ReLU: the empirical NTK converges to the arc-cosine NTK formula "
              "at rate O(1/sqrt(width))", "7", "limit", "ReLU NTK limit formula"),
        Claim("G1", "Cluster-level reduction: top-m Gram eigenvalues = eig(N^1/2 Kbar N^1/2), "
              "exactly at zero within-cluster variance", "7", "limit", "cluster-level spectrum"),
        Claim("E2", "Nonlinear nets: lambda(phi_A) / lambda(phi_C) increases with rho "
              "for every salience beta/alpha", "7", "empirical", "lambda(phi_A)/lambda(phi_C) up in rho"),
        Claim("E3", "After training (training margins = gamma), the aligned-minus-conflicting test-margin gap "
              "grows with rho and, for rho > 1/2, with variance below the gap's peak; within seed noise at rho = 1/2",
              "7, 9", "empirical",
              "aligned-conflicting margin gap grows"),
        Claim("E4", "Linearized (NTK) predictions track the trained network, closer as width grows", "7", "limit",
              "trained net -> NTK regression"),
        Claim("P1", "Parity: the odd part of the depth-1 bias-free ReLU NTK is exactly x.x'/(2d); with depth >= 2 "
              "or b_std > 0 it is not linear", "9", "exact", "bias-free ReLU odd part = linear/2"),
        Claim("I1", "Identity (not evidence): kernel least squares is linear in its targets, so targets gamma y "
              "scale every output by gamma, for any kernel", "9", "identity", "gamma-invariance (identity)"),
        Claim("M1", "Under every margin-controlling method (squared loss to gamma y, hard-margin SVM with the NTK, long "
              "logistic, importance weighting, LDAM, logit adjustment, group DRO), the aligned-minus-conflicting test-"
              "margin gap over the mean training margin grows with rho and is within seed noise at rho = 1/2; the "
              "multiplicative VS loss is the exception: its limit removes the bias weight at a data-dependent "
              "gamma* and reverses it above", "9", "empirical", "every margin method keeps the gap"),
        Claim("M2", "Reweighting contrast: weights 1/pi_g give w_bias = 0 exactly in the population; in interpolation "
              "the weighted and unweighted GD limits coincide (row space), so only early stopping keeps the effect; "
              "on separable data an additive logit adjustment's effect vanishes with t, the multiplicative VS one's "
              "does not", "9", "exact", "reweighting: population yes, interpolation no"),
        Claim("D1", "General model (several aligned and conflicting clusters per class, per-cluster weights and "
              "variances): M = A + S I with S = sum_c pi_c sigma_c^2, so the spectrum depends on the variances only "
              "through S; L2, S1, S2, N1 carry over with p_eff = sum_c pi_c y_c b_c", "9", "exact",
              "variances enter only through S"),
        Claim("D3", "Per-cluster ridge: the min-norm interpolant's cluster outputs are G (G + diag(d sigma_c^2 / n_c))^-1 "
              "gamma y up to O(sqrt(n/d)); a cluster's count times c acts like its variance over c", "9", "limit",
              "count x c = variance / c"),
    )
}


def claim(claim_id: str) -> Claim:
    """The registered claim with this id; ValueError naming the known ids otherwise."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise ValueError(f"claim_id must be one of {sorted(CLAIMS)}, got {claim_id!r}") from None
