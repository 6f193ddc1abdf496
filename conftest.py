"""Root pytest configuration: Hypothesis profiles, the claim marker and the claims ledger.

Profiles (choose with SHORTCUT_NTK_PROFILE; the default, used by .ci/run, is ``ci``):
  ci        derandomized, no deadline, bounded examples: the same run every time;
  dev       random seeds, the default number of examples;
  thorough  many more examples, for a search before a release.
Every test names the claim it checks with ``@pytest.mark.claim("L2")``; at the end of a run
the ledger prints, per claim, tests passed/failed and Hypothesis examples run, and
``--claims-json PATH`` writes the same ledger as JSON.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict

import pytest
import torch
from hypothesis import HealthCheck, register_random, settings
from hypothesis.statistics import collector

from numerics.threads import one_thread
from theory.claims import CLAIMS

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=50,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=400,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("SHORTCUT_NTK_PROFILE", "ci"))


class _TorchGlobalRandom:
    """torch's global RNG, Random-like, so that Hypothesis seeds it per example and restores it
    after (as it does for ``random`` and ``numpy.random``). The library never reads it (every
    draw takes a seed or a Generator; tests/test_determinism.py); only torch.nn layers built by
    tests do."""

    seed = staticmethod(torch.manual_seed)
    getstate = staticmethod(torch.get_rng_state)
    setstate = staticmethod(torch.set_rng_state)


TORCH_GLOBAL_RANDOM = _TorchGlobalRandom()      # module-level: Hypothesis keeps only a weakref
register_random(TORCH_GLOBAL_RANDOM)

_LEDGER = pytest.StashKey[dict]()
_EXAMPLES = pytest.StashKey[int]()


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Every test runs with one BLAS/torch thread (numerics/threads.py: reproducible reductions,
    no contention on 2 cores)."""
    with one_thread():
        yield


def pytest_addoption(parser):
    parser.addoption("--claims-json", metavar="PATH", default=None,
                     help="write the claims ledger (per claim: tests passed/failed, examples) as JSON")


def pytest_configure(config):
    config.stash[_LEDGER] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0, "examples": 0,
                                                 "tests": []})


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker in item.iter_markers("claim"):
            if not marker.args or marker.args[0] not in CLAIMS:
                raise pytest.UsageError(f"{item.nodeid}: claim marker needs one of {sorted(CLAIMS)}, "
                                        f"got {marker.args}")


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
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" and not (report.when == "setup" and report.skipped):
        return
    ledger = item.config.stash[_LEDGER]
    examples = item.stash.get(_EXAMPLES, 1)              # a plain test counts as one example
    for marker in item.iter_markers("claim"):
        row = ledger[marker.args[0]]
        row["passed" if report.passed else "skipped" if report.skipped else "failed"] += 1
        row["examples"] += examples if report.passed else 0
        row["tests"].append(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ledger = config.stash[_LEDGER]
    if not ledger:
        return
    terminalreporter.section("claims ledger")
    terminalreporter.write_line(f"{'claim':6} {'passed':>6} {'failed':>6} {'skipped':>7} {'examples':>8}  statement")
    for claim_id in CLAIMS:
        if claim_id in ledger:
            row = ledger[claim_id]
            terminalreporter.write_line(
                f"{claim_id:6} {row['passed']:6d} {row['failed']:6d} {row['skipped']:7d} {row['examples']:8d}  "
                f"{CLAIMS[claim_id].statement[:70]}")
    path = config.getoption("--claims-json")
    if path:
        with open(path, "w") as fh:
            json.dump({k: dict(v) for k, v in ledger.items()}, fh, indent=2, sort_keys=True)
        terminalreporter.write_line(f"claims ledger written to {path}")
