"""Fast empirical NTKs of conv nets: chunked per-sample gradients and per-layer structured Grams.

K[i, j] = sum over ALL parameters theta of df(x_i)/dtheta . df(x_j)/dtheta (models with BatchNorm in
eval mode). A model with k outputs per sample ((n, k)) gets the trace kernel, the mean over a of the
per-output kernels K_aa, or with outputs="full" every K_ab(x_i, x_j) = df_a(x_i)/dtheta . df_b(x_j)/dtheta,
shape (n1, n2, k, k) (numerics.kernels.empirical_ntk). Three routes, all exact up to rounding:

"chunked" (``chunked_gram``): per-sample gradients of a chunk of samples by torch.func
    vmap(grad), K[I, J] = sum over parameter tensors G_I G_J^T. Only two chunks of gradients
    (2 x chunk x P numbers, plus vmap's transient one) live at a time, never n x P; the price is
    recomputing column chunks (n (n/chunk + 1) / 2 per-sample gradients in all). k outputs: per-sample
    Jacobians (vmap(jacrev), k times the gradients) contracted by numerics.ntk_products.contract.

"structured" (``structured_gram``): one batched forward and backward capture, for every
    parametrised layer, its input and its output cotangent per sample. In eval mode sample i's
    output depends on input i only, so the backward of sum_i f(x_i) gives each sample's own
    cotangent g_i = df(x_i)/d(layer output of sample i). For a conv (or linear) weight W of shape
    C_out x D, D = C_in k k, with u_i(p) in R^D the input patch at output position p (unfold) and
    g_i(p) in R^C_out the cotangent there,
        dW_i = sum_p g_i(p) u_i(p)^T,
        <dW_i, dW_j> = sum_{p, q} (g_i(p) . g_j(q)) (u_i(p) . u_j(q)).
    Per layer the cheaper of two exact evaluations is used (S = positions per sample):
      explicit    form dW_i (cost S C_out D per sample), then dW_I dW_J^T (C_out D per pair);
      structured  patch Gram A = U_I U_J^T and cotangent Gram B = G_I G_J^T over all positions,
                  K_IJ = sum_{p,q} A * B (cost S^2 (D + C_out) per pair),
    structured when S^2 (D + C_out) < C_out D: the deep layers (few positions, many weights)
    that hold most of a ResNet's parameters. Biases (db_i = sum_p g_i(p)) and eval-mode
    BatchNorm affine parameters (dgamma_i = sum_p g_i(p) xhat_i(p), dbeta_i = sum_p g_i(p),
    xhat = (x - running_mean) / sqrt(running_var + eps)) have small per-sample gradients that
    are formed explicitly. Supported layers: Conv2d (zeros padding, groups 1), Linear and
    BatchNorm with running statistics; anything else raises ValueError (use "chunked").
    Contractions run in the model's dtype; K is accumulated in float64. k outputs: one capture per
    output a (the backward of sum_i f_a(x_i); k times the stored activations), and K_ab is the Gram
    above between the captures of outputs a and b.

matrix-free (``matrix_free_eigenpairs``): numerics.kernels.ntk_operator (vjp then jvp) as a
    LinearOperator handed to numerics.eigen.top_eigenpairs; K is never formed.

Memory: ``memory`` (bytes) bounds each route's working blocks (two gradient chunks, or the
A and B blocks); the structured route additionally stores every layer's inputs and cotangents
for all n samples (the network's activations, a few hundred kB per 32x32 image at width 64).
The device is the one X and the model live on (CPU or CUDA). Progress bars (tqdm) show when
stderr is a terminal, or when ``progress=True``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from numerics.eigen import top_eigenpairs
from numerics.ntk_products import contract, ntk_operator
from numerics.progress import bar
from numerics.validation import check_ntk_inputs

DEFAULT_MEMORY = 512 * 2**20
_BATCHNORM = nn.modules.batchnorm._BatchNorm


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(start, min(n, start + size)) for start in range(0, n, size)]


def _blocks(n1: int, n2: int, size: int, symmetric: bool):
    """(rows, cols) slice pairs covering K (upper triangle incl. diagonal when symmetric)."""
    rows, cols = _chunks(n1, size), _chunks(n2, size)
    return [(r, c) for a, r in enumerate(rows) for b, c in enumerate(cols) if not symmetric or b >= a]


def _swap(B: torch.Tensor) -> torch.Tensor:
    """K[j, i] from K[i, j]: the sample axes transposed, and for a full kernel (n1, n2, k, k) the output
    axes too (K[j, i, b, a] = K[i, j, a, b])."""
    return B.T if B.ndim == 2 else B.permute(1, 0, 3, 2)


def _mirror_upper(K: torch.Tensor, size: int = 1024) -> torch.Tensor:
    """Fill the strict lower triangle of K (n x n, or n x n x k x k) from its upper triangle, in place,
    one row block at a time (no n x n temporary)."""
    for rows in _chunks(K.shape[0], size):
        K[rows, :rows.start] = _swap(K[:rows.start, rows])
        block = K[rows, rows]
        if K.ndim == 2:
            K[rows, rows] = torch.triu(block) + torch.triu(block, 1).T
        else:
            lower = torch.ones(block.shape[:2], dtype=torch.bool, device=K.device).tril_(-1)
            K[rows, rows] = torch.where(lower[:, :, None, None], _swap(block), block)
    return K


def _validate(model: nn.Module, X1: torch.Tensor, X2, outputs: str = "trace") -> int:
    """numerics.validation.check_ntk_inputs (a deterministic per-sample forward, finite tensors of the
    model's dtype, matching shapes); returns k, the outputs per sample."""
    return check_ntk_inputs(model, X1, X2, outputs)[1]


def _check_memory(memory) -> int:
    if isinstance(memory, bool) or not isinstance(memory, (int, np.integer)) or memory < 2**20:
        raise ValueError(f"memory must be an int number of bytes >= 2**20, got {memory!r}")
    return int(memory)


# ---------------------------------------------------------------------------------------------
# (1) chunked per-sample gradients


def chunked_gram(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *, chunk: int | None = None,
                 memory: int = DEFAULT_MEMORY, progress=None, outputs: str = "trace") -> torch.Tensor:
    """K(X1, X2) from per-sample gradients of chunks of samples (vmap(grad); vmap(jacrev) for k > 1
    outputs); float64 result, (n1, n2), or (n1, n2, k, k) for outputs="full".

    ``chunk`` samples per block; default: as many as fit three gradient chunks (k gradients per sample)
    in ``memory`` (the cached row chunk, the column chunk, and vmap's transient per-sample gradients).
    """
    k = _validate(model, X1, X2, outputs)
    X2 = X1 if X2 is None else X2
    params = {name: p.detach() for name, p in model.named_parameters()}
    n_params = sum(p.numel() for p in params.values())
    if chunk is None:
        chunk = max(1, _check_memory(memory) // (3 * k * n_params * X1.element_size()))
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")

    def output(p, x):
        return functional_call(model, p, (x[None],)).reshape(() if k == 1 else (k,))

    gradients = vmap(grad(output) if k == 1 else jacrev(output), in_dims=(None, 0))

    def per_sample(X):  # {name: (b, k, P_t)}
        return {name: g.reshape(X.shape[0], k, -1) for name, g in gradients(params, X).items()}

    symmetric = X2 is X1
    shape = (X1.shape[0], X2.shape[0]) + ((k, k) if outputs == "full" else ())
    K = torch.zeros(shape, dtype=torch.float64, device=X1.device)
    cached = (None, None)
    for rows, cols in bar(_blocks(X1.shape[0], X2.shape[0], chunk, symmetric), progress=progress,
                           desc="NTK blocks (chunked)", leave=False):
        if cached[0] != rows:
            cached = (rows, per_sample(X1[rows]))
        left = cached[1]
        right = left if symmetric and rows == cols else per_sample(X2[cols])
        K[rows, cols] = sum(contract(left[name], right[name], outputs) for name in params).to(torch.float64)
    return _mirror_upper(K) if symmetric else K


# ---------------------------------------------------------------------------------------------
# (3) per-layer structured contractions


class _Weight:
    """One conv or linear weight: inputs and output cotangents of all n samples (rows filled per batch)."""

    def __init__(self, module: nn.Module):
        self.module = module
        self.inputs = self.cotangents = None

    def store(self, rows: slice, n: int, inputs: torch.Tensor, cotangent: torch.Tensor) -> None:
        cotangent = self.positions(cotangent)
        if self.inputs is None:
            self.inputs = inputs.new_empty((n,) + inputs.shape[1:])
            self.cotangents = cotangent.new_empty((n,) + cotangent.shape[1:])
        self.inputs[rows] = inputs
        self.cotangents[rows] = cotangent

    def positions(self, output: torch.Tensor) -> torch.Tensor:
        """(b, S, C_out): an output (or its cotangent) with the output positions as rows."""
        if isinstance(self.module, nn.Conv2d):
            return output.flatten(2).transpose(1, 2)
        return output.reshape(output.shape[0], -1, output.shape[-1])

    def patches(self, rows: slice) -> torch.Tensor:
        """(b, S, D): the input patch u(p) at every output position p."""
        x, m = self.inputs[rows], self.module
        if isinstance(m, nn.Conv2d):
            return F.unfold(x, m.kernel_size, dilation=m.dilation, padding=m.padding, stride=m.stride).transpose(1, 2)
        return x.reshape(x.shape[0], -1, x.shape[-1])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, D, C_out)."""
        s, c_out = self.cotangents.shape[1:]
        return s, self.module.weight[0].numel(), c_out

    def structured(self) -> bool:
        s, d, c_out = self.shape
        return s * s * (d + c_out) < c_out * d

    def per_sample(self, rows: slice) -> torch.Tensor:
        """(b, C_out D): explicit per-sample weight gradients dW_i = sum_p g_i(p) u_i(p)^T."""
        return torch.bmm(self.cotangents[rows].transpose(1, 2), self.patches(rows)).flatten(1)


def _channel_sums(module: nn.Module, t: torch.Tensor) -> torch.Tensor:
    """(b, C): t summed over every position (all axes but the sample and the channel axis)."""
    if isinstance(module, nn.Linear):
        return t.reshape(t.shape[0], -1, t.shape[-1]).sum(1)
    return t.flatten(2).sum(2) if t.ndim > 2 else t


def _small_gradients(module: nn.Module, inputs: torch.Tensor, cotangent: torch.Tensor) -> list[torch.Tensor]:
    """Per-sample gradients (b, C) of a bias, and of BatchNorm's affine weight (module docstring)."""
    grads = []
    if isinstance(module, _BATCHNORM) and module.weight is not None:
        shape = (1, -1) + (1,) * (inputs.ndim - 2)
        scale = torch.sqrt(module.running_var.reshape(shape) + module.eps)
        xhat = (inputs - module.running_mean.reshape(shape)) / scale
        grads.append(_channel_sums(module, cotangent * xhat))
    if getattr(module, "bias", None) is not None:
        grads.append(_channel_sums(module, cotangent))
    return grads


def _layers(model: nn.Module) -> list[nn.Module]:
    """Every module that owns parameters; ValueError for layers the structured route cannot take."""
    layers = []
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        if not own:
            continue
        where = f"module {name or '<root>'!r} ({type(module).__name__})"
        if isinstance(module, nn.Conv2d):
            if module.groups != 1 or module.padding_mode != "zeros" or isinstance(module.padding, str):
                raise ValueError(f"{where}: the structured NTK needs groups=1 and numeric zero padding; "
                                 "use method='chunked'")
        elif isinstance(module, _BATCHNORM):
            if module.running_mean is None or module.training:
                raise ValueError(f"{where}: BatchNorm must use running statistics (eval mode, track_running_stats)")
        elif not isinstance(module, nn.Linear):
            raise ValueError(f"{where}: the structured NTK supports Conv2d, Linear and BatchNorm only; "
                             "use method='chunked'")
        if set(own) - {"weight", "bias"}:
            raise ValueError(f"{where}: unexpected parameters {sorted(set(own) - {'weight', 'bias'})}")
        layers.append(module)
    return layers


def _capture(model: nn.Module, X: torch.Tensor, layers, batch_size: int, progress, column: int):
    """Per-sample layer inputs and cotangents (for weights), and the small per-sample gradients, of the
    model's output f_column (a column of an (n, k) output; 0 for an (n,) one)."""
    n = X.shape[0]
    weights = {m: _Weight(m) for m in layers if not isinstance(m, _BATCHNORM)}
    small = None
    records = {}

    def hook(module, args, output):
        if module in records:
            raise ValueError(f"{type(module).__name__} is called twice in one forward (shared weights); "
                             "the structured NTK needs each parametrised layer used once; use method='chunked'")
        records[module] = (args[0].detach().clone(), output)
        return output.clone()  # later in-place ops act on the clone, not on the recorded output

    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        for rows in bar(_chunks(n, batch_size), progress=progress, desc="NTK capture"):
            records.clear()
            with torch.enable_grad():
                out = model(X[rows].detach().requires_grad_(True))
                used = [m for m in layers if m in records]
                target = out.reshape(out.shape[0], -1)[:, column].sum()
                cots = torch.autograd.grad(target, [records[m][1] for m in used], allow_unused=True)
            parts = []
            for module in layers:
                if module not in records:
                    continue
                inputs, output = records[module]
                cot = cots[used.index(module)]
                cot = torch.zeros_like(output) if cot is None else cot.detach()
                if module in weights:
                    weights[module].store(rows, n, inputs, cot)
                parts += _small_gradients(module, inputs, cot)
            block = torch.cat(parts, 1) if parts else X.new_zeros(rows.stop - rows.start, 0)
            if small is None:
                small = block.new_empty((n, block.shape[1]))
            small[rows] = block
    finally:
        for h in handles:
            h.remove()
    return [w for w in weights.values() if w.inputs is not None], small


def _weight_gram(K: torch.Tensor, left: _Weight, right: _Weight, symmetric: bool, memory: int,
                 form: str, chunk: int | None) -> None:
    """K += <dW_i, dW_j> for one layer, by the explicit or structured form (``form``; "auto": cheaper)."""
    s, d, c_out = left.shape
    size = left.inputs.element_size()
    structured = left.structured() if form == "auto" else form == "structured"
    if chunk is None and structured:  # patches of both chunks, then A and B ((chunk S)^2 each)
        chunk = max(1, min(int(math.sqrt(memory / (4 * size))) // s, memory // (4 * size * s * (d + c_out))))
    elif chunk is None:  # patches and per-sample gradients of both chunks
        chunk = max(1, memory // (2 * size * d * (c_out + s)))
    cached = (None, None)
    for rows, cols in _blocks(K.shape[0], K.shape[1], chunk, symmetric):
        if structured:
            u_i, u_j = left.patches(rows), right.patches(cols)
            g_i, g_j = left.cotangents[rows], right.cotangents[cols]
            A = u_i.reshape(-1, d) @ u_j.reshape(-1, d).T
            A.mul_(g_i.reshape(-1, c_out) @ g_j.reshape(-1, c_out).T)
            block = A.view(u_i.shape[0], s, u_j.shape[0], s).sum((1, 3))
        else:
            if cached[0] != rows:
                cached = (rows, left.per_sample(rows))
            w_j = cached[1] if symmetric and rows == cols else right.per_sample(cols)
            block = cached[1] @ w_j.T
        K[rows, cols] += block.to(torch.float64)


FORMS = ("auto", "explicit", "structured")


def structured_gram(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
                    batch_size: int = 256, memory: int = DEFAULT_MEMORY, chunk: int | None = None,
                    form: str = "auto", progress=None, outputs: str = "trace") -> torch.Tensor:
    """K(X1, X2) by per-layer structured contractions (module docstring); float64 result, (n1, n2), or
    (n1, n2, k, k) for outputs="full".

    ``batch_size``: samples per capture forward/backward; ``memory``: bytes per working block;
    ``chunk``: samples per block (overrides the memory rule); ``form``: "auto" (per layer, the
    cheaper), or "explicit" / "structured" for every weight (both are exact; tests use them).
    """
    for name, value in (("batch_size", batch_size), ("chunk", 1 if chunk is None else chunk)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    memory = _check_memory(memory)
    k = _validate(model, X1, X2, outputs)
    layers = _layers(model)
    symmetric = X2 is None or X2 is X1
    captures1 = [_capture(model, X1, layers, batch_size, progress, a) for a in range(k)]
    captures2 = captures1 if symmetric else [_capture(model, X2, layers, batch_size, progress, a) for a in range(k)]

    def gram(a: int, b: int) -> torch.Tensor:
        """K_ab(X1, X2) = sum_theta df_a(X1)/dtheta . df_b(X2)/dtheta, (n1, n2)."""
        (weights1, small1), (weights2, small2) = captures1[a], captures2[b]
        same = symmetric and a == b
        K = small1.to(torch.float64) @ small2.to(torch.float64).T
        by_module = {w.module: w for w in weights2}
        for left in bar(weights1, progress=progress, desc="NTK layers"):
            _weight_gram(K, left, by_module[left.module], same, memory, form, chunk)
        return _mirror_upper(K) if same else K

    if outputs == "trace":
        K = gram(0, 0)
        for a in range(1, k):
            K += gram(a, a)
        return K if k == 1 else K.div_(k)
    K = torch.empty(X1.shape[0], (X1 if symmetric else X2).shape[0], k, k, dtype=torch.float64, device=X1.device)
    for a in range(k):
        for b in range(k):
            K[:, :, a, b] = K[:, :, b, a].T if symmetric and b < a else gram(a, b)
    return K


# ---------------------------------------------------------------------------------------------
# (2) matrix-free top-k


def matrix_free_eigenpairs(model: nn.Module, X: torch.Tensor, k: int, *, method: str = "block", tol=None, seed=0):
    """Top-k eigenpairs of K(X, X) without forming K: numerics.kernels.ntk_operator (vjp then jvp)
    handed to numerics.eigen.top_eigenpairs. ``tol`` (relative residual) defaults to the operator's
    rounding floor: 1e-12 in float64, 100 x float32 eps = 1.2e-5 in float32 (a float32 product
    cannot certify residuals below a few eps |lambda_1|)."""
    _validate(model, X, None)
    if tol is None:
        tol = 1e-12 if X.dtype == torch.float64 else 100 * torch.finfo(X.dtype).eps
    return top_eigenpairs(ntk_operator(model, X), k, method=method, tol=tol, seed=seed)
