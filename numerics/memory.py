"""Peak memory of a block of code, for the benchmarks' memory figures (issue 17: "memory under 8 GB").

On the CPU (``PeakRSS``) the process's resident memory; on CUDA (``PeakCudaMemory``) the memory torch
allocated on the device.  ``peak_memory(device)`` picks the one for a device; both give ``bytes``,
``gb`` and ``mb`` of the rise at the block's highest point over its start.

``PeakRSS`` measures how far the process's resident set size (RSS) rose above its size at entry, at its
highest point inside the block: Linux's high-water mark VmHWM (/proc/self/status), reset to the current
RSS on entry by writing 5 to /proc/self/clear_refs (Linux >= 4.0), and read on exit.  glibc's malloc_trim
runs first, so memory freed by earlier work and still held by the allocator does not count as resident.

Why the kernel's mark and not a sampler: a thread polling the RSS misses peaks shorter than its period,
and it runs in the measured process, whose CPU time is the benchmarks' timer (the 2 ms sampler this
replaces added 1.8-7.5% to a 1.8 s one-thread GEMM loop and 6-16% (two pairs) to the 0.5 s structured
ResNet-18 Gram at n = 64, one thread, 2026-12-03).  No library offers a resettable peak (getrusage's ru_maxrss is the
lifetime peak; tracemalloc sees Python allocations only, not torch's or numpy's native buffers).
"""
from __future__ import annotations

import ctypes

import torch

KIB = 1024


def status_kib(field: str) -> int:
    """A memory field of /proc/self/status in KiB: "VmRSS" (resident now) or "VmHWM" (the high-water mark)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise ValueError(f"/proc/self/status has no field {field!r}")


class PeakMeter:
    """What the meters share: ``bytes`` of the rise measured over the block, in GiB (``gb``) and MiB (``mb``)."""

    bytes = 0

    @property
    def gb(self) -> float:
        return self.bytes / 2**30

    @property
    def mb(self) -> float:
        return self.bytes / 2**20


class PeakRSS(PeakMeter):
    """``with PeakRSS() as peak: work()`` then ``peak.bytes`` (and ``peak.gb``, ``peak.mb``): the highest
    resident set size inside the block minus the one at entry, >= 0 (module docstring).  Linux only:
    OSError where /proc/self/clear_refs cannot be written."""

    def __enter__(self) -> PeakRSS:
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):   # not glibc: nothing to return to the system
            pass
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        self._start = status_kib("VmRSS")
        self.bytes = 0
        return self

    def __exit__(self, *exc) -> None:
        self.bytes = max(status_kib("VmHWM") - self._start, 0) * KIB


class PeakCudaMemory(PeakMeter):
    """``with PeakCudaMemory(device) as peak: work()`` then ``peak.bytes``: the most memory torch's CUDA
    allocator held allocated for tensors on ``device`` inside the block (torch.cuda.max_memory_allocated,
    its peak statistic reset on entry) minus what was allocated at entry, >= 0.  Memory the allocator
    keeps cached but no tensor uses does not count, as freed memory does not count in ``PeakRSS``."""

    def __init__(self, device: torch.device | str = "cuda"):
        self.device = torch.device(device)

    def __enter__(self) -> PeakCudaMemory:
        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self._start = torch.cuda.memory_allocated(self.device)
        self.bytes = 0
        return self

    def __exit__(self, *exc) -> None:
        torch.cuda.synchronize(self.device)
        self.bytes = max(torch.cuda.max_memory_allocated(self.device) - self._start, 0)


def peak_memory(device: torch.device | str = "cpu") -> PeakMeter:
    """The peak-memory meter for work on ``device``: ``PeakRSS()`` on "cpu", ``PeakCudaMemory(device)`` on
    "cuda"; a ValueError for any other device type."""
    kind = torch.device(device).type
    if kind == "cpu":
        return PeakRSS()
    if kind == "cuda":
        return PeakCudaMemory(device)
    raise ValueError(f"peak_memory: a cpu or cuda device, got {device!r}")
