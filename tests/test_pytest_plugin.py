"""The installed pytest plugin (numerics/pytest_plugin.py, entry point pytest11) in a project outside
this repository: the claim marker with a built-in and a user-registered id, the ledger and
--claims-json, and a clear error for an unregistered id."""
import json
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from numerics.pytest_plugin import PROJECT_PACKAGES, project_modules, slow_property

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
    result = pytester.runpytest_inprocess("--claims-json", str(ledger))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*claims ledger*", "L2 *1 *0 *0 *11 *", "MY1 *1 *0 *0 *1 *registered by this project*"])
    document = json.loads(ledger.read_text())
    assert document["L2"]["examples"] == 11 and document["MY1"]["passed"] == 1      # ci profile: 0..10 exhausted


def test_an_unregistered_claim_id_is_a_usage_error(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*claim marker needs one of*register a project's own ids*got ('MY1',)*"])


SCALED_TESTS = '''
from hypothesis import example, given, settings, strategies as st

from numerics.pytest_plugin import examples, slow_property

SEEN, SLOW, PINNED, PINNED_SLOW = [], [], [], []


@settings(max_examples=examples(3))
@given(x=st.integers(0, 10**9))
def test_counts(x):
    SEEN.append(x)


@slow_property(3, ci=1)
@given(x=st.integers(0, 10**9))
@example(x=-1)
def test_slow(x):
    SLOW.append(x)


@slow_property(2, ci=0)
@given(x=st.integers(0, 10**9))
@example(x=-1)
def test_pinned(x):
    PINNED.append(x)


@slow_property(2, ci=0)
@given(x=st.integers(0, 10**9))
def test_pinned_without_a_pin(x):
    PINNED_SLOW.append(x)


def test_report():
    print("EXAMPLES", len(SEEN), len(SLOW), len(PINNED), len(PINNED_SLOW))
'''


# The ci profile is this run's own (the plugin reads SHORTCUT_NTK_PROFILE once, at import): in process. Any other
# profile needs a fresh interpreter; thorough is the one whose depth matters (dev scales by the same rule, 2n).
@pytest.mark.parametrize("profile, counts", [("ci", "3 2 1 0"), ("thorough", "48 49 33 32")])
def test_a_property_with_its_own_count_is_searched_deeper_by_deeper_profiles(pytester, monkeypatch, profile, counts):
    """An explicit ``@settings(max_examples=3)`` overrides any profile, so the thorough profile (400
    examples) would run such a property 3 times; through ``examples`` it runs 3 x 400 / 25 = 48. A
    ``slow_property(n, ci=k)`` runs its @example draws and k generated ones under ci (k = 0 and no pin: skipped,
    not passed), and examples(n) generated ones (plus its pins) under thorough."""
    pytester.makepyfile(test_user=SCALED_TESTS)
    if profile == "ci":
        result = pytester.runpytest_inprocess("-s")
    else:
        monkeypatch.setenv("SHORTCUT_NTK_PROFILE", profile)
        result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=4 if profile == "ci" else 5, skipped=1 if profile == "ci" else 0)
    result.stdout.fnmatch_lines([f"*EXAMPLES {counts}*"])


def test_a_slow_property_count_outside_its_range_is_refused():
    for n, ci in ((3, 4), (3, -1)):
        with pytest.raises(ValueError, match=rf"^ci must lie in \[0, n = {n}\], got {ci}$"):
            slow_property(n, ci=ci)


def test_every_property_count_in_this_suite_goes_through_examples():
    """A literal ``max_examples=N`` in tests/ would be fixed at N under every profile."""
    literal = [f"{path.name}:{number}" for path in sorted(Path(__file__).parent.glob("*.py"))
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if "max_examples=" in line and "max_examples=examples(" not in line and path.name != Path(__file__).name]
    assert not literal, literal


def test_torch_global_rng_is_seeded_per_example_and_restored_after():
    """The plugin registers torch's global RNG with Hypothesis (importing torch only at the first example): a
    property's torch draws do not depend on the state before it, and that state is back after it."""
    drawn = []

    @settings(max_examples=3, derandomize=True, database=None)
    @given(st.integers())
    def draw(_):
        drawn.append(torch.rand(1).item())

    runs = []
    for global_seed in (123, 456):
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        drawn.clear()
        draw()
        assert torch.equal(torch.get_rng_state(), before)
        runs.append(list(drawn))
    assert runs[0] == runs[1]


def test_every_project_module_is_loaded_before_the_first_test(request):
    """Hypothesis draws literal constants from a pool mined from the local modules in sys.modules, so the
    plugin imports every module of numerics and theory before the first test (a session fixture): the pool,
    and with it every derandomized property's examples, is then the same for any selection of tests and any
    xdist worker.  Its list is the source tree's, and each module is loaded."""
    root = Path(numerics.__file__).parent.parent
    files = {".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
             for package in PROJECT_PACKAGES for path in (root / package).rglob("*.py")}
    assert set(project_modules()) == files
    assert "_project_modules_loaded" in request.fixturenames
    assert files <= set(sys.modules)
