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


def test_memory_the_allocator_kept_from_earlier_work_counts_when_the_block_reuses_it():
    """Memory freed before the block but kept by glibc's malloc (a free stretch of the heap below a live
    chunk, which free() cannot give back) is returned by the meter's malloc_trim, so a block that reuses
    it becomes resident again and counts at its size. Without the trim it read 0 MiB (and 64 MiB with it,
    twice each, 2026-12-04)."""
    touched(4 * 2**20)              # freed at once: glibc's mmap threshold rises past 1 MiB, so the chunks
                                    # below come from the heap
    chunks = [touched(2**20) for _ in range(SIZE // 2**20)]
    pin = touched(2**20)            # above them, so that freeing them cannot shrink the heap from its top
    del chunks
    with PeakRSS() as peak:
        again = [touched(2**20) for _ in range(SIZE // 2**20)]
        del again
    assert abs(peak.bytes - SIZE) <= PEAK_RSS_SLACK_BYTES, peak.bytes
    del pin


def test_status_fields_are_read_and_an_unknown_one_is_named():
    assert status_kib("VmHWM") >= status_kib("VmRSS") > 0
    with pytest.raises(ValueError, match="VmNope"):
        status_kib("VmNope")


class _ScriptedAllocator:
    """Stands in for torch.cuda's allocator statistics (no GPU here): ``allocated`` bytes now, a peak that
    the reset brings down to ``allocated``, a log of the waits and resets in order, and the device each
    call named."""

    def __init__(self, monkeypatch, allocated: int, stale_peak: int):
        self.allocated, self.peak, self.log, self.devices = allocated, stale_peak, [], []
        monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: self._act("wait", device))
        monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: self._act("reset", device))
        monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: self._read(self.allocated, device))
        monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: self._read(self.peak, device))

    def _read(self, value: int, device) -> int:
        self.devices.append(device)
        return value

    def _act(self, action: str, device) -> None:
        self.devices.append(device)
        self.log.append(action)
        if action == "reset":
            self.peak = self.allocated

    def allocate_and_free(self, nbytes: int):
        self.peak = max(self.peak, self.allocated + nbytes)

    def free(self, nbytes: int):
        self.allocated -= nbytes


def test_the_cuda_peak_is_the_rise_of_allocated_memory_over_the_block_not_an_earlier_peak(monkeypatch):
    """Held 300 MiB at entry, an earlier peak of 5 GiB in the statistic, 64 MiB allocated and freed inside:
    the block's peak is 64 MiB (without the reset: 5 GiB - 300 MiB; without subtracting the entry: 364 MiB)."""
    allocator = _ScriptedAllocator(monkeypatch, allocated=300 * 2**20, stale_peak=5 * 2**30)
    with PeakCudaMemory("cuda") as peak:
        allocator.allocate_and_free(SIZE)
    assert peak.bytes == SIZE and peak.mb == 64
    assert allocator.log == ["wait", "reset", "wait"]          # the kernels queued before and inside are counted


def test_the_cuda_meter_asks_about_its_own_device_and_a_block_that_only_frees_rose_by_nothing(monkeypatch):
    """Every statistic is read for the meter's device (cuda:1 here; the default meter's is "cuda"); a block
    that frees 100 MiB of the 300 MiB held at entry and allocates nothing has a peak 0 above its start."""
    allocator = _ScriptedAllocator(monkeypatch, allocated=300 * 2**20, stale_peak=5 * 2**30)
    with PeakCudaMemory("cuda:1") as peak:
        allocator.free(100 * 2**20)
    assert peak.bytes == 0
    assert len(allocator.devices) == 5 and set(allocator.devices) == {torch.device("cuda:1")}
    assert PeakCudaMemory().device == torch.device("cuda")


def test_the_meter_follows_the_device():
    assert isinstance(peak_memory(), PeakRSS) and isinstance(peak_memory(torch.device("cpu")), PeakRSS)
    assert isinstance(peak_memory("cuda"), PeakCudaMemory) and peak_memory("cuda:0").device == torch.device("cuda:0")
    with pytest.raises(ValueError, match="cpu or cuda"):
        peak_memory("meta")
