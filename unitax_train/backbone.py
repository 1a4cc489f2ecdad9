"""A ResNet trunk with output stride 8, written here (no torchvision needed).

Conventions
-----------
* Basic blocks (ResNet-18/34) or bottlenecks (ResNet-50/101); the last two
  stages replace their stride by dilation 2 and 4, so features come out at
  1/8 of the input resolution.
* Weights are random (Kaiming); parameter names follow torchvision's, so a
  user's ImageNet weights load with ``backbone.load_state_dict(state,
  strict=False)`` (``fc.*`` is not used). Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from torch import Tensor, nn

__all__ = ["Backbone", "BasicBlock", "Bottleneck", "ResNet", "resnet"]

Block = Literal["basic", "bottleneck"]
Backbone = Literal["resnet18", "resnet34", "resnet50", "resnet101"]
_DEPTHS: dict[str, tuple[Block, tuple[int, int, int, int]]] = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
}


def _conv(
    inputs: int, outputs: int, size: int, stride: int = 1, dilation: int = 1
) -> nn.Conv2d:
    padding = dilation * (size - 1) // 2
    return nn.Conv2d(
        inputs,
        outputs,
        size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=False,
    )


class BasicBlock(nn.Module):  # type: ignore[misc]
    """Two 3x3 convolutions and a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self,
        inputs: int,
        planes: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        first_dilation: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = _conv(inputs, planes, 3, stride, first_dilation)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv(planes, planes, 3, 1, dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``x: (N, C, H, W)`` -> ``(N, planes, H / stride, W / stride)``."""
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class Bottleneck(nn.Module):  # type: ignore[misc]
    """1x1, 3x3, 1x1 convolutions and a shortcut (ResNet-50/101)."""

    expansion = 4

    def __init__(
        self,
        inputs: int,
        planes: int,
        *,
        stride: int = 1,
        dilation: int = 1,
        first_dilation: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        del first_dilation  # the 3x3 convolution carries the stage's dilation
        self.conv1 = _conv(inputs, planes, 1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv(planes, planes, 3, stride, dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv(planes, planes * 4, 1)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``x: (N, C, H, W)`` -> ``(N, 4 planes, H / stride, W / stride)``."""
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + shortcut)


class ResNet(nn.Module):  # type: ignore[misc]
    """A ResNet trunk with output stride 8 (dilation in stages 3 and 4).

    Parameters
    ----------
    block
        ``"basic"`` or ``"bottleneck"``.
    layers
        Blocks per stage, four numbers (``(2, 2, 2, 2)`` is ResNet-18).
    width
        Channels of the first stage (64 in the papers; small for tests).
    in_channels
        Image channels.
    """

    def __init__(
        self,
        block: Block,
        layers: Sequence[int],
        *,
        width: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if block not in get_args(Block):
            raise ValueError(f"block must be one of {get_args(Block)}, got {block!r}")
        if len(layers) != 4:
            raise ValueError(f"layers must be four numbers, got {tuple(layers)}")
        kind = BasicBlock if block == "basic" else Bottleneck
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self._inputs = width
        self._dilation = 1
        self.layer1 = self._stage(kind, width, layers[0], stride=1, dilation=1)
        self.layer2 = self._stage(kind, width * 2, layers[1], stride=2, dilation=1)
        self.layer3 = self._stage(kind, width * 4, layers[2], stride=1, dilation=2)
        self.layer4 = self._stage(kind, width * 8, layers[3], stride=1, dilation=4)
        self.out_channels = width * 8 * kind.expansion
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu"
                )

    def _stage(
        self,
        kind: type[BasicBlock | Bottleneck],
        planes: int,
        blocks: int,
        *,
        stride: int,
        dilation: int,
    ) -> nn.Sequential:
        downsample: nn.Module | None = None
        outputs = planes * kind.expansion
        if stride != 1 or self._inputs != outputs:
            downsample = nn.Sequential(
                _conv(self._inputs, outputs, 1, stride), nn.BatchNorm2d(outputs)
            )
        first = kind(
            self._inputs,
            planes,
            stride=stride,
            dilation=dilation,
            first_dilation=self._dilation,
            downsample=downsample,
        )
        self._inputs, self._dilation = outputs, dilation
        rest = [
            kind(outputs, planes, dilation=dilation, first_dilation=dilation)
            for _ in range(blocks - 1)
        ]
        return nn.Sequential(first, *rest)

    def forward(self, images: Tensor) -> Tensor:
        """Shapes: ``images: (N, 3, H, W)`` -> ``(N, out_channels, H / 8, W / 8)``."""
        if images.dim() != 4 or images.shape[1] != self.in_channels:
            raise ValueError(
                f"images must be (N, {self.in_channels}, H, W), "
                f"got {tuple(images.shape)}"
            )
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer2(self.layer1(x))
        return self.layer4(self.layer3(x))


def resnet(name: Backbone, *, width: int = 64) -> ResNet:
    """A randomly initialised output-stride-8 ResNet by name.

    >>> resnet("resnet18", width=8).out_channels
    64
    """
    if name not in _DEPTHS:
        raise ValueError(f"name must be one of {sorted(_DEPTHS)}, got {name!r}")
    block, layers = _DEPTHS[name]
    return ResNet(block, layers, width=width)
