"""The installed pytest plugin (numerics/pytest_plugin.py, entry point pytest11) in a project outside
this repository: the claim marker with a built-in and a user-registered id, the ledger and
--claims-json, and a clear error for an unregistered id."""
import json
from pathlib import Path

import pytest

USER_TESTS = '''
import pytest
from hypothesis import given, strategies as st


@pytest.mark.claim("L2")
@given(x=st.integers(0, 10))
def test_uses_a_built_in_claim(x):
    assert x >= 0


@pytest.mark.claim("MY1")
def test_uses_a_claim_of_the_project():
    assert True
'''


def test_a_project_outside_the_repository_gets_marker_profiles_and_ledger(pytester):
    pytester.makeini("[pytest]\nclaims = MY1\n")
    pytester.makepyfile(test_user=USER_TESTS)
    ledger = pytester.path / "ledger.json"
    result = pytester.runpytest_subprocess("--claims-json", str(ledger))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*claims ledger*", "L2 *1 *0 *0 *11 *", "MY1 *1 *0 *0 *1 *registered by this project*"])
    document = json.loads(ledger.read_text())
    assert document["L2"]["examples"] == 11 and document["MY1"]["passed"] == 1      # ci profile: 0..10 exhausted


def test_an_unregistered_claim_id_is_a_usage_error(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*claim marker needs one of*register a project's own ids*got ('MY1',)*"])


SCALED_TESTS = '''
from hypothesis import given, settings, strategies as st

from numerics.pytest_plugin import examples

SEEN = []


@settings(max_examples=examples(3))
@given(x=st.integers(0, 10**9))
def test_counts(x):
    SEEN.append(x)


def test_report():
    print("EXAMPLES", len(SEEN))
'''


@pytest.mark.parametrize("profile, count", [("ci", 3), ("dev", 6), ("thorough", 48)])
def test_a_property_with_its_own_count_is_searched_deeper_by_deeper_profiles(pytester, monkeypatch, profile, count):
    """An explicit ``@settings(max_examples=3)`` overrides any profile, so the thorough profile (400
    examples) would run such a property 3 times; through ``examples`` it runs 3 x 400 / 25 = 48."""
    monkeypatch.setenv("SHORTCUT_NTK_PROFILE", profile)
    pytester.makepyfile(test_user=SCALED_TESTS)
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*EXAMPLES {count}*"])


def test_every_property_count_in_this_suite_goes_through_examples():
    """A literal ``max_examples=N`` in tests/ would be fixed at N under every profile."""
    literal = [f"{path.name}:{number}" for path in sorted(Path(__file__).parent.glob("*.py"))
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if "max_examples=" in line and "max_examples=examples(" not in line and path.name != Path(__file__).name]
    assert not literal, literal
