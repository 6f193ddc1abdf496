"""One BLAS / OpenMP / torch thread, for reproducible and contention-free runs.

Thread count changes the order of floating-point reductions (so the last bits of results), and
on a busy 2-core machine two threads made small problems 10-20x slower (measured on the ReLU
experiments: an E2 test module took 138 s instead of 7 s). Tests and the report run inside it.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


@contextmanager
def one_thread():
    """Limit numpy's BLAS, OpenMP and torch to one thread inside the block, restoring them after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)
