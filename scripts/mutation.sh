#!/usr/bin/env bash
# Mutation testing of the property suite with mutmut 3 (issue 8, "power"). NOT part of CI.
#
#   scripts/mutation.sh [GROUP ...]        GROUP: theory features kernels eigen bench (default: all five)
#
# Each group mutates one or two modules and runs only the test files that exercise them, with the
# repo's default derandomized Hypothesis profile (SHORTCUT_NTK_PROFILE=ci). Everything happens in a
# snapshot of the repo under $MUTATION_WORK (default /tmp/mutwork); the checkout is never written to.
# See scripts/mutation.md for how to read the results.
#
# Environment:
#   MUTATION_WORK    work folder (default /tmp/mutwork): venv/, one snapshot per group, logs
#   MUTATION_REF     git ref to snapshot (git archive), e.g. HEAD; default: the working tree
#                    (tracked + untracked files that git does not ignore)
#   MUTATION_JOBS    parallel mutant workers (default 2)
#   MUTATION_SAMPLE  k: test every k-th mutant of the group (default 1 = all); the score is then
#                    on that deterministic sample
#   MUTATION_NICE    nice level (default 19)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MUTATION_WORK:-/tmp/mutwork}
VENV=${MUTATION_VENV:-$WORK/venv}
JOBS=${MUTATION_JOBS:-2}
SAMPLE=${MUTATION_SAMPLE:-1}
NICE=${MUTATION_NICE:-19}
REF=${MUTATION_REF:-}

declare -A MUTATE TESTS
MUTATE[theory]="theory/gmm.py theory/linear.py"
TESTS[theory]="tests/test_bad_input.py tests/test_gmm.py tests/test_l2_population.py tests/test_s1_shortcut_spectrum.py
               tests/test_s2_influence.py tests/test_n1_fitting.py tests/test_l3_finite_sample.py
               tests/test_eigen_population.py"
MUTATE[features]="numerics/features.py"
TESTS[features]="tests/test_t1_dynamics.py tests/test_features.py"
MUTATE[kernels]="numerics/kernels.py"
TESTS[kernels]="tests/test_l1_linear_ntk.py tests/test_bad_input.py tests/test_r1_relu_ntk.py"
MUTATE[eigen]="numerics/eigen.py"
TESTS[eigen]="tests/test_eigen.py tests/test_eigen_population.py tests/test_l3_finite_sample.py"
MUTATE[bench]="numerics/bench.py numerics/floor.py numerics/clock.py numerics/memory.py"
TESTS[bench]="tests/test_bench.py tests/test_clock.py tests/test_memory.py"

if [ $# -eq 0 ]; then set -- theory features kernels eigen bench; fi
for g in "$@"; do
    [ -n "${MUTATE[$g]:-}" ] || { echo "unknown group '$g' (theory features kernels eigen bench)" >&2; exit 2; }
done

run() { nice -n "$NICE" "$@"; }
export SHORTCUT_NTK_PROFILE=ci PYTHONDONTWRITEBYTECODE=1
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # one core per mutant worker

mkdir -p "$WORK"
# mutmut in its own venv on top of the interpreter that has the project's dependencies.
if [ ! -x "$VENV/bin/mutmut" ]; then
    run python3 -m venv --system-site-packages "$VENV"
    run "$VENV/bin/python" -m pip install --quiet 'mutmut>=3,<4'
fi
# --system-site-packages reaches the base interpreter's packages only; the project's own (numpy, torch,
# pytest-xdist, ...) are those of the python3 that runs this script (e.g. the project's .venv): a .pth
# file puts them behind mutmut's.
deps=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$VENV/bin/python" -c 'import sys, sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "project-deps.pth").write_text(sys.argv[1] + "\n")' "$deps"
echo "mutmut $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mutmut"))')"

snapshot() {  # snapshot DEST: a copy of the repo without .git, build outputs or ignored files
    rm -rf "$1"; mkdir -p "$1"
    if [ -n "$REF" ]; then
        git -C "$REPO" archive "$REF" | tar -x -C "$1"
    else
        git -C "$REPO" ls-files -z --cached --others --exclude-standard \
            | (cd "$REPO" && tar -cf - --null --ignore-failed-read -T -) | tar -x -C "$1"
    fi
}

# mutmut 3 skips every decorated function except @staticmethod/@classmethod (properties and the
# lru_cache'd closed forms would be invisible). In the snapshot only, rewrite
#     @dec1 @dec2 def f(...): ...   ->   def undecorated_f(...): ...   f = (dec1)((dec2)(undecorated_f))
# which is the same object at import time, so mutmut mutates and trampolines undecorated_f.
UNDECORATE='
import ast, sys
path = sys.argv[1]
src = open(path).read()
lines = src.splitlines(keepends=True)
nodes = []
def visit(body):
    for node in body:
        if isinstance(node, ast.ClassDef):
            visit(node.body)
        elif isinstance(node, ast.FunctionDef) and node.decorator_list:
            decs = [ast.get_source_segment(src, d) for d in node.decorator_list]
            if not (len(decs) == 1 and decs[0] in ("staticmethod", "classmethod")):
                nodes.append((node, decs))
visit(ast.parse(src).body)
for node, decs in sorted(nodes, key=lambda nd: -nd[0].lineno):
    new = "undecorated_" + node.name
    defline = lines[node.lineno - 1]
    indent = defline[:len(defline) - len(defline.lstrip())]
    expr = new
    for d in reversed(decs):
        expr = f"({d})({expr})"
    lines.insert(node.end_lineno, f"{indent}{node.name} = {expr}\n")
    lines[node.lineno - 1] = defline.replace(f"def {node.name}(", f"def {new}(", 1)
    del lines[node.decorator_list[0].lineno - 1:node.lineno - 1]
open(path, "w").write("".join(lines))
print(f"    {path}: un-decorated {[n.name for n, _ in nodes]}")
'

# Appended to the snapshot's conftest.py: (1) the loaded profile (ci: derandomized) minus the
# shrink and explain phases: the same examples run, a test fails exactly when it fails under the
# profile, but a killed mutant is not shrunk for minutes (which mutmut would call a timeout);
# (2) refuse to run against anything but mutmut's copy; (3) clear the caches of the un-decorated
# lru_cache functions before every test, so that mutmut's stats associate a cached derivation with
# every test that uses it and a mutant never reads a value cached by the unmutated code.
CONFTEST_TAIL='

# ---- added by scripts/mutation.sh in the mutation-testing snapshot only -------------------------
import os
import sys as _mm_sys

import pytest
from hypothesis import Phase as _MmPhase, settings

settings.register_profile("mutation", parent=settings.get_profile(os.environ.get("SHORTCUT_NTK_PROFILE", "ci")),
                          phases=(_MmPhase.explicit, _MmPhase.reuse, _MmPhase.generate))
settings.load_profile("mutation")


@pytest.fixture(autouse=True)
def _mutmut_fresh_caches():
    import numerics, theory
    for pkg in (numerics, theory):
        assert "/mutants/" in pkg.__file__, f"tests import {pkg.__file__}, not the mutated copy"
    for name in _MUTMUT_MODULES:
        module = _mm_sys.modules.get(name)
        for obj in list(vars(module).values()) if module else []:
            if callable(getattr(obj, "cache_clear", None)):
                obj.cache_clear()
    yield
'

summary() {  # summary GROUPDIR: per-file counts from mutmut's .meta files, and the survivors' diffs
    (cd "$1" && "$VENV/bin/python" - "$SAMPLE" <<'EOF'
import json, subprocess, sys
from collections import Counter
from pathlib import Path
from mutmut.stats import status_by_exit_code
sample = int(sys.argv[1])
survivors = []
for meta in sorted(Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    tested = {k: v for k, v in codes.items() if v is not None}
    c = Counter(status_by_exit_code[v] for v in tested.values())
    killed, survived, timeout = c["killed"], c["survived"], c["timeout"]
    other = sum(c.values()) - killed - survived - timeout
    run_ = killed + survived + timeout
    score = 100 * (killed + timeout) / run_ if run_ else float("nan")
    note = f" (every {sample}-th)" if sample > 1 else ""
    print(f"{str(meta)[8:-5]:24} generated {len(codes):4d}  run{note} {len(tested):4d}  killed {killed:4d}  "
          f"survived {survived:3d}  timeout {timeout:3d}  other {other:3d} {dict((k, v) for k, v in c.items() if k not in ('killed', 'survived', 'timeout'))}  "
          f"score {score:5.1f}%")
    survivors += [k for k, v in tested.items() if status_by_exit_code[v] == "survived"]
with open("survivors.txt", "w") as out:
    for name in survivors:
        out.write(subprocess.run([sys.executable, "-m", "mutmut", "show", name], capture_output=True,
                                 text=True).stdout + "\n")
print(f"survivors' diffs: {Path('survivors.txt').resolve()}")
EOF
    )
}

for g in "$@"; do
    dir="$WORK/$g"
    echo "=== $g: mutate ${MUTATE[$g]}; tests:" ${TESTS[$g]}
    snapshot "$dir"
    tests=()
    for t in ${TESTS[$g]}; do
        if [ -f "$dir/$t" ]; then tests+=("$t"); else echo "    (no $t in this snapshot: skipped)"; fi
    done
    modules=""
    for f in ${MUTATE[$g]}; do
        run "$VENV/bin/python" -c "$UNDECORATE" "$dir/$f"
        m=${f%.py}; modules="$modules\"${m//\//.}\", "
    done
    { printf '%s' "$CONFTEST_TAIL"; echo "_MUTMUT_MODULES = ($modules)"; } >> "$dir/conftest.py"
    {
        echo "[mutmut]"
        echo "source_paths ="; printf '    %s\n' theory numerics
        echo "only_mutate ="; printf '    %s\n' ${MUTATE[$g]}
        echo "also_copy ="; printf '    %s\n' conftest.py
        echo "pytest_add_cli_args ="; printf '    %s\n' -n0   # in process: mutmut maps tests to functions
        echo "pytest_add_cli_args_test_selection ="; printf '    %s\n' "${tests[@]}"
        echo "process_isolation = forkserver"   # torch is not fork-safe after use
        echo "use_git_change_detection = false"
        echo "timeout_multiplier = 30"         # shared, niced cores: no spurious timeouts
    } > "$dir/setup.cfg"
    start=$(date +%s)
    if [ "$SAMPLE" -le 1 ]; then
        (cd "$dir" && run "$VENV/bin/mutmut" run --max-children "$JOBS") > "$dir/mutmut.log" 2>&1 || true
    else
        # Generate mutants and collect per-test stats (the filter matches nothing, so it stops
        # there), then run every SAMPLE-th mutant name in sorted order.
        (cd "$dir" && run "$VENV/bin/mutmut" run --max-children "$JOBS" "__none__") > "$dir/mutmut.log" 2>&1 || true
        mapfile -t names < <(cd "$dir" && "$VENV/bin/python" -c '
import json, sys
from pathlib import Path
names = sorted(k for m in Path("mutants").rglob("*.py.meta") for k in json.loads(m.read_text())["exit_code_by_key"])
print("\n".join(names[::int(sys.argv[1])]))' "$SAMPLE")
        (cd "$dir" && run "$VENV/bin/mutmut" run --max-children "$JOBS" "${names[@]}") >> "$dir/mutmut.log" 2>&1 || true
    fi
    echo "    mutmut finished in $(( $(date +%s) - start )) s; log: $dir/mutmut.log"
    grep -E "Failed|FAILED|Stopping early|failed to collect" "$dir/mutmut.log" | head -5 || true
    summary "$dir"
done
