#!/usr/bin/env bash
# The GPU benchmark runs of issue 17: `shortcut-ntk bench --device cuda`, on a machine whose python3 has a
# PyTorch that sees a CUDA GPU and this project's other dependencies (numpy, scipy, scikit-learn, sympy,
# hypothesis, tqdm, threadpoolctl, pytest, pytest-benchmark, pytest-xdist). The project is installed without
# dependencies, so the machine's own torch is used and nothing is downloaded. RUNS lists the modes, run in
# turn (default "quick full"); each writes RUN-MODE.json and RUN-MODE.log into $OUT (default ./cuda-bench),
# beside gpu.txt (nvidia-smi) and versions.txt. RUN_S caps each run's seconds (default 300).
set -uo pipefail
out=${OUT:-cuda-bench}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1
if ! python3 -m pip install -q --no-deps --no-build-isolation -e . > /dev/null 2>&1; then
    echo "pip install -e . failed: running from the source tree (PYTHONPATH)"
    export PYTHONPATH=$PWD
fi
python3 -c "import numpy, scipy, torch; print('python3', __import__('sys').version.split()[0], 'torch', torch.__version__,
'numpy', numpy.__version__, 'scipy', scipy.__version__, 'device', torch.cuda.get_device_name())" | tee "$out/versions.txt"
run=0
for mode in ${RUNS:-quick full}; do
    run=$((run + 1))
    timeout "${RUN_S:-300}" python3 -m numerics.cli bench "--$mode" --device cuda --json "$out/$run-$mode.json" 2>&1 \
        | tee "$out/$run-$mode.log"
done
