"""numerics/memory.py: the peak resident memory of a block, against buffers of known size.

The expected peak of a block that writes a buffer of b bytes is b (each byte resident once), up to whole
pages and the interpreter's own allocations and releases (numerics.tolerances.PEAK_RSS_SLACK_BYTES); a block that
writes nothing adds 0, whatever the process held or touched before it. The buffer is freed inside the
block, before the exit reads the peak: a measure of the RSS at exit, or a sampler that missed it, reads 0.
The CUDA meter runs against scripted allocator statistics (no GPU here).
"""
import numpy as np
import pytest
import torch

from numerics.memory import PeakCudaMemory, PeakRSS, peak_memory, status_kib
from numerics.tolerances import PEAK_RSS_SLACK_BYTES

SIZE = 64 * 2**20


def touched(nbytes: int) -> np.ndarray:
    """A buffer of nbytes, every page written (resident)."""
    return np.ones(nbytes // 8)


def test_a_buffer_freed_inside_the_block_counts_at_its_size():
    with PeakRSS() as peak:
        buffer = touched(SIZE)
        del buffer
    assert abs(peak.bytes - SIZE) <= PEAK_RSS_SLACK_BYTES, peak.bytes
    assert peak.mb == peak.bytes / 2**20 and peak.gb == peak.bytes / 2**30


def test_an_earlier_peak_does_not_count():
    buffer = touched(2 * SIZE)      # the process's high-water mark rises past anything the block does
    del buffer
    with PeakRSS() as peak:
        pass
    assert 0 <= peak.bytes <= PEAK_RSS_SLACK_BYTES, peak.bytes


def test_memory_held_from_before_the_block_does_not_count():
    held = touched(SIZE)
    with PeakRSS() as peak:
        held[::4096] += 1.0         # read and written, already resident
    assert 0 <= peak.bytes <= PEAK_RSS_SLACK_BYTES, peak.bytes


def test_status_fields_are_read_and_an_unknown_one_is_named():
    assert status_kib("VmHWM") >= status_kib("VmRSS") > 0
    with pytest.raises(ValueError, match="VmNope"):
        status_kib("VmNope")


class _ScriptedAllocator:
    """Stands in for torch.cuda's allocator statistics (no GPU here): ``allocated`` bytes now, a peak that
    the reset brings down to ``allocated``, and a log of the calls in order."""

    def __init__(self, monkeypatch, allocated: int, stale_peak: int):
        self.allocated, self.peak, self.log = allocated, stale_peak, []
        monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: self.log.append("wait"))
        monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", self._reset)
        monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: self.allocated)
        monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: self.peak)

    def _reset(self, device=None):
        self.log.append("reset")
        self.peak = self.allocated

    def allocate_and_free(self, nbytes: int):
        self.peak = max(self.peak, self.allocated + nbytes)


def test_the_cuda_peak_is_the_rise_of_allocated_memory_over_the_block_not_an_earlier_peak(monkeypatch):
    """Held 300 MiB at entry, an earlier peak of 5 GiB in the statistic, 64 MiB allocated and freed inside:
    the block's peak is 64 MiB (without the reset: 5 GiB - 300 MiB; without subtracting the entry: 364 MiB)."""
    allocator = _ScriptedAllocator(monkeypatch, allocated=300 * 2**20, stale_peak=5 * 2**30)
    with PeakCudaMemory("cuda") as peak:
        allocator.allocate_and_free(SIZE)
    assert peak.bytes == SIZE and peak.mb == 64
    assert allocator.log == ["wait", "reset", "wait"]          # the kernels queued before and inside are counted


def test_the_meter_follows_the_device():
    assert isinstance(peak_memory("cpu"), PeakRSS) and isinstance(peak_memory(torch.device("cpu")), PeakRSS)
    assert isinstance(peak_memory("cuda"), PeakCudaMemory) and peak_memory("cuda:0").device == torch.device("cuda:0")
    with pytest.raises(ValueError, match="cpu or cuda"):
        peak_memory("meta")
