"""numerics/clock.py: the clock for work on a device.  No GPU here, so the CUDA clock runs against a
recording stand-in for torch.cuda.synchronize: a reading must come after the wait for the queued
kernels, or it would time the queueing, not the work (a synchronise after the reading, or none, reads
microseconds for seconds of GPU work)."""
import time

import pytest
import torch

from numerics import clock


def test_the_cpu_clock_is_the_process_cpu_time_and_an_unknown_device_is_refused():
    assert clock.device_clock("cpu") is time.process_time
    assert clock.device_clock(torch.device("cpu")) is time.process_time
    assert clock.device_clock("cuda") is clock.cuda_seconds and clock.device_clock("cuda:1") is clock.cuda_seconds
    with pytest.raises(ValueError, match="cpu or cuda"):
        clock.device_clock("meta")


def test_the_cuda_clock_reads_wall_time_after_waiting_for_the_kernels(monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *device: events.append("wait"))
    monkeypatch.setattr(clock.time, "perf_counter", lambda: events.append("read") or 42.5)
    assert clock.cuda_seconds() == 42.5
    assert events == ["wait", "read"]
