"""The clock that times work on a torch device: the benchmarks' timer, the floor's and the Gram profile's.

On the CPU it is ``time.process_time``: CPU seconds of this process, so that other jobs on a shared
machine do not enter the times (the benchmarks run one thread, numerics/threads.py).  On CUDA the host
only queues kernels, which run asynchronously, so the process's CPU time says nothing about the GPU's;
there the clock is wall time (``time.perf_counter``) read after ``torch.cuda.synchronize()``, so that a
reading comes after every kernel queued before it.  A pair of readings then brackets exactly the GPU
work queued between them (plus one synchronisation, microseconds).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch


def cuda_seconds() -> float:
    """Wall seconds (``time.perf_counter``) after waiting for every kernel queued on the current CUDA device."""
    torch.cuda.synchronize()
    return time.perf_counter()


def device_clock(device: torch.device | str) -> Callable[[], float]:
    """The clock for work on ``device``: ``time.process_time`` on "cpu", ``cuda_seconds`` on "cuda"
    (module docstring); a ValueError for any other device type."""
    kind = torch.device(device).type
    if kind == "cpu":
        return time.process_time
    if kind == "cuda":
        return cuda_seconds
    raise ValueError(f"device_clock: a cpu or cuda device, got {device!r}")
