"""ResNet-18 in torchvision's layout, with a width knob and a deterministic init (docs/theory.md, E2/E3).

Layout (He et al. 2016; torchvision.models.resnet18), stage widths w (1, 2, 4, 8), w = ``width``:
    conv1 7x7 stride 2 pad 3 (no bias) -> bn1 -> relu -> maxpool 3x3 stride 2 pad 1
    layer1..layer4: two BasicBlocks each, the first block of layers 2-4 has stride 2 and a
        downsample = 1x1 conv stride 2 (no bias) + BN on its shortcut;
        BasicBlock: conv3x3 -> bn -> relu -> conv3x3 -> bn, + shortcut, -> relu
    adaptive average pool to 1x1 -> flatten -> fc (with bias).
At width 64 and num_classes 1000 the state_dict keys and shapes are torchvision's (11,689,512
parameters). With ``num_classes = 1`` the output is squeezed to shape (n,): one scalar per
sample, the convention of ``numerics.kernels.empirical_ntk``.

Init (torchvision's rules, drawn from a ``torch.Generator`` seeded by ``seed``; no global RNG):
conv weights N(0, 2 / (out_channels k^2)) (Kaiming, fan_out, ReLU gain); BN weight 1, bias 0,
running mean 0, running variance 1; fc weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Draws are made on the CPU in float64 and then cast, so a seed gives the same network on every
device and dtype (up to that cast).

BatchNorm: the NTK is taken in eval mode (running statistics), where each output depends on its
own input only; in train mode BN mixes the batch and ``empirical_ntk`` refuses the model.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import skip_init

from numerics.seeds import torch_generator


def _conv(cin: int, cout: int, kernel: int, stride: int, dtype, device) -> nn.Conv2d:
    return skip_init(nn.Conv2d, cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False,
                     dtype=dtype, device=device)


def _bn(channels: int, dtype, device) -> nn.BatchNorm2d:
    return skip_init(nn.BatchNorm2d, channels, dtype=dtype, device=device)


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = identity or downsample."""

    def __init__(self, cin: int, cout: int, stride: int, dtype, device):
        super().__init__()
        self.conv1 = _conv(cin, cout, 3, stride, dtype, device)
        self.bn1 = _bn(cout, dtype, device)
        self.relu = nn.ReLU(inplace=False)
        self.conv2 = _conv(cout, cout, 3, 1, dtype, device)
        self.bn2 = _bn(cout, dtype, device)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(_conv(cin, cout, 1, stride, dtype, device), _bn(cout, dtype, device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout with stage widths width * (1, 2, 4, 8) (module docstring)."""

    def __init__(self, num_classes: int, width: int, in_channels: int, dtype, device):
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = skip_init(nn.Conv2d, in_channels, width, 7, stride=2, padding=3, bias=False,
                               dtype=dtype, device=device)
        self.bn1 = _bn(width, dtype, device)
        self.relu = nn.ReLU(inplace=False)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        cin = width
        for stage, multiple in enumerate((1, 2, 4, 8), start=1):
            cout, stride = width * multiple, (1 if stage == 1 else 2)
            layer = nn.Sequential(BasicBlock(cin, cout, stride, dtype, device),
                                  BasicBlock(cout, cout, 1, dtype, device))
            self.add_module(f"layer{stage}", layer)
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = skip_init(nn.Linear, cin, num_classes, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.conv1.in_channels
        if x.ndim != 4 or x.shape[1] != channels:
            raise ValueError(f"x must be a batch of images of shape (n, {channels}, H, W), "
                             f"got shape {tuple(x.shape)}")
        if x.dtype != self.conv1.weight.dtype:
            raise TypeError(f"x must have the model's dtype {self.conv1.weight.dtype}, got {x.dtype}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        out = self.fc(torch.flatten(self.avgpool(x), 1))
        return out[:, 0] if self.num_classes == 1 else out


def resnet18(num_classes: int = 1, width: int = 64, in_channels: int = 3, *, seed=0,
             dtype=torch.float32, device="cpu") -> ResNet18:
    """A ResNet-18 (torchvision layout, module docstring) initialised deterministically from ``seed``
    (an int or a CPU torch.Generator). ``num_classes = 1``: output shape (n,). Returned in eval mode,
    the mode its NTK is defined in; call .train() explicitly to train with batch statistics."""
    for name, value in (("num_classes", num_classes), ("width", width), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    generator = torch_generator(seed)
    model = ResNet18(num_classes, width, in_channels, dtype, torch.device(device))
    _initialise(model, generator)
    return model.eval()


@torch.no_grad()
def _initialise(model: nn.Module, generator: torch.Generator) -> None:
    """torchvision's init rules (module docstring), every draw from ``generator`` in module order."""
    def fill(tensor: torch.Tensor, values: torch.Tensor) -> None:
        tensor.copy_(values.to(dtype=tensor.dtype, device=tensor.device))

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.out_channels * math.prod(module.kernel_size)
            draw = torch.randn(module.weight.shape, generator=generator, dtype=torch.float64)
            fill(module.weight, draw * math.sqrt(2.0 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.fill_(1.0)
            module.bias.zero_()
            module.running_mean.zero_()
            module.running_var.fill_(1.0)
            module.num_batches_tracked.zero_()
        elif isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.in_features)
            for tensor in (module.weight, module.bias):
                draw = torch.rand(tensor.shape, generator=generator, dtype=torch.float64)
                fill(tensor, (2 * draw - 1) * bound)
