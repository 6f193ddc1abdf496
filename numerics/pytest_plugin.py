"""The shortcut-ntk pytest plugin (entry point ``pytest11``: installing the package loads it in any project).

It gives a test suite:
  * the ``claim`` marker: ``@pytest.mark.claim("L2")`` names the claim a test checks. Ids are those of
    theory.claims.CLAIMS plus a project's own, registered in its ini file::

        [pytest]                      # or [tool.pytest.ini_options] in pyproject.toml
        claims = MY1 MY2

    A marker naming an unregistered id is a usage error (a typo must not silently drop a test from the
    ledger).
  * the Hypothesis profiles, chosen with SHORTCUT_NTK_PROFILE (default ``ci``):
      ci        derandomized, no deadline, 25 examples per property: the same run every time;
      dev       random seeds, 50 examples;
      thorough  400 examples, for a search before a release (``-n auto`` with pytest-xdist spreads it);
      faults    ci without shrinking: a fault-injection run wants "caught or not", not a minimal example.
    A property with its own count writes ``@settings(max_examples=examples(n))``: n under ci, 16n under
    thorough (an explicit count overrides the profile's). A slow one writes ``@slow_property(n, ci=k)``:
    k draws (0: its @example draws only) in the budgeted default run, examples(n) under dev and thorough;
    ``THOROUGH`` is true under thorough, for a property that runs only there.
  * the claims ledger: at the end of a run, per claim, tests passed/failed/skipped and Hypothesis
    examples run; ``--claims-json PATH`` writes it as JSON. The ledger is built from the test reports
    on the controlling process, so a pytest-xdist run (``-n 2``) gives the same ledger as a serial one.
  * torch's global RNG registered with Hypothesis (seeded per example, restored after), and every test
    run with one BLAS/torch thread (numerics.threads: reproducible reductions, no contention).
  * every module of numerics and theory imported before the first test (``PROJECT_PACKAGES``): Hypothesis
    also draws literal constants it mines from the source of the local modules in ``sys.modules``, so
    without this a derandomized property's examples would depend on which modules the tests run before
    it had imported -- on the test selection, and under pytest-xdist on which tests a worker ran first.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, Phase, register_random, settings
from hypothesis.statistics import collector

from theory.claims import CLAIMS

#: the ci profile's example count, the unit of ``examples``
CI_EXAMPLES = 25
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=CI_EXAMPLES, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=50,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=400,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("faults", parent=settings.get_profile("ci"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile(os.environ.get("SHORTCUT_NTK_PROFILE", "ci"))


def examples(n: int) -> int:
    """A property's example count under the loaded profile: n times the profile's default count over the
    ci profile's, i.e. n under ci and faults, 2n under dev, 16n under thorough.  A count given in
    ``@settings(max_examples=...)`` overrides the profile's, so a property that sets its own (a slow one,
    with a small n) passes it through this function, or the thorough profile would not search it deeper."""
    return max(1, round(n * settings.default.max_examples / CI_EXAMPLES))


#: the loaded profile is thorough (more than dev's 50 examples): a property too slow even for dev runs only then,
#: ``@pytest.mark.skipif(not THOROUGH, reason=...)``
THOROUGH = settings.default.max_examples > 50


def slow_property(n: int, *, ci: int, phases=None) -> settings:
    """The settings of a property whose examples cost seconds each: under the ci and faults profiles (the
    default test run, budgeted at 4 minutes on 2 cores) its @example draws and its first ``ci`` generated
    ones (``ci = 0``: the @example draws only); under dev and thorough ``examples(n)``, as any property, so
    the deeper search keeps its depth.  ``phases`` defaults to the profile's (faults: no shrinking)."""
    if ci < 0 or ci > n:
        raise ValueError(f"ci must lie in [0, n = {n}], got {ci}")
    phases = tuple(settings.default.phases if phases is None else phases)
    if settings.default.max_examples > CI_EXAMPLES:
        return settings(max_examples=examples(n), phases=phases)
    if ci == 0:
        return settings(max_examples=1, phases=[phase for phase in phases if phase is Phase.explicit])
    return settings(max_examples=ci, phases=phases)


class _TorchGlobalRandom:
    """torch's global RNG, Random-like, so that Hypothesis seeds it per example and restores it
    after (as it does for ``random`` and ``numpy.random``). The library never reads it (every
    draw takes a seed or a Generator; tests/test_determinism.py); only torch.nn layers built by
    tests do. torch is imported at the first example, not with the plugin: pytest's controlling
    process (and a project without torch tests) never pays its import."""

    @staticmethod
    def seed(seed):
        import torch
        torch.manual_seed(seed)

    @staticmethod
    def getstate():
        import torch
        return torch.get_rng_state()

    @staticmethod
    def setstate(state):
        import torch
        torch.set_rng_state(state)


TORCH_GLOBAL_RANDOM = _TorchGlobalRandom()      # module-level: Hypothesis keeps only a weakref
register_random(TORCH_GLOBAL_RANDOM)

_LEDGER = pytest.StashKey[dict]()
_KNOWN = pytest.StashKey[frozenset]()
_EXAMPLES = pytest.StashKey[int]()
_CLAIMS_PROPERTY = "shortcut_ntk_claims"


#: the packages whose every module is imported before the first test (``_project_modules_loaded``)
PROJECT_PACKAGES = ("numerics", "theory")


def project_modules() -> list[str]:
    """The names of every module of PROJECT_PACKAGES, packages included (pkgutil.walk_packages)."""
    names = []
    for package in PROJECT_PACKAGES:
        path = importlib.import_module(package).__path__
        names += [package, *(info.name for info in pkgutil.walk_packages(path, f"{package}."))]
    return sorted(names)


@pytest.fixture(autouse=True, scope="session")
def _project_modules_loaded():
    """Import every module of numerics and theory before the first test.  Hypothesis (6.170 here) draws a
    literal constant instead of a generated value with probability 1/20 per draw, from a pool mined from the
    source of every local module in ``sys.modules`` (hypothesis.internal.conjecture.providers; test files
    excluded), and grows the pool whenever a new module appears.  So the examples of a derandomized property
    depended on which of our modules were loaded when it ran: ``pytest tests/test_eigen.py`` passed, while
    ``pytest tests/test_eigen.py tests/test_l3_finite_sample.py`` drew other spectra for
    test_lobpcg_below_rank_3k_is_right_or_raises and failed Hypothesis' filter health check (8 valid inputs,
    50 filtered); in the default run numerics.report.show and numerics.report.table were first imported by
    whichever worker ran a command-line test.  With every module loaded first, the pool is the same for any
    selection, order and worker (its constants are a set: import order does not matter)."""
    for name in project_modules():
        importlib.import_module(name)
    yield


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Every test runs with one BLAS/torch thread (numerics/threads.py, imported here: it imports torch)."""
    from numerics.threads import one_thread
    with one_thread():
        yield


def pytest_addoption(parser):
    parser.addoption("--claims-json", metavar="PATH", default=None,
                     help="write the claims ledger (per claim: tests passed/failed, examples) as JSON")
    parser.addini("claims", type="args", default=[],
                  help="claim ids of this project, allowed in @pytest.mark.claim beside shortcut-ntk's own")


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id): the claim a test checks (shortcut-ntk's or the ini's `claims`); "
                            "feeds the claims ledger")
    config.stash[_KNOWN] = frozenset(CLAIMS) | frozenset(config.getini("claims"))
    config.stash[_LEDGER] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0, "examples": 0,
                                                 "tests": []})
    config.pluginmanager.register(_LedgerRecorder(config.stash[_LEDGER]), "shortcut-ntk-ledger")


def pytest_collection_modifyitems(config, items):
    known = config.stash[_KNOWN]
    for item in items:
        for marker in item.iter_markers("claim"):
            if len(marker.args) != 1 or marker.args[0] not in known:
                raise pytest.UsageError(f"{item.nodeid}: claim marker needs one of {sorted(known)} (register a "
                                        f"project's own ids with the ini option `claims`), got {marker.args}")


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):
    """Count the valid examples Hypothesis ran, from its raw run statistics (inside the
    hypothesis plugin's own collector, which it still receives)."""
    outer = collector.value

    def record(stats):
        item.stash[_EXAMPLES] = sum(case.get("status") == "valid" for phase in stats.values()
                                    if isinstance(phase, dict) for case in phase.get("test-cases", ()))
        if outer is not None:
            outer(stats)

    with collector.with_value(record):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach (claim ids, examples) to the report, so the ledger can be built wherever reports arrive
    (this process, or the controller of a pytest-xdist run)."""
    outcome = yield
    report = outcome.get_result()
    claims = [marker.args[0] for marker in item.iter_markers("claim")]
    if claims:
        report.user_properties.append((_CLAIMS_PROPERTY, (claims, item.stash.get(_EXAMPLES, 1))))


class _LedgerRecorder:
    """Builds the ledger from test reports (registered per session; runs where reports arrive)."""

    def __init__(self, ledger: dict):
        self.ledger = ledger

    def pytest_runtest_logreport(self, report):
        if report.when != "call" and not (report.when == "setup" and report.skipped):
            return
        entry = dict(report.user_properties).get(_CLAIMS_PROPERTY)
        if entry is None:
            return
        claims, examples = entry              # a plain test counts as one example
        for claim in claims:
            row = self.ledger[claim]
            row["passed" if report.passed else "skipped" if report.skipped else "failed"] += 1
            row["examples"] += examples if report.passed else 0
            row["tests"].append(report.nodeid)


def ledger_document(config) -> dict:
    """The ledger as plain data, tests sorted (xdist delivers reports in completion order)."""
    return {claim: {**row, "tests": sorted(row["tests"])} for claim, row in sorted(config.stash[_LEDGER].items())}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ledger = ledger_document(config)
    if not ledger:
        return
    terminalreporter.section("claims ledger")
    terminalreporter.write_line(f"{'claim':6} {'passed':>6} {'failed':>6} {'skipped':>7} {'examples':>8}  statement")
    order = list(CLAIMS) + sorted(set(ledger) - set(CLAIMS))
    for claim_id in order:
        if claim_id in ledger:
            row = ledger[claim_id]
            statement = CLAIMS[claim_id].statement[:70] if claim_id in CLAIMS else "(registered by this project)"
            terminalreporter.write_line(f"{claim_id:6} {row['passed']:6d} {row['failed']:6d} {row['skipped']:7d} "
                                        f"{row['examples']:8d}  {statement}")
    path = config.getoption("--claims-json")
    if path:
        with open(path, "w") as fh:
            json.dump(ledger, fh, indent=2, sort_keys=True)
        terminalreporter.write_line(f"claims ledger written to {path}")
