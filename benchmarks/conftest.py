"""Benchmarks run with one BLAS/torch thread (numerics/threads.py): the issues' baselines were
measured that way, and a second thread on a busy 2-core machine made timings erratic.  The JSON of a
run carries ``machine_floor`` (numerics/floor.py): the machine's reference GEMM rate and read bandwidth
on the run's device (numerics.bench.bench_device), and on CUDA the GPU's name, measured in the same run,
which ``shortcut-ntk bench`` prints and compares.  float32 means float32 on CUDA too: torch lets cuDNN
convolutions (and, where a caller allows it, matrix products) round their inputs to TF32, a 10-bit
mantissa, and the benchmarks' float32 accuracy figures (1e-5 and below) are of float32 arithmetic."""
import pytest
import torch

from numerics.bench import bench_device
from numerics.floor import machine_floor
from numerics.threads import one_thread


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(autouse=True, scope="session")
def _float32_without_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["machine_floor"] = machine_floor(bench_device())
