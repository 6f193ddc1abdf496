"""numerics/memory.py: the peak resident memory of a block, against buffers of known size.

The expected peak of a block that writes a buffer of b bytes is b (each byte resident once), up to whole
pages and the interpreter's own allocations and releases (numerics.tolerances.PEAK_RSS_SLACK_BYTES); a block that
writes nothing adds 0, whatever the process held or touched before it. The buffer is freed inside the
block, before the exit reads the peak: a measure of the RSS at exit, or a sampler that missed it, reads 0.
"""
import numpy as np
import pytest

from numerics.memory import PeakRSS, status_kib
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
