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
    C_out x D, D = C_in k k, with u_i(p) in R^D the input patch at output position p and
    g_i(p) in R^C_out the cotangent there,
        dW_i = sum_p g_i(p) u_i(p)^T,
        <dW_i, dW_j> = sum_{p, q} (g_i(p) . g_j(q)) (u_i(p) . u_j(q)).
    Per layer the cheaper of two exact evaluations is used (S = positions per sample):
      explicit    form dW_i (cost S C_out D per sample), then dW_I dW_J^T (C_out D per pair);
      structured  patch Gram A = U_I U_J^T and cotangent Gram B = G_I G_J^T over all positions,
                  K_IJ = sum_{p,q} A * B (cost S^2 (D + C_out) per pair),
    structured when S^2 (D + C_out) < C_out D: the deep layers (few positions, many weights)
    that hold most of a ResNet's parameters. Layout and blocking (all exact): the capture runs in the
    channels-last memory format (4-D inputs; faster convolutions, and the stored layout below without
    a transposing copy), conv inputs are stored zero-padded and channels-last, so a patch matrix is one
    strided copy with contiguous channel runs (columns ordered kernel row, kernel column, channel on
    both sides), kernel offsets that only ever read padding are dropped (at 1x1 layer4 positions 8 of
    9), a block's features (per-sample gradients, or patch and cotangent rows) are formed once when all
    columns' fit in ``memory``, into buffers every layer reuses, products are taken ROWS_* rows at a
    time, and a symmetric K's diagonal squares by self-Grams (BLAS syrk, one triangle), so no pair
    beyond the upper triangle is computed. ``profile`` (a GramProfile) records each step's seconds and
    multiply-adds.
    Biases (db_i = sum_p g_i(p)) and eval-mode BatchNorm affine parameters (dgamma_i = sum_p
    g_i(p) xhat_i(p), dbeta_i = sum_p g_i(p), xhat = (x - running_mean) / sqrt(running_var + eps))
    have small per-sample gradients that are formed explicitly. Supported layers: Conv2d (zeros
    padding, groups 1), Linear and BatchNorm with running statistics; anything else raises
    ValueError (use "chunked").
    Contractions run in the model's dtype; K is accumulated in float64. k outputs: one capture per
    output a (the backward of sum_i f_a(x_i); k times the stored activations), and K_ab is the Gram
    above between the captures of outputs a and b.

matrix-free (``matrix_free_eigenpairs``): numerics.kernels.ntk_operator (vjp then jvp) as a
    LinearOperator handed to numerics.eigen.top_eigenpairs; K is never formed.

Memory: ``memory`` (bytes) bounds each route's working blocks (two gradient chunks, or the kept
features and the A and B blocks); the structured route additionally stores every layer's inputs
(padded) and cotangents for all n samples (the network's activations, about 0.6 MB per 32x32 image
at width 64).
The device is the one X and the model live on (CPU or CUDA). Progress bars (tqdm) show when
stderr is a terminal, or when ``progress=True``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from numerics.blas import self_gram
from numerics.clock import device_clock
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


@dataclass
class LayerCost:
    """One step of a structured Gram: its process (CPU) seconds, the multiply-adds it performed, and the
    (m, k, n) of its main matrix product (the shape a GEMM floor for it is timed at)."""
    name: str
    seconds: float
    macs: int
    gemm: tuple[int, int, int]


@dataclass
class GramProfile:
    """Per-layer costs of ``structured_gram(..., profile=GramProfile())``, one row per step in call order:
    "capture" (the batched forward and backward; the forward's MACs counted, the backward's not), then
    SMALL, the biases' and BatchNorm parameters' Gram (when the model has any), then every weight's
    contraction under its module name (MACs of its matrix products as performed: the
    per-sample gradient formation and the block products, a diagonal square's self-Gram one triangle
    of r (r + 1) / 2 products; the elementwise A * B and its position sums, 1 / (D + C_out) of the
    structured products, not counted).
    k outputs repeat the names; ``merged`` sums them.  ``clock`` times the rows: None (the default) is
    the clock of the device the Gram runs on (numerics.clock.device_clock: CPU seconds on the CPU,
    synchronised wall seconds on CUDA), which ``structured_gram`` sets at its first call."""
    layers: list[LayerCost] = field(default_factory=list)
    clock: Callable[[], float] | None = None

    @property
    def seconds(self) -> float:
        return sum(row.seconds for row in self.layers)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.layers)

    def merged(self) -> list[LayerCost]:
        """Rows of one name summed (first occurrence's order and GEMM shape)."""
        rows: dict[str, LayerCost] = {}
        for row in self.layers:
            old = rows.get(row.name)
            rows[row.name] = row if old is None else LayerCost(row.name, old.seconds + row.seconds,
                                                              old.macs + row.macs, old.gemm)
        return list(rows.values())

    def table(self) -> str:
        """One line per layer (seconds, GMAC, GFLOP/s = 2 MACs / seconds, share of the time), then the total."""
        lines = [f"{'layer':24s} {'seconds':>8s} {'GMAC':>9s} {'GFLOP/s':>8s} {'time %':>6s}"]
        total = max(self.seconds, 1e-12)
        for row in self.merged() + [LayerCost("total", self.seconds, self.macs, (0, 0, 0))]:
            rate = 2 * row.macs / max(row.seconds, 1e-12) / 1e9
            lines.append(f"{row.name:24s} {row.seconds:8.3f} {row.macs / 1e9:9.2f} {rate:8.1f} "
                         f"{100 * row.seconds / total:6.1f}")
        return "\n".join(lines)


def _valid_offsets(size: int, out: int, kernel: int, stride: int, dilation: int, padding: int) -> tuple[int, int]:
    """[first, last) kernel offsets a along one axis that touch the input at some output position o:
    0 <= o stride - padding + a dilation < size for some 0 <= o < out. The other offsets only ever see
    zero padding (their patch columns are zero for every sample; dropping them changes no product)."""
    valid = [a for a in range(kernel)
             if (out - 1) * stride - padding + a * dilation >= 0 and a * dilation - padding < size]
    return (valid[0], valid[-1] + 1) if valid else (0, 0)


class _Weight:
    """One conv or linear weight: inputs and output cotangents of all n samples (rows filled per batch).

    Conv inputs are stored zero-padded and channels-last, (n, H + 2 pad, W + 2 pad, C_in), so that a patch
    matrix is one strided copy (no im2col through F.unfold) with contiguous channel runs; its columns are
    ordered (kernel row, kernel column, channel), the same on both sides of every product. Linear inputs are
    stored as (n, S, D) and every cotangent as (n, S, C_out), positions as rows."""

    def __init__(self, module: nn.Module, name: str):
        self.module, self.name = module, name
        self.inputs = self.cotangents = None
        self.offsets = None

    def store_inputs(self, rows: slice, n: int, inputs: torch.Tensor) -> None:
        """Copy the layer's inputs of samples ``rows`` into the stored layout (called by the forward hook,
        before any later in-place operation could change them; a conv's padding is zeroed once, when the
        n-sample buffer is allocated, and its interior written here)."""
        m = self.module
        if isinstance(m, nn.Conv2d):
            (ph, pw), (h, w) = m.padding, inputs.shape[2:]
            if self.inputs is None:
                self.inputs = inputs.new_zeros((n, h + 2 * ph, w + 2 * pw, inputs.shape[1]))
            self.inputs[rows, ph:ph + h, pw:pw + w] = inputs.permute(0, 2, 3, 1)
            return
        inputs = inputs.reshape(inputs.shape[0], -1, inputs.shape[-1])
        if self.inputs is None:
            self.inputs = inputs.new_empty((n,) + inputs.shape[1:])
        self.inputs[rows] = inputs

    def store_cotangents(self, rows: slice, n: int, cotangent: torch.Tensor) -> None:
        """Copy the output cotangents of samples ``rows`` as (b, S, C_out), positions as rows."""
        m = self.module
        if isinstance(m, nn.Conv2d):
            if self.offsets is None:
                size = [self.inputs.shape[1 + ax] - 2 * m.padding[ax] for ax in (0, 1)]
                self.offsets = [_valid_offsets(size[ax], cotangent.shape[2 + ax], m.kernel_size[ax],
                                               m.stride[ax], m.dilation[ax], m.padding[ax]) for ax in (0, 1)]
            cotangent = cotangent.flatten(2).transpose(1, 2)
        else:
            cotangent = cotangent.reshape(cotangent.shape[0], -1, cotangent.shape[-1])
        if self.cotangents is None:
            self.cotangents = cotangent.new_empty((n,) + cotangent.shape[1:])
        self.cotangents[rows] = cotangent

    def patches(self, rows: slice) -> torch.Tensor:
        """(b, S, D): the input patch u(p) at every output position p (always-zero offsets dropped)."""
        x, m = self.inputs[rows], self.module
        if not isinstance(m, nn.Conv2d):
            return x
        (a0, a1), (c0, c1) = self.offsets
        b, _, _, c_in = x.shape
        s_b, s_h, s_w, _ = x.stride()
        h_out = self.cotangents.shape[1] // self.out_width
        window = x.as_strided((b, h_out, self.out_width, a1 - a0, c1 - c0, c_in),
                              (s_b, m.stride[0] * s_h, m.stride[1] * s_w, m.dilation[0] * s_h, m.dilation[1] * s_w, 1),
                              x.storage_offset() + a0 * m.dilation[0] * s_h + c0 * m.dilation[1] * s_w)
        return window.reshape(b, -1, (a1 - a0) * (c1 - c0) * c_in)

    @property
    def out_width(self) -> int:
        """Output positions per row: (padded width - dilation (kernel - 1) - 1) // stride + 1."""
        m = self.module
        width = self.inputs.shape[2] - m.dilation[1] * (m.kernel_size[1] - 1) - 1
        return width // m.stride[1] + 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, D, C_out), D the patch length without the always-zero offsets."""
        s, c_out = self.cotangents.shape[1:]
        if not isinstance(self.module, nn.Conv2d):
            return s, self.inputs.shape[-1], c_out
        (a0, a1), (c0, c1) = self.offsets
        return s, (a1 - a0) * (c1 - c0) * self.inputs.shape[-1], c_out

    def structured(self) -> bool:
        s, d, c_out = self.shape
        return s * s * (d + c_out) < c_out * d

    def form_gradients(self, rows: slice, out: torch.Tensor, batch: int = 64) -> torch.Tensor:
        """(b, C_out D): explicit per-sample weight gradients dW_i = sum_p g_i(p) u_i(p)^T of samples
        ``rows``, formed ``batch`` samples at a time (bounded patch copies) into ``out`` (b, C_out, D)."""
        for part in _chunks(rows.stop - rows.start, batch):
            sub = slice(rows.start + part.start, rows.start + part.stop)
            torch.bmm(self.cotangents[sub].transpose(1, 2), self.patches(sub), out=out[part])
        return out.flatten(1)

    def forward_macs(self) -> int:
        """Multiply-adds of this layer's forward over all n samples: n S D_full C_out."""
        n, s, c_out = self.cotangents.shape
        return n * s * self.module.weight[0].numel() * c_out


def _channel_sums(module: nn.Module, t: torch.Tensor) -> torch.Tensor:
    """(b, C): t summed over every position (all axes but the sample and the channel axis)."""
    if isinstance(module, nn.Linear):
        return t.reshape(t.shape[0], -1, t.shape[-1]).sum(1)
    return t.flatten(2).sum(2) if t.ndim > 2 else t


def _small_gradients(module: nn.Module, inputs: torch.Tensor | None, cotangent: torch.Tensor) -> list[torch.Tensor]:
    """Per-sample gradients (b, C) of a bias, and of BatchNorm's affine weight (module docstring; ``inputs``
    is read for BatchNorm only, None for a weight's layer)."""
    grads = []
    if isinstance(module, _BATCHNORM) and module.weight is not None:
        shape = (1, -1) + (1,) * (inputs.ndim - 2)
        scale = torch.sqrt(module.running_var.reshape(shape) + module.eps)
        xhat = (inputs - module.running_mean.reshape(shape)) / scale
        grads.append(_channel_sums(module, cotangent * xhat))
    if getattr(module, "bias", None) is not None:
        grads.append(_channel_sums(module, cotangent))
    return grads


def _layers(model: nn.Module) -> dict[nn.Module, str]:
    """Every module that owns parameters, with its name; ValueError for layers the structured route
    cannot take."""
    layers = {}
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
        layers[module] = name or type(module).__name__
    return layers


def _channels_last_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached channels-last copies of the model's 4-D (conv) weights, for ``_forward``."""
    return {name: p.detach().contiguous(memory_format=torch.channels_last)
            for name, p in model.named_parameters() if p.ndim == 4}


def _forward(model: nn.Module, x: torch.Tensor, channels_last: dict | None) -> torch.Tensor:
    """model(x) with x as a leaf that requires grad; with ``channels_last`` (``_channels_last_weights``)
    the forward runs in the channels-last memory format: x and the conv weights NHWC in memory, so
    oneDNN's convolutions and their backward run faster and every conv input and output cotangent is
    already in the stored channels-last layout (a plain copy instead of a transposing one). The values are
    the same up to rounding; the user's model is not changed (torch.func.functional_call). Measured
    (ResNet-18 width 64, n = 512, one thread, 2026-12-03): capture 2.45-2.80 s -> 1.46-1.50 s."""
    x = x.detach()
    if channels_last is None:
        return model(x.requires_grad_(True))
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    return functional_call(model, channels_last, (x,))


def _now(profile: GramProfile | None) -> float:
    """The profile's clock now (0 without a profile: nothing is timed then)."""
    return profile.clock() if profile is not None else 0.0


def _capture(model: nn.Module, X: torch.Tensor, layers: dict, batch_size: int, progress, column: int,
             profile: GramProfile | None):
    """Per-sample layer inputs and cotangents (for weights), and the small per-sample gradients, of the
    model's output f_column (a column of an (n, k) output; 0 for an (n,) one)."""
    start = _now(profile)
    n = X.shape[0]
    weights = {m: _Weight(m, name) for m, name in layers.items() if not isinstance(m, _BATCHNORM)}
    small = None
    records = {}

    def hook(module, args, output):
        if module in records:
            raise ValueError(f"{type(module).__name__} is called twice in one forward (shared weights); "
                             "the structured NTK needs each parametrised layer used once; use method='chunked'")
        if module in weights:   # stored now, before a later in-place op can change them
            weights[module].store_inputs(rows, n, args[0].detach())
            records[module] = (None, output)
        else:                   # BatchNorm: its inputs give xhat for the small gradients
            records[module] = (args[0].detach().clone(), output)
        return output.clone()  # later in-place ops act on the clone, not on the recorded output

    channels_last = _channels_last_weights(model) if X.ndim == 4 else None
    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        for rows in bar(_chunks(n, batch_size), progress=progress, desc="NTK capture"):
            records.clear()
            with torch.enable_grad():
                try:
                    out = _forward(model, X[rows], channels_last)
                except RuntimeError:
                    if channels_last is None:
                        raise
                    channels_last = None    # e.g. a .view of a conv output, which channels-last strides refuse
                    records.clear()
                    out = _forward(model, X[rows], None)
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
                    weights[module].store_cotangents(rows, n, cot)
                parts += _small_gradients(module, inputs, cot)
            block = torch.cat(parts, 1) if parts else X.new_zeros(rows.stop - rows.start, 0)
            if small is None:
                small = block.new_empty((n, block.shape[1]))
            small[rows] = block
    finally:
        for h in handles:
            h.remove()
    captured = [w for w in weights.values() if w.inputs is not None]
    if profile is not None and captured:
        top = max(captured, key=_Weight.forward_macs)   # the forward's largest product, per batch
        shape = (min(batch_size, n) * top.cotangents.shape[1], top.module.weight[0].numel(), top.cotangents.shape[2])
        profile.layers.append(LayerCost("capture", profile.clock() - start,
                                        sum(w.forward_macs() for w in captured), shape))
    return captured, small


class _Workspace:
    """Feature buffers reused by every layer of one structured_gram call, one per slot ("rows",
    "columns"): a layer's per-sample gradients are formed into memory an earlier layer already touched.
    A fresh block is mapped by the allocator on first write, page by page: forming layer2's 1.2 GB of
    gradients at n = 2048 took 2.60 s into a new block and 0.88 s into a reused one (one thread,
    2026-12-03). On the CPU a slot is allocated once at ``capacity`` bytes (the ``memory`` bound of the
    features; untouched pages cost nothing), so that growing layers do not map fresh blocks; elsewhere
    (CUDA, where allocation commits memory) at the size asked, reallocated when a layer needs more."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._flat: dict[str, torch.Tensor] = {}

    def take(self, slot: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """An uninitialised tensor of ``shape`` with ``like``'s dtype and device, in the slot's buffer."""
        numel = math.prod(shape)
        flat = self._flat.get(slot)
        if flat is None or flat.numel() < numel or flat.dtype != like.dtype or flat.device != like.device:
            self._flat.pop(slot, None)          # freed before the new one is allocated
            reserve = self.capacity // like.element_size() if like.device.type == "cpu" else 0
            try:
                flat = like.new_empty(max(numel, reserve))
            except RuntimeError:                # a capacity beyond what the system will map
                flat = like.new_empty(numel)
            self._flat[slot] = flat
        return flat[:numel].view(shape)


#: rows per block of a weight's products: explicit (per-sample gradients of ROWS_EXPLICIT samples against
#: the columns) and structured (ROWS_STRUCTURED patch rows); large enough for one-thread GEMM to reach
#: ~90% of its rate (measured: 135-150 of 155-175 GFLOP/s), small enough that the structured form's
#: diagonal blocks (computed in full) add only ~ rows / n to the products.
ROWS_EXPLICIT, ROWS_STRUCTURED = 256, 1024
#: samples per diagonal square of the explicit form: one self-Gram (numerics.blas.self_gram, syrk) of this
#: many samples' gradients. syrk computes one triangle, at 80-91 GFLOP/s from 512 rows up against GEMM's
#: 86-89, but at 45-80 with 256 rows (one thread, float32, k = 9408-147456, 2026-12-03); at n = 2048 the
#: squares cut layer2's products from 2.36 M sample pairs (rows of 256 against the columns from their
#: first on: every 256 x 256 square in full) to 2.10 M (the upper triangle).
SQUARE_EXPLICIT = 1024
#: default working memory of structured_gram: at n = 2048 (width 64, 3x32x32) it holds every explicit
#: layer's per-sample gradients (layer2's 1.2 GB: 36 s instead of 40 s for the Gram, measured).
STRUCTURED_MEMORY = 2**31


def _weight_gram(K: torch.Tensor, left: _Weight, right: _Weight, symmetric: bool, memory: int,
                 form: str, chunk: int | None, profile: GramProfile | None, workspace: _Workspace) -> None:
    """K += <dW_i, dW_j> for one layer, by the explicit or structured form (``form``; "auto": cheaper).

    Features of a block of samples: the per-sample gradients (explicit), or the patch and cotangent rows
    (structured). When every column's fit in ``memory`` (half of it for the structured form, whose A and B
    blocks take the other half) they are formed once; otherwise two blocks of ``memory`` / 2 each (/ 4 for
    the structured form) are formed per product. Products are taken ROWS_* rows at a time against the
    columns. Symmetric K: the diagonal squares (samples I against themselves) are taken by self-Grams
    (numerics.blas.self_gram: syrk, one triangle, half of a GEMM's multiply-adds), squares of
    SQUARE_EXPLICIT samples' gradients (explicit) or of ROWS_STRUCTURED patch and cotangent rows
    (structured: A = U_I U_I^T and B = G_I G_I^T are symmetric, A * B too, and its position sums give the
    square), and only the blocks right of each square by GEMM, so no pair beyond the upper triangle is
    computed twice. ``chunk`` (samples) sets every block size."""
    start = _now(profile)
    s, d, c_out = left.shape
    size = left.inputs.element_size()
    n1, n2 = K.shape[0], K.shape[1]
    structured = left.structured() if form == "auto" else form == "structured"
    per_sample = size * (s * (d + c_out) if structured else c_out * d)
    keep = per_sample * n2 <= (memory // 2 if structured else memory)
    if structured:
        def features(w: _Weight, rows: slice, slot: str):
            return w.patches(rows).reshape(-1, d), w.cotangents[rows].reshape(-1, c_out)

        def take(f, rows: slice):
            return tuple(t[rows.start * s:rows.stop * s] for t in f)

        def position_sums(A):
            """(I s) x (J s) -> I x J: the sums over each sample pair's s x s position pairs."""
            return A if s == 1 else A.view(A.shape[0] // s, s, A.shape[1] // s, s).sum((1, 3))

        def product(a, b):
            A = a[0] @ b[0].T
            return position_sums(A.mul_(a[1] @ b[1].T))

        def square(a):
            return position_sums(self_gram(a[0]).mul_(self_gram(a[1])))

        def square_macs(r: int) -> int:
            return r * s * (r * s + 1) // 2 * (d + c_out)

        per_pair = s * s * (d + c_out)
        rows_size = chunk or max(1, ROWS_STRUCTURED // s)
        square_size = rows_size
        # A and B, (rows s) x (cols s) each, in half the memory; unkept features of two blocks in the other
        cols_size = chunk or max(1, min(memory // (4 * size * rows_size * s * s),
                                        n2 if keep else memory // (4 * per_sample)))
    else:
        def features(w: _Weight, rows: slice, slot: str):
            return w.form_gradients(rows, workspace.take(slot, (rows.stop - rows.start, c_out, d), w.cotangents))

        def take(f, rows: slice):
            return f[rows]

        def product(a, b):
            return a @ b.T

        square = self_gram

        def square_macs(r: int) -> int:
            return r * (r + 1) // 2 * per_pair

        per_pair = c_out * d
        rows_size = chunk or ROWS_EXPLICIT
        square_size = chunk or SQUARE_EXPLICIT
        cols_size = chunk or (n2 if keep else max(1, memory // (2 * per_sample)))
    macs, formed = 0, 0

    def accumulate(rows: slice, cols: slice, a, b) -> None:
        """K[rows, cols] += product of a (rows' features) and b (cols' features), rows_size rows at a time.
        A block holding diagonal squares (symmetric, cols from rows.start on): per group of square_size
        rows, its square by ``square`` and the group against the columns right of it."""
        nonlocal macs
        r, width = rows.stop - rows.start, cols.stop - cols.start
        diagonal = symmetric and cols.start == rows.start
        for group in _chunks(r, square_size) if diagonal else [slice(0, r)]:
            first = group.stop if diagonal else 0
            if diagonal:
                at = slice(rows.start + group.start, rows.start + group.stop)
                K[at, at] += square(take(a, group)).to(torch.float64)
                macs += square_macs(group.stop - group.start)
            for part in _chunks(group.stop - group.start, rows_size) if first < width else []:
                sub = slice(group.start + part.start, group.start + part.stop)
                block = product(take(a, sub), take(b, slice(first, width)))
                K[rows.start + sub.start:rows.start + sub.stop, cols.start + first:cols.stop] += block.to(torch.float64)
                macs += block.numel() * per_pair

    if keep:
        kept, formed = features(right, slice(0, n2), "columns"), n2
        for rows in _chunks(n1, square_size if symmetric else rows_size):
            a = take(kept, rows) if symmetric else features(left, rows, "rows")
            formed += 0 if symmetric else rows.stop - rows.start
            first = rows.start if symmetric else 0
            for c in _chunks(n2 - first, cols_size):
                cols = slice(first + c.start, first + c.stop)
                accumulate(rows, cols, a, take(kept, cols))
    else:
        for rows in _chunks(n1, cols_size):
            a, formed = features(left, rows, "rows"), formed + rows.stop - rows.start
            for cols in _chunks(n2, cols_size):
                if symmetric and cols.start < rows.start:
                    continue
                b = a if symmetric and cols == rows else features(right, cols, "columns")
                formed += 0 if b is a else cols.stop - cols.start
                accumulate(rows, cols, a, b)
    if profile is not None:
        macs += 0 if structured else formed * s * c_out * d
        gemm = (rows_size * s, d, min(cols_size, n2) * s) if structured else (rows_size, c_out * d, min(cols_size, n2))
        profile.layers.append(LayerCost(left.name, profile.clock() - start, macs, gemm))


#: the profile row of the biases' and BatchNorm affine parameters' Gram
SMALL = "biases and BatchNorm"


def _small_gram(small1: torch.Tensor, small2: torch.Tensor, same: bool, profile: GramProfile | None) -> torch.Tensor:
    """The biases' and BatchNorm parameters' part of K, float64 (n1, n2): their per-sample gradients
    (n x m, module docstring) multiplied in the model's dtype like every weight's, a self-Gram (syrk, one
    triangle) when both sides are the same capture. At n = 2048 (m = 9,601 for ResNet-18 at width 64)
    the float64 product took 2.3 s with its casts."""
    start = _now(profile)
    (n1, m), n2 = small1.shape, small2.shape[0]
    K = (self_gram(small1) if same else small1 @ small2.T).to(torch.float64)
    if profile is not None and m:
        macs = n1 * (n1 + 1) // 2 * m if same else n1 * n2 * m
        profile.layers.append(LayerCost(SMALL, profile.clock() - start, macs, (n1, m, n2)))
    return K


FORMS = ("auto", "explicit", "structured")


def structured_gram(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None, *,
                    batch_size: int = 256, memory: int = STRUCTURED_MEMORY, chunk: int | None = None,
                    form: str = "auto", progress=None, outputs: str = "trace",
                    profile: GramProfile | None = None) -> torch.Tensor:
    """K(X1, X2) by per-layer structured contractions (module docstring); float64 result, (n1, n2), or
    (n1, n2, k, k) for outputs="full".

    ``batch_size``: samples per capture forward/backward; ``memory``: bytes per working block;
    ``chunk``: samples per block (overrides the memory rule); ``form``: "auto" (per layer, the
    cheaper), or "explicit" / "structured" for every weight (both are exact; tests use them);
    ``profile``: a GramProfile that receives each step's seconds and multiply-adds.
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
    if profile is not None and profile.clock is None:
        profile.clock = device_clock(X1.device)
    captures1 = [_capture(model, X1, layers, batch_size, progress, a, profile) for a in range(k)]
    captures2 = captures1 if symmetric else [_capture(model, X2, layers, batch_size, progress, a, profile)
                                              for a in range(k)]

    workspace = _Workspace(memory)

    def gram(a: int, b: int) -> torch.Tensor:
        """K_ab(X1, X2) = sum_theta df_a(X1)/dtheta . df_b(X2)/dtheta, (n1, n2)."""
        (weights1, small1), (weights2, small2) = captures1[a], captures2[b]
        same = symmetric and a == b
        K = _small_gram(small1, small2, same, profile)
        by_module = {w.module: w for w in weights2}
        for left in bar(weights1, progress=progress, desc="NTK layers"):
            _weight_gram(K, left, by_module[left.module], same, memory, form, chunk, profile, workspace)
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
