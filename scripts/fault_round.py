"""A fault-injection round (issue 18): plausible scientific mistakes, applied one at a time to a copy of
the repository, each followed by the default-profile tests that should catch it.

Usage (from the repository root, with the project's venv active):

    python scripts/fault_round.py [--only NAME ...] [--workdir /tmp/fault_round]

For each fault the copy is restored, the one-line change is applied (the text must occur exactly once),
and pytest runs the listed test files with the ``faults`` profile (ci without shrinking); a fault is CAUGHT when pytest exits 1 (a test
failed), MISSED when it exits 0. The table it prints is the closing note's fault table. It never touches
the checkout. (Mechanical mutants: scripts/mutation.sh.)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: (name, file, original text, faulty text, test files that should catch it)
FAULTS = [
    ("variance used as a standard deviation in sampling", "numerics/data.py",
     "noise * np.sqrt(arrays.variances[cluster])", "noise * arrays.variances[cluster]",
     ["tests/test_l3_finite_sample.py", "tests/test_s2_influence.py"]),
    ("aligned and conflicting counts swapped", "numerics/data.py",
     "aligned = half_up(Fraction(rho) * n / 2)", "aligned = half_up((1 - Fraction(rho)) * n / 2)",
     ["tests/test_data_integrity.py", "tests/test_e2_relu_eigenfunctions.py"]),
    ("probe drawn from the training seed", "numerics/experiments/relu.py",
     "per_cluster=per_cluster, dim=dim, seed=seed + 1, offset=offset)", "per_cluster=per_cluster, dim=dim, seed=seed, offset=offset)",
     ["tests/test_data_integrity.py"]),
    ("ResNet test set drawn at the training imbalance", "numerics/experiments/resnet.py",
     "digits_data(setting, setting.n_test, 0.5, seed, 1, \"test\")", "digits_data(setting, setting.n_test, rho, seed, 1, \"test\")",
     ["tests/test_data_integrity.py"]),
    ("E3 gap replaced by the conflicting margin (ReLU)", "numerics/experiments/relu.py",
     "return self.aligned - self.conflicting", "return -self.conflicting",
     ["tests/test_e3_e4_relu_training.py"]),
    ("conflicting margin = aligned margin (ReLU E3)", "numerics/experiments/relu.py",
     "return self.aligned - self.conflicting", "return self.aligned - self.aligned",
     ["tests/test_e3_e4_relu_training.py"]),
    ("E3 gap replaced by the conflicting margin (ResNet)", "numerics/experiments/resnet.py",
     "return self.aligned_margin - self.conflicting_margin", "return -self.conflicting_margin",
     ["tests/test_resnet_claims.py"]),
    ("ReLU NTK without its first-layer term (NTK = NNGP)", "numerics/kernels.py",
     "ntk = sigma + W_std**2 * kappa0 * ntk", "ntk = sigma + 0 * kappa0 * ntk",
     ["tests/test_r1_relu_ntk.py", "tests/test_p1_parity.py"]),
    ("hidden-layer bias dropped from the deep ReLU recursion", "numerics/kernels.py",
     "sigma = W_std**2 * np.outer(norms1, norms2) * J / (2 * np.pi) + b_std**2",
     "sigma = W_std**2 * np.outer(norms1, norms2) * J / (2 * np.pi)",
     ["tests/test_p1_parity.py"]),
    ("ridge dropped from G1's cluster outputs", "numerics/clusters.py",
     "system = ck.counts[:, None] * ck.mean + np.diag(ck.excess)", "system = ck.counts[:, None] * ck.mean",
     ["tests/test_g1_ridge.py"]),
    ("S3 ridge formula without the 1/n", "numerics/experiments/linear_training.py",
     "S.T @ S / n + total_variance / n * np.eye(2)", "S.T @ S / n + total_variance * np.eye(2)",
     ["tests/test_s3_margin_control.py"]),
    ("top eigenvector taken as the second one", "numerics/experiments/linear.py",
     "top = np.linalg.eigh(arrays.second_moment)[1][:, -1]", "top = np.linalg.eigh(arrays.second_moment)[1][:, -2]",
     ["tests/test_s1_shortcut_spectrum.py"]),
    ("Nystrom extension divides by lambda twice", "numerics/eigenfunctions.py",
     "return (K_probe_train @ vectors) / values", "return (K_probe_train @ vectors) / values**2",
     ["tests/test_e2_relu_eigenfunctions.py"]),
    ("ResNet max-pool without padding", "numerics/resnet.py",
     "nn.MaxPool2d(kernel_size=3, stride=2, padding=1)", "nn.MaxPool2d(kernel_size=3, stride=2, padding=0)",
     ["tests/test_resnet_geometry.py"]),
    ("colour contrast ignored", "numerics/colored_digits.py",
     "base = np.stack([(1 + contrast * b) / 2, (1 - contrast * b) / 2, np.zeros(n)], axis=1)",
     "base = np.stack([(1 + b) / 2, (1 - b) / 2, np.zeros(n)], axis=1)",
     ["tests/test_resnet_model.py", "tests/test_resnet_draws.py"]),
    ("colored-digit counts rounded from the conflicting side", "numerics/colored_digits.py",
     "n_aligned = half_up(Fraction(rho) * n)", "n_aligned = n - half_up(Fraction(rho) * n)",
     ["tests/test_resnet_model.py", "tests/test_data_integrity.py"]),
    ("S2 threshold in the report computed at rho instead of p", "numerics/report/linear.py",
     "ALPHA, BETA, RHO_IMBALANCED)))", "ALPHA, BETA, 2 * RHO_IMBALANCED - 1)))",
     ["tests/test_report_entries.py"]),
    ("E3 symmetry band loosened tenfold", "numerics/tolerances.py",
     "RELU_E3_SYMMETRY_BAND = 0.2", "RELU_E3_SYMMETRY_BAND = 2.0",
     ["tests/test_e3_e4_relu_training.py"]),
    ("E2 rise checked in the wrong direction", "numerics/checks.py",
     'return pairwise_trend("lambda(phi_A)/lambda(phi_C)", rhos, ratios, +1, apart=apart)',
     'return pairwise_trend("lambda(phi_A)/lambda(phi_C)", rhos, ratios, -1, apart=apart)',
     ["tests/test_e2_relu_eigenfunctions.py"]),
    ("feature decomposition without 1/lambda", "numerics/features.py",
     "(vectors.T @ targets) / np.where(keep, values, 1.0)", "(vectors.T @ targets)",
     ["tests/test_t1_dynamics.py", "tests/test_features.py"]),
    ("w_bias closed form without the core variance", "theory/linear.py",
     "gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), CORE_VAR**2, var_core=CORE_VAR**2, var_bias=BIAS_VAR**2)",
     "gmm = GMM.canonical(ALPHA, BETA, aligned_fraction(P), CORE_VAR**2, var_core=BIAS_VAR**2, var_bias=BIAS_VAR**2)",
     ["tests/test_s2_influence.py"]),
    ("canonical eigenvalues with the full gap instead of the half gap", "theory/linear.py",
     "plus, minus = (a + c) / 2 + half_gap, (a + c) / 2 - half_gap",
     "plus, minus = (a + c) / 2 + 2 * half_gap, (a + c) / 2 - 2 * half_gap",
     ["tests/test_l2_population.py", "tests/test_s1_shortcut_spectrum.py"]),
    ("E4 control gap compared at the smallest width", "numerics/checks.py",
     "gap.control_errors[-1] / gap.errors[-1]", "gap.control_errors[0] / gap.errors[0]",
     ["tests/test_report_entries.py"]),        # the E4 property is dev/thorough only; the E4-relu entry is its ci draw
    ("network trainer ignores the group weights", "numerics/network_margins.py",
     "objective = method.objective(y, g)", "objective = method.objective(y, g); objective.weights[:] = 1.0",
     ["tests/test_m1_networks.py"]),
    ("proliferation SVM soft-margin (C = 0.05)", "numerics/experiments/margins.py",
     "svm = svm_on_gram(K, sample.y, intercept=False)", "svm = svm_on_gram(K, sample.y, C=0.05, intercept=False)",
     ["tests/test_m1_networks.py"]),
    ("K x K colour table ignores rho", "numerics/multiclass_digits.py",
     "table[k, k] = half_up(Fraction(rho) * n_k)", "table[k, k] = half_up(Fraction(1, 3) * n_k)",
     ["tests/test_multiclass_digits.py", "tests/test_data_integrity.py"]),
    ("--compare counts an improvement as a regression", "numerics/report/compare.py",
     'if now == "holds":\n        return "improvements"', 'if now == "holds":\n        return "regressions"',
     ["tests/test_compare.py"]),
    ("bench time / floor without the floor", "numerics/bench.py",
     'return bench["stats"][statistic] / floor if floor else None', 'return bench["stats"][statistic] if floor else None',
     ["tests/test_bench.py"]),
    ("bench best / floor from the median round, not the fastest", "numerics/bench.py",
     '"best_per_floor": _per_floor(bench, "min")', '"best_per_floor": _per_floor(bench)',
     ["tests/test_bench.py"]),
    ("peak memory without resetting the high-water mark", "numerics/memory.py",
     'fh.write("5")', 'fh.flush()', ["tests/test_memory.py"]),
    ("peak memory read as the resident size at exit", "numerics/memory.py",
     'status_kib("VmHWM") - self._start', 'status_kib("VmRSS") - self._start', ["tests/test_memory.py"]),
    ("peak memory without the resident size at entry taken off", "numerics/memory.py",
     'max(status_kib("VmHWM") - self._start, 0)', 'status_kib("VmHWM")', ["tests/test_memory.py"]),
    ("block route without Gram-Schmidt's second pass", "numerics/eigen.py",
     "    B -= swapped_matmul(Q, matmul(Q.T, B))\n    return _cholesky_qr(B), replaced", "    return _cholesky_qr(B), replaced",
     ["tests/test_eigen.py"]),
    ("block route's first Gram-Schmidt pass on the last two blocks without its rounding-level guard",
     "numerics/eigen.py",
     "    if exact and 0 < start < h.shape[0] and np.abs(h[:start]).max() <= level:",
     "    if 0 < start < h.shape[0]:",
     ["tests/test_eigen.py"]),
    ("MRRR's short answer (fewer pairs than asked) accepted", "numerics/eigen.py",
     "        if values.size == count:\n            return values, vectors",
     "        return values, vectors",
     ["tests/test_eigen.py"]),
    ("block route may stop on its first block (no Krylov step)", "numerics/eigen.py",
     "if (step and m >= q and res.max() <= target) or m == n:", "if (m >= q and res.max() <= target) or m == n:",
     ["tests/test_eigen.py"]),
    ("symmetry scan skips the last block row of tiles", "numerics/eigen.py",
     "        for i in range(0, whole, t):", "        for i in range(0, whole - t, t):",
     ["tests/test_eigen.py"]),
    ("symmetry scan keeps only the largest difference (a negative asymmetry unseen)", "numerics/eigen.py",
     "tops += [float(high), -float(low)]", "tops += [float(high)]",
     ["tests/test_eigen.py"]),
    ("symmetry scan views a read-only A with torch.from_numpy (torch's warning reaches the user)", "numerics/eigen.py",
     "matrix, tops = tensor_view(A), [0.0]", "matrix, tops = torch.from_numpy(A), [0.0]",
     ["tests/test_eigen.py"]),
    ("symmetry scan compares a block row with its mirror columns untransposed", "numerics/eigen.py",
     "mirror.copy_(slab.T)", "mirror.copy_(slab.reshape(t, m))",
     ["tests/test_eigen.py"]),
    ("auto on an operator back at a 2x batch gain (the probe's product not counted as sunk)", "numerics/eigen.py",
     "_BATCH_GAIN = 1.75 ", "_BATCH_GAIN = 2.0 ",
     ["tests/test_eigen.py"]),
    ("BLAS choice without its margin (close libraries could swap between runs)", "numerics/blas.py",
     'seconds["numpy"] * NUMPY_MARGIN <= seconds["torch"]', 'seconds["numpy"] <= seconds["torch"]',
     ["tests/test_blas.py"]),
    ("floor timed with torch only (not the machine's best library)", "numerics/floor.py",
     "for name in LIBRARIES for layout in layouts", 'for name in ["torch"] for layout in layouts',
     ["tests/test_blas.py"]),
    ("floor of a square product without the transposed layout", "numerics/floor.py",
     "layouts = (LIBRARIES, SWAPPED, TRANSPOSED) if m == k", "layouts = (LIBRARIES, SWAPPED) if m == k",
     ["tests/test_blas.py"]),
    ("the transposed layout computes a b, not a^T b", "numerics/blas.py",
     "        return product(b.T, a).T", "        return product(a, b)",
     ["tests/test_blas.py"]),
    ("a nearly symmetric A applied as A^T V (the transposed layout for an asymmetry the probe resolves)", "numerics/eigen.py",
     "product = symmetric_matmul if probed_symmetric else matmul", "product = symmetric_matmul",
     ["tests/test_eigen.py"]),
    ("symmetry probe compares A x with itself (every A passes it)", "numerics/eigen.py",
     "float((rows - columns).abs().max())", "float((rows - rows).abs().max())",
     ["tests/test_eigen.py"]),
    ("symmetry probe's bound n times too wide (n^2 max|A| for n max|A|)", "numerics/eigen.py",
     "probe_asymmetry_rounding(A.shape[0]) * A.shape[0]", "probe_asymmetry_rounding(A.shape[0]) * A.shape[0] ** 2",
     ["tests/test_eigen.py"]),
    ("symmetry probe with x = 1 (row sums against column sums)", "numerics/eigen.py",
     "return np.where(np.random.default_rng(_PROBE_SEED).random(n) < 0.5, -1.0, 1.0)", "return np.ones(n)",
     ["tests/test_eigen.py"]),
    ("symmetry probe judged against max|A_ii| only (a zero-diagonal symmetric A sent to the scan)", "numerics/eigen.py",
     "    if gap > allowance * amax:\n        amax = max(amax, _max_abs(A))", "    if False:\n        amax = max(amax, _max_abs(A))",
     ["tests/test_eigen.py"]),
    ("symmetry probe's A^T x takes the first signs for every slab", "numerics/eigen.py",
     "columns.addmv_(slab.T, x[i:i + t])", "columns.addmv_(slab.T, x[:slab.shape[0]])",
     ["tests/test_eigen.py"]),
    ("structured Gram ignores convolution dilation", "numerics/structured_ntk.py",
     "m.dilation[0] * s_h, m.dilation[1] * s_w, 1)", "s_h, s_w, 1)",
     ["tests/test_resnet_ntk.py"]),
    ("structured Gram's diagonal squares by self-Gram dropped", "numerics/structured_ntk.py",
     "                K[at, at] += square(take(a, group)).to(torch.float64)", "                pass",
     ["tests/test_resnet_ntk.py"]),
    ("a diagonal group also multiplied against its own square (those pairs counted twice)", "numerics/structured_ntk.py",
     "            first = group.stop if diagonal else 0", "            first = group.start if diagonal else 0",
     ["tests/test_resnet_ntk.py"]),
    ("structured form's square multiplies the patch Gram by itself (A * A, not A * B)", "numerics/structured_ntk.py",
     "position_sums(self_gram(a[0]).mul_(self_gram(a[1])))", "position_sums(self_gram(a[0]).mul_(self_gram(a[0])))",
     ["tests/test_resnet_ntk.py"]),
    ("one workspace buffer for the row and the column features", "numerics/structured_ntk.py",
     "        flat = self._flat.get(slot)", '        slot = "rows"\n        flat = self._flat.get(slot)',
     ["tests/test_resnet_ntk.py"]),
    ("conv inputs stored without the padding offset", "numerics/structured_ntk.py",
     "self.inputs[rows, ph:ph + h, pw:pw + w] = inputs.permute(0, 2, 3, 1)",
     "self.inputs[rows, :h, :w] = inputs.permute(0, 2, 3, 1)", ["tests/test_resnet_ntk.py"]),
    ("capture gives up on a forward that refuses channels-last", "numerics/structured_ntk.py",
     "                    if channels_last is None:\n                        raise",
     "                    if True:\n                        raise", ["tests/test_resnet_ntk.py"]),
    ("cross Gram of the biases and BatchNorm parameters from the left capture alone", "numerics/structured_ntk.py",
     "K = (self_gram(small1) if same else small1 @ small2.T)", "K = (self_gram(small1) if same else small1 @ small1.T[:, :n2])",
     ["tests/test_resnet_ntk.py"]),
    ("feature buffers reserved at a capacity the system refuses, without the fallback", "numerics/structured_ntk.py",
     "            except RuntimeError:                # a capacity beyond what the system will map",
     "            except ValueError:                # a capacity beyond what the system will map",
     ["tests/test_resnet_ntk.py"]),
    ("self-Gram as a^T a", "numerics/blas.py",
     "    return torch.from_numpy(x @ x.T)", "    return torch.from_numpy(x.T @ x)",
     ["tests/test_blas.py"]),
    ("Gram-route eigenvalue eta + 2 s^2", "theory/linear.py",
     "return [(tidy(eta + s2, simplify=simplify), u)", "return [(tidy(eta + 2 * s2, simplify=simplify), u)",
     ["tests/test_l2_population.py"]),
    ("slow properties run at full depth under ci (the budget ignored)", "numerics/pytest_plugin.py",
     "if settings.default.max_examples > CI_EXAMPLES:", "if True:",
     ["tests/test_pytest_plugin.py"]),
    ("torch's global RNG not restored after a property", "numerics/pytest_plugin.py",
     "        torch.set_rng_state(state)", "        del state",
     ["tests/test_pytest_plugin.py"]),
    ("project modules loaded only on request (the Hypothesis constant pool again selection-dependent)",
     "numerics/pytest_plugin.py", '@pytest.fixture(autouse=True, scope="session")\ndef _project_modules_loaded():',
     '@pytest.fixture(scope="session")\ndef _project_modules_loaded():', ["tests/test_pytest_plugin.py"]),
    ("lobpcg's pairs returned without the certificate's residual bound", "numerics/eigen.py",
     'if method in ("eigsh", "lobpcg", "block") and', 'if method in ("eigsh", "block") and',
     ["tests/test_eigen.py"]),
    ("subpackages' modules missed by the project module list", "numerics/pytest_plugin.py",
     "pkgutil.walk_packages(path, ", "pkgutil.iter_modules(path, ", ["tests/test_pytest_plugin.py"]),
    ("low-rank route keeps the Gram's ascending order (its Gram-or-SVD test compares the largest pair with the smallest)",
     "numerics/eigen.py",
     "    lam, U = _top_eigh(matmul(F.T, F), m)\n    lam, U = lam[::-1], U[:, ::-1]",
     "    lam, U = _top_eigh(matmul(F.T, F), m)", ["tests/test_eigen.py"]),
    ("the swapped layout drops its final transpose (b^T a^T, not a b)", "numerics/blas.py",
     "        return product(b.T, a.T).T", "        return product(b.T, a.T)", ["tests/test_blas.py"]),
    ("floor of a thin product without the swapped layout (held to a slower layout than the route runs)",
     "numerics/floor.py", "else (LIBRARIES, SWAPPED)", "else (LIBRARIES,)", ["tests/test_blas.py"]),
    ("lazy generator rebuilt on every call (two draws from one seed repeat each other)", "numerics/seeds.py",
     "return functools.cache(functools.partial(", "return (functools.partial(", ["tests/test_seeds.py"]),
    ("lazy generator checks its seed only at the first draw (a route that never draws accepts any seed)",
     "numerics/seeds.py", "functools.partial(numpy_generator, _numpy_seed(seed, default))",
     "functools.partial(numpy_generator, seed, default=default)", ["tests/test_seeds.py", "tests/test_eigen.py"]),
    ("low-rank map divides by lambda, not sqrt(lambda) (vectors not of unit norm)", "numerics/eigen.py",
     "swapped_matmul(F, U / np.sqrt(lam))", "swapped_matmul(F, U / lam)", ["tests/test_eigen.py"]),
    ("the pairs of a non-dense route left in the route's order (eigsh's come ascending)", "numerics/eigen.py",
     'if kind == "dense" else vectors[:, order]', 'if kind == "dense" else vectors', ["tests/test_eigen.py"]),
    ("round probe's phase counts the warm-up round's probe", "numerics/floor.py",
     "np.median(self.times[-rounds:])", "np.median(self.times[:rounds])", ["tests/test_bench.py"]),
    ("round probe keeps its last timing, not its best", "numerics/floor.py",
     "best = min(best, time.process_time() - start)", "best = time.process_time() - start", ["tests/test_bench.py"]),
    ("round probe's phase is the mean of the rounds' probes, not the median", "numerics/floor.py",
     "np.median(self.times[-rounds:])", "np.mean(self.times[-rounds:])", ["tests/test_bench.py"]),
    ("the CUDA clock reads the time before waiting for the queued kernels", "numerics/clock.py",
     "    torch.cuda.synchronize()\n    return time.perf_counter()",
     "    now = time.perf_counter()\n    torch.cuda.synchronize()\n    return now", ["tests/test_clock.py"]),
    ("bench --device never reaches the benchmarks (always the CPU)", "numerics/bench.py",
     "**{DEVICE_VARIABLE: device}", '**{DEVICE_VARIABLE: "cpu"}', ["tests/test_bench.py"]),
    ("no untimed warm-up round on CUDA (the first round pays the lazy set-up)", "numerics/bench.py",
     'return 1 if device == "cuda" else 0', "return 0", ["tests/test_bench.py"]),
    ("the CUDA peak memory keeps an earlier peak (statistic not reset on entry)", "numerics/memory.py",
     "        torch.cuda.reset_peak_memory_stats(self.device)\n", "", ["tests/test_memory.py"]),
    ("the CUDA peak memory counts what was allocated before the block", "numerics/memory.py",
     "max(torch.cuda.max_memory_allocated(self.device) - self._start, 0)",
     "max(torch.cuda.max_memory_allocated(self.device), 0)", ["tests/test_memory.py"]),
    ("ResNet E3's gap rule compares rhos closer than seed noise resolves (pairs 0.2 apart)", "numerics/report/resnet.py",
     "[checks.margin_gap_grows(rhos, row, apart=tol.RESNET_MARGIN_PAIRS_APART) for row in gaps]",
     "[checks.margin_gap_grows(rhos, row) for row in gaps]", ["tests/test_report_entries.py"]),
    ("ResNet E3's gap rule demands a fall, not a rise", "numerics/report/resnet.py",
     "[checks.margin_gap_grows(rhos, row, apart=tol.RESNET_MARGIN_PAIRS_APART) for row in gaps]",
     "[checks.pairwise_trend('gap', rhos, row, -1, apart=tol.RESNET_MARGIN_PAIRS_APART) for row in gaps]",
     ["tests/test_report_entries.py"]),
    ("the machine line names the GPU machine's host CPU, not its GPU", "numerics/bench.py",
     'processor = floor.get("processor") or data.get("machine_info", {}).get("cpu", {}).get("brand_raw")',
     'processor = data.get("machine_info", {}).get("cpu", {}).get("brand_raw") or floor.get("processor")',
     ["tests/test_bench.py"]),
    ("the Gram profile replaces a given clock by the device's", "numerics/structured_ntk.py",
     "if profile is not None and profile.clock is None:", "if profile is not None:", ["tests/test_resnet_ntk.py"]),
    ("peak memory without malloc_trim (memory freed earlier but kept by malloc is reused unseen)", "numerics/memory.py",
     '            ctypes.CDLL("libc.so.6").malloc_trim(0)\n', "            pass\n", ["tests/test_memory.py"]),
    ("the CUDA peak memory reads the current device, not the meter's", "numerics/memory.py",
     "self.bytes = max(torch.cuda.max_memory_allocated(self.device) - self._start, 0)",
     "self.bytes = max(torch.cuda.max_memory_allocated() - self._start, 0)", ["tests/test_memory.py"]),
    ("bench --full never reaches the benchmarks", "numerics/bench.py",
     "run_benchmarks(json_path, full=args.full,", "run_benchmarks(json_path, full=False,", ["tests/test_bench.py"]),
    ("bench prints no per-layer breakdown (the cases' layers left in the JSON)", "numerics/bench.py",
     "    layers = format_layer_tables(data)\n", '    layers = ""\n', ["tests/test_bench.py"]),
    ("per-layer breakdown's GFLOP/s from the MACs, not 2 MACs (a multiply-add is two flops)", "numerics/structured_ntk.py",
     "rate = 2 * row.macs / max(row.seconds, 1e-12) / 1e9", "rate = row.macs / max(row.seconds, 1e-12) / 1e9",
     ["tests/test_bench.py"]),
    ("bench runs pytest in the caller's directory, not the repository's", "numerics/bench.py",
     "cwd=ROOT, env=env,", "env=env,", ["tests/test_bench.py"]),
    ("bench --compare flags a case whose time / floor grew by exactly the factor", "numerics/bench.py",
     'flag = "  SLOWER" if ratio > factor else ""', 'flag = "  SLOWER" if ratio >= factor else ""', ["tests/test_bench.py"]),
    ("bench takes a case named baseline as the baseline over the one whose role says so", "numerics/bench.py",
     'return role == "baseline" if role else "baseline" in bench["name"]',
     'return "baseline" in bench["name"] or role == "baseline"', ["tests/test_bench.py"]),
]


def why_not_applicable(root: Path, path, old, new, tests) -> str | None:
    """Why the fault cannot be applied to the tree at ``root`` (None when it can): its original text must
    occur exactly once in its file, its faulty text must differ, and the test files it names must exist
    (tests/test_fault_round.py asserts this for every fault on the checkout)."""
    count = (root / path).read_text().count(old)
    if count != 1:
        return f"{path}: the original text occurs {count} times"
    if old == new:
        return f"{path}: the fault changes nothing"
    missing = [test for test in tests if not (root / test).is_file()]
    if not tests or missing:
        return f"missing test files: {missing or 'none named'}"
    return None


def run_fault(root: Path, work: Path, name, path, old, new, tests) -> tuple[str, float, str]:
    if work.exists():
        shutil.rmtree(work)
    def ignore(folder, names):       # build and VCS state everywhere; the report's output only at the root
        skipped = {".venv", ".git", "__pycache__", ".hypothesis", ".coverage"}
        return [n for n in names if n in skipped or (Path(folder) == root and n == "report")]

    shutil.copytree(root, work, ignore=ignore)
    reason = why_not_applicable(work, path, old, new, tests)
    if reason:
        return "NOT APPLIED", 0.0, reason
    target = work / path
    target.write_text(target.read_text().replace(old, new))
    env = {**os.environ, "PYTHONPATH": str(work), "SHORTCUT_NTK_PROFILE": "faults"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *tests],
                            cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    failed = [line.split(" - ")[0].replace("FAILED ", "") for line in result.stdout.splitlines()
              if line.startswith("FAILED ")]
    verdict = "CAUGHT" if failed else "MISSED" if result.returncode == 0 else f"ERROR (exit {result.returncode})"
    shown = "; ".join(name.split("::", 1)[1] for name in failed[:3]) + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
    return verdict, seconds, shown or (result.stdout.strip().splitlines() or [""])[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="fault names (substrings) to run")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fault_round"))
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    faults = [f for f in FAULTS if not args.only or any(o in f[0] for o in args.only)]
    print("| fault | file | verdict | caught by | s |\n|---|---|---|---|---|", flush=True)
    missed = 0
    for name, path, old, new, tests in faults:
        verdict, seconds, detail = run_fault(root, args.workdir, name, path, old, new, tests)
        missed += verdict != "CAUGHT"
        print(f"| {name} | {path} | {verdict} | {detail} | {seconds:.0f} |", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
