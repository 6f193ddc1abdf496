"""Benchmarks run with one BLAS/torch thread (numerics/threads.py): the issues' baselines were
measured that way, and a second thread on a busy 2-core machine made timings erratic.  The JSON of a
run carries ``machine_floor`` (numerics/floor.py): the machine's reference GEMM rate and read bandwidth,
measured in the same run, which ``shortcut-ntk bench`` prints and compares."""
import pytest

from numerics.floor import machine_floor
from numerics.threads import one_thread


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    with one_thread():
        yield


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["machine_floor"] = machine_floor()
