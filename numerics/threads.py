"""The one thread limiter: one BLAS / OpenMP / torch thread, for reproducible and contention-free runs.

Thread count changes the order of floating-point reductions (so the last bits of results), and
on a busy 2-core machine two threads made small problems 10-20x slower (measured on the ReLU
experiments: an E2 test module took 138 s instead of 7 s; in the eigensolver, alternating torch's
OpenMP pool and numpy's OpenBLAS pool on many small products took n = 600, top-3 from 0.1 s to
10-16 s). Tests, the report, the benchmarks and the eigensolver's own thin linear algebra run
inside it. The threadpoolctl controller is built once (inspecting the loaded libraries costs
milliseconds; entering a limit with it costs microseconds).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

import torch
from threadpoolctl import ThreadpoolController


@functools.cache
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


@contextmanager
def one_thread():
    """Limit numpy's BLAS, OpenMP and torch to one thread inside the block, restoring them after."""
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        with _thread_pools().limit(limits=1):
            yield
    finally:
        if threads != 1:
            torch.set_num_threads(threads)
