"""The installed pytest plugin (numerics/pytest_plugin.py, entry point pytest11) in a project outside
this repository: the claim marker with a built-in and a user-registered id, the ledger and
--claims-json, and a clear error for an unregistered id."""
import json

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
