"""Benchmarks run with one BLAS/torch thread (numerics/threads.py): the issues' baselines were
measured that way, and a second thread on a busy 2-core machine made timings erratic."""
import pytest

from numerics.threads import one_thread


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    with one_thread():
        yield
