"""scripts/fault_round.py stays applicable: every fault's original text occurs exactly once in its file
(else the round reports it NOT APPLIED and measures nothing: the S3 ridge fault went stale that way when
the ridge formula moved into one helper), its faulty text differs, and the tests it names exist.
Reads files only; the round itself (slow) is run by hand."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("fault_round", ROOT / "scripts" / "fault_round.py")
fault_round = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fault_round)


@pytest.mark.parametrize("name, path, old, new, tests", fault_round.FAULTS, ids=[f[0] for f in fault_round.FAULTS])
def test_every_fault_applies_to_the_code_as_it_is(name, path, old, new, tests):
    text = (ROOT / path).read_text()
    assert text.count(old) == 1, f"{name}: the original text occurs {text.count(old)} times in {path}"
    assert old != new, f"{name}: the fault changes nothing"
    assert tests and all((ROOT / test).is_file() for test in tests), f"{name}: missing test files {tests}"
