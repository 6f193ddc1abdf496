"""The pass rules themselves (numerics/checks.py): their semantics, that every claim has rules, that the
tests and the report both use them, that neither holds a bare float threshold, and that one tolerance
drives both a test's pass and the report's verdict."""
import ast
from fractions import Fraction
from pathlib import Path

import pytest

from numerics import checks
from numerics import tolerances as tol
from numerics.experiments.linear import residual_decay
from numerics.report import linear as linear_report
from numerics.report.rows import Context
from numerics.report.run import entries
from theory import GMM
from theory.claims import CLAIMS

ROOT = Path(__file__).resolve().parents[1]


def _sources(folder: str) -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text()) for p in sorted((ROOT / folder).glob("*.py"))}


def _called_rules(folder: str) -> set[str]:
    """Names of numerics.checks functions used in a folder: ``checks.rule`` (called or passed, as in
    ``map(checks.rule, ...)``) or a name imported from numerics.checks."""
    names = set()
    for tree in _sources(folder).values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "checks":
                names.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "numerics.checks":
                names.update(alias.name for alias in node.names)
    return names


def test_check_has_no_truth_value():
    """A Check must be asserted through .ok: `assert check` would pass on a failing check."""
    with pytest.raises(TypeError, match="assert check.ok"):
        bool(checks.at_most("x", 2, 1))


def test_primitive_rules_pass_and_fail_where_they_should():
    assert checks.at_most("e", 1, 1).ok and not checks.at_most("e", 1.5, 1).ok
    assert checks.at_least("v", 2, 1).worst == -1 and not checks.at_least("v", 0.5, 1).ok
    assert checks.monotone("m", [1, 2, 3], +1).ok and not checks.monotone("m", [1, 2, 2], +1).ok
    assert checks.monotone("m", [3, 1], -1).worst < 0 < checks.monotone("m", [1, 3], -1).worst
    rhos = [Fraction(1, 2), Fraction(7, 10), Fraction(9, 10)]
    assert checks.pairwise_trend("p", rhos, [1, 0, 2], +1, apart=Fraction(2, 5)).ok     # only 0.5 -> 0.9 counts
    assert not checks.pairwise_trend("p", rhos, [1, 0, 2], +1, apart=Fraction(1, 5)).ok
    assert checks.pairwise_trend("p", rhos, [1, 1, 0], -1, apart=0, strict=False).ok
    with pytest.raises(ValueError, match="no pair"):
        checks.pairwise_trend("p", rhos, [1, 2, 3], +1, apart=1)
    both = checks.all_of(checks.at_most("a", 1, 2), checks.at_most("b", 3, 2))
    assert not both.ok and both.worst == 3 and both.detail.startswith("FAILED b")


def test_every_claim_has_rules_and_tests_and_report_call_them():
    """RULES covers every registered claim id; every rule of a claim is called by some test, and every
    claim with a report row is judged there by at least one of its rules."""
    assert set(checks.RULES) == set(CLAIMS)
    in_tests, in_report = _called_rules("tests"), _called_rules("numerics/report")
    report_claims = {claim for claim, _, _ in entries()}
    for claim, rules in checks.RULES.items():
        assert rules, claim
        for rule in rules:
            assert callable(rule) and getattr(checks, rule.__name__) is rule
            assert rule.__name__ in in_tests, f"{claim}: rule {rule.__name__} is called by no test"
        if claim in report_claims:
            assert any(rule.__name__ in in_report for rule in rules), f"{claim}: no rule judges its report row"


def _float_literals(node) -> list[float]:
    """Float constants (other than 0 and 1) in an expression, outside the arguments of calls (a literal
    passed to a function is data, e.g. rho = 0.9; a literal compared against is a threshold)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, float) and node.value not in (0.0, 1.0) else []
    if isinstance(node, ast.Call):
        return _float_literals(node.func)
    return [value for child in ast.iter_child_nodes(node) for value in _float_literals(child)]


_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@pytest.mark.parametrize("folder", ["tests", "numerics/report"])
def test_no_bare_float_threshold_in_tests_or_report(folder):
    """Every threshold is a named tolerance (numerics/tolerances.py, with its derivation): no ordering
    comparison (<, <=, >, >=) against a float literal, and no float literal as a rel/abs/rtol/atol/tol
    allowance."""
    offending = []
    for path, tree in _sources(folder).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, _ORDER) for op in node.ops) \
                    and _float_literals(node):
                offending.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.keyword) and node.arg in ("rel", "abs", "rtol", "atol", "tol") \
                    and _float_literals(node.value):
                offending.append(f"{path.name}:{node.value.lineno}: {ast.unparse(node)}")
    assert not offending, "\n".join(offending)


@pytest.mark.claim("T1")
def test_one_tolerance_drives_the_test_rule_and_the_report_verdict(monkeypatch):
    """Tightening RESIDUAL_LAW below any float64 rounding error (eps^2) flips both the rule a test asserts
    and the report's T1 verdict: the two read the same constant through the same rule."""
    gmm = GMM.canonical(1, Fraction(13, 10), Fraction(9, 10), Fraction(1, 4), dim=3)
    decay = residual_decay(gmm, 24, seed=0, steps=50, eta_fraction=0.1)
    assert checks.residual_law(decay).ok and linear_report.t1(Context()).verdict == "holds"
    monkeypatch.setattr(tol, "RESIDUAL_LAW", tol.EPS * tol.EPS)
    assert not checks.residual_law(decay).ok
    assert linear_report.t1(Context()).verdict == "fails"
