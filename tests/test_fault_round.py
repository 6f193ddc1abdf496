"""scripts/fault_round.py stays applicable: every fault passes the round's own ``why_not_applicable`` on
the checkout (its original text occurs exactly once in its file, its faulty text differs, the tests it
names exist); else the round reports it NOT APPLIED and measures nothing, as the S3 ridge fault did once
the ridge formula moved into one helper.  Reads files only; the round itself (slow) is run by hand."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("fault_round", ROOT / "scripts" / "fault_round.py")
fault_round = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fault_round)


@pytest.mark.parametrize("name, path, old, new, tests", fault_round.FAULTS, ids=[f[0] for f in fault_round.FAULTS])
def test_every_fault_applies_to_the_code_as_it_is(name, path, old, new, tests):
    reason = fault_round.why_not_applicable(ROOT, path, old, new, tests)
    assert reason is None, f"{name}: {reason}"
