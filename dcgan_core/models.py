"""The DCGAN networks — Radford, Metz & Chintala (2015), arXiv:1511.06434, §3 and Figure 1.

The paper's architecture guidelines for stable deep convolutional GANs (§3):

* replace pooling with strided convolutions (D) and fractionally-strided convolutions (G);
* batch normalization in both networks, except G's output layer and D's input layer;
* no fully connected hidden layers (G's first layer is a matrix multiply that is reshaped
  into a 4×4 map — "project and reshape" — and D's last conv layer is flattened into a
  single output);
* ReLU in G except its Tanh output, LeakyReLU (slope 0.2) in D.

Two families share this file, picked by `arch`:

* `"paper"` — Figure 1 exactly: z (100-d) → project and reshape to 4×4×1024 → four 5×5
  stride-2 fractionally-strided convolutions → 64×64×3. D mirrors it: 5×5 stride-2
  convolutions 128→256→512→1024, flattened into one output.
* `"torch"` — pytorch/examples' DCGAN: 4×4 kernels, z as a 1×1 map, ngf = ndf = 64.
* `"mnist"` — the authors' released conditional MNIST nets (dcgan_code, mnist/train_cond_dcgan.py),
  28×28 only, for §8.1: G is z → FC 1024 → FC 7×7×128 → two 5×5 fractionally-strided convolutions
  (14×14×64, 28×28×1); D is two 5×5 strided convolutions (14×14×64, 7×7×128) → FC 1024 → one output.
  Theirs has fully connected hidden layers, unlike §3's guideline; what differs from their code: Tanh
  out instead of their Sigmoid (the same function up to an affine map: sigmoid(a) = (tanh(a/2) + 1)/2;
  our data are in [-1, 1]), and the trainer's, not theirs: no L2 weight decay (2.5e-5 there), and G and
  D updated on every batch (theirs alternated them on alternate batches).

Both are built for any image size 2^k ≥ 16 (64 for the paper's scenes and faces, 32 for
CIFAR-10 and MNIST) and 1 or 3 channels: the number of stride-2 layers is log2(size/4), and
`width` is the channel count of the widest-resolution hidden layer, doubling toward the 4×4 end.

Deviations, kept small and stated:
* D returns a **logit**, not a sigmoid probability; the loss applies the sigmoid
  (BCE-with-logits, numerically stable). `torch.sigmoid(D(x))` is the paper's D(x).
* No biases anywhere (as in the authors' Theano code): a bias before BN is cancelled by
  BN's mean subtraction, and BN's β plays its role.
* BN after "project and reshape" normalizes per channel of the 4×4×1024 map (BatchNorm2d), as in
  the authors' Torch code, rather than per unit of the 16384-d vector as in their Theano code.

Class-conditional nets (§8.1, the MNIST appendix; `n_classes` > 0): the label enters both nets as
a one-hot vector concatenated to z and, as constant one-hot maps, to the input of every later layer
of G and of every layer of D (its input and hidden layers, and the head). Why one-hot concatenation
rather than a learned embedding: it is what the authors' conditional MNIST code did (conv_cond_concat
in dcgan_code/mnist), it adds no parameters to learn, and every layer sees the label, so neither net
can lose it. `bn_affine=False` removes BatchNorm's scale and bias (§8.1: "removing the scale and bias
parameters from batchnorm produced better results for both models"). The one-hot helpers and
§8.1's permutation-invariant, fully connected GAN baseline (`arch="fc"`) are in conditional.py.

Both networks expose their intermediate layers, because later sections of the paper look
inside them: `Discriminator.features` (§5.1 features for classification, §6.2 guided
backprop) and `Generator.activations` with `drop` to zero chosen feature maps (§6.3.1
forgetting to draw objects).

`TrainConfig`, one run's settings (data, networks, §4's optimisation, output), lives here beside the
networks it builds: every checkpoint stores it, so checkpoints and the zoo, which sit below the trainer,
rebuild G and D from it alone. Its section is train.py (notebook 01), which takes it and exports it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .conditional import FC_WIDTH, FCDiscriminator, FCGenerator, one_hot, with_labels
from .config import Config, option
from .diffaugment import parse_policy


@dataclass
class TrainConfig(Config):
    """One training run. The notebook's parameters cell and the CLI both build it, the trainer
    takes it, and every checkpoint stores it (so a checkpoint alone rebuilds its models)."""

    # --- data -----------------------------------------------------------------------------
    dataset: str = option(
        "celeba",
        "mnist, fashion-mnist, cifar10, celeba, scenes[:CLASS], lsun:CATEGORY, svhn or folder:PATH (data.DATASETS)",
    )
    split: str = option("train", "train or test (where the dataset has them)")
    limit: int | None = option(None, "use only the first N images (smoke runs)", min=1)
    keep: str | None = option(None, "train only on the images a dedup index kept (DIR/kept.json of `dedup`, §4.1.1)")
    # --- networks (models.py) -------------------------------------------------------------
    arch: str = option(
        "paper",
        "paper (Figure 1, 5x5 kernels), torch (pytorch/examples, 4x4), mnist (the "
        "authors' conditional MNIST nets, 28x28, §8.1) or fc (fully connected: §8.1's "
        "permutation-invariant GAN baseline)",
        choices=("paper", "torch", "mnist", "fc"),
    )
    image_size: int = option(64, "64 (LSUN, faces) or 32 (CIFAR-10, MNIST); 28 for arch mnist", min=16)
    nz: int = option(100, "size of z (Figure 1: 'A 100 dimensional uniform distribution Z')", min=1, flag=False)
    g_width: int | None = option(None, "G's last hidden width (default: paper 128, torch 64)", min=1)
    d_width: int | None = option(None, "D's first width (default: paper 128, torch 64)", min=1)
    channels: int | None = option(
        None, "None = the dataset's own (1 for MNIST, 3 otherwise)", choices=(1, 3), flag=False
    )
    conditional: bool = option(
        False,
        "class-conditional G and D (§8.1): the label goes to both nets (models.py); "
        "needs a dataset with class labels (data.DATASETS)",
    )
    n_classes: int | None = option(None, "classes of a conditional net; None = the dataset's own", min=2, flag=False)
    bn_affine: bool = option(
        True, "BatchNorm with learned scale and bias (§8.1: without them 'produced better results' on MNIST)"
    )
    # --- optimisation (§4) ----------------------------------------------------------------
    batch_size: int = option(128, "mini-batch size (§4: 'mini-batch SGD with a mini-batch size of 128')", min=1)
    lr: float = option(2e-4, "Adam learning rate (§4: '0.001 to be too high, using 0.0002 instead')")
    beta1: float = option(0.5, "Adam β1 (§4: '0.9 resulted in training oscillation … 0.5 helped')", min=0.0, flag=False)
    beta2: float = option(0.999, "Adam β2 (Adam's default; the paper does not change it)", min=0.0, flag=False)
    epochs: int = option(1, "epochs to train", min=1)
    max_steps: int | None = option(None, "stop after this many steps in total (overrides epochs)", min=1)
    lr_decay_from: int | None = option(
        None,
        "from this step on, lower Adam's learning rate linearly to zero at the "
        "last step (the authors' released MNIST code: 100 epochs at lr, then 100 "
        "decaying to zero; not in the paper's text)",
        min=0,
    )
    seed: int = option(0, "seed of init, data order and noise")
    # --- few-data training (not in the paper: off by default; diffaugment.py) ---------------
    diffaugment: str | None = option(
        None,
        "DiffAugment (Zhao et al. 2020; not in the paper) on every image D sees: "
        "comma-separated color, translation, cutout",
    )
    flip: bool = option(False, "mirror a random half of each real batch left-right (not in the paper)")
    # --- output ---------------------------------------------------------------------------
    out: str = option("runs/dcgan", "output folder (checkpoints/, samples/, metrics.csv: files.RunDir)")
    grid_every: int | None = option(None, "also save the fixed-noise grid every K steps (always each epoch)", min=1)
    ckpt_every: int = option(500, "write checkpoints/last.pt every K steps (and at each epoch end)", min=1)
    keep_every: int | None = option(
        None,
        "also keep a copy of the checkpoint every K steps as checkpoints/step_NNNNNNN.pt (features along a run, §5)",
        min=1,
    )
    n_grid: int = option(64, "images in the fixed-noise grid", min=1, flag=False)
    # --- evaluation during training (metrics.py; off unless eval_every is set) ----------------
    eval_every: int | None = option(
        None, "FID/KID every K steps into eval.csv; keeps checkpoints/best.pt by FID", min=1
    )
    eval_n: int = option(
        500,
        "samples (and real images) per FID: each evaluation during training, and notebook 01's "
        "trained vs untrained G at the end; small, so FID is biased high",
        min=2,
    )
    eval_split: str | None = option(None, "real images for those evaluations (default: test where there is one)")
    device: str = option("auto", "auto (cuda if available), cpu or cuda")
    # --- speed (no effect on the paper's hyper-parameters; see README "Performance") --------
    precision: str = option(
        "auto",
        "auto (bf16 where it measures faster), bf16 or fp32: bf16 autocasts convs and matmuls; weights, BN and the loss stay fp32",
        choices=("auto", "fp32", "bf16"),
    )
    channels_last: bool = option(True, "NHWC memory layout (faster convolutions on CPU and GPU)", flag=False)
    compile: bool = option(False, "torch.compile G and D")
    progress: bool = option(True, "tqdm progress bars")

    # Three profiles for notebook 01 and `make figures`. Values not set fall back to the defaults.
    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: seconds to a couple of minutes on 2 CPU cores; shows the pipeline, not good samples.
        "smoke": dict(
            dataset="celeba",
            arch="torch",
            image_size=32,
            g_width=32,
            d_width=32,
            limit=1024,
            batch_size=64,
            epochs=2,
            ckpt_every=8,
            grid_every=8,
            eval_n=64,
        ),
        # The record's run (its time: results/cpu/run.json): 64×64 faces from CelebA-10k, 3 epochs (the zoo's
        # celeba64 is the long run of the same nets).
        "cpu": dict(dataset="celeba", arch="torch", image_size=64, batch_size=128, epochs=3, grid_every=100),
        # One GPU, the paper's settings: Figure 1's network, batch 128, Adam 2e-4 / 0.5.
        "paper": dict(
            dataset="celeba", arch="paper", image_size=64, batch_size=128, epochs=25, grid_every=1000, ckpt_every=1000
        ),
    }

    def check(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not self.beta1 < 1 or not self.beta2 < 1:
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {self.beta1!r}, {self.beta2!r}")
        if self.arch == "mnist" and self.image_size != 28:
            raise ValueError(
                f"arch mnist (the authors' MNIST nets) draws 28×28 images: pass --image-size 28, got {self.image_size}"
            )
        if self.arch in ("paper", "torch") and self.image_size & (self.image_size - 1):  # fc: any size
            raise ValueError(f"image_size must be a power of two ≥ 16 (e.g. 32 or 64), got {self.image_size}")
        parse_policy(self.diffaugment)
        if self.lr_decay_from is not None and self.max_steps is not None and self.lr_decay_from >= self.max_steps:
            raise ValueError(
                f"lr_decay_from ({self.lr_decay_from}) must come before the last step "
                f"(max_steps {self.max_steps}): the decay runs from it to the end"
            )


# The fields that define the networks: a checkpoint resumes only under the same values.
MODEL_FIELDS = ("arch", "image_size", "nz", "g_width", "d_width", "channels", "conditional", "n_classes", "bn_affine")
# The fields that define the data: resuming under other values is refused unless asked for.
DATA_FIELDS = ("dataset", "split", "limit", "keep")


ARCHS = ("paper", "torch")  # the families for any size; "mnist" is 28×28 only, "fc" (§8.1's baseline) apart

# Defaults of each family: (kernel, padding, output_padding, G width, D width).
# Paper: 5×5 kernels; widths 128…1024 (Figure 1). Torch: 4×4 kernels; ngf = ndf = 64.
_FAMILY = {
    "paper": dict(kernel=5, padding=2, output_padding=1, width=128),
    "torch": dict(kernel=4, padding=1, output_padding=0, width=64),
    "mnist": dict(kernel=5, padding=2, output_padding=1, width=64),  # the authors' MNIST code: ngf = ndf = 64
}
MNIST_FC = 1024  # the authors' MNIST code: the fully connected hidden layers (ngfc = ndfc = 1024)


def _num_stride2_layers(image_size: int, arch: str = "paper") -> int:
    """Stride-2 layers between a 4×4 map and an image_size×image_size image (7×7 and 28×28: "mnist")."""
    if arch == "mnist":
        if image_size != 28:
            raise ValueError(
                f"arch 'mnist' (the authors' MNIST nets) draws 28×28 images: use image_size 28, got {image_size}"
            )
        return 2
    n = math.log2(image_size / 4) if image_size > 0 else -1
    if n < 2 or n != int(n):
        raise ValueError(f"image_size must be a power of two ≥ 16 (e.g. 32 or 64), got {image_size}")
    return int(n)


def _family(arch: str) -> dict:
    if arch not in _FAMILY:
        raise ValueError(f"unknown arch {arch!r}; choose one of {tuple(_FAMILY)}")
    return _FAMILY[arch]


class Generator(nn.Module):
    """G: z ∈ [-1, 1]^nz → image in [-1, 1]^(channels×size×size) (Figure 1).

    `layers[0]` is "project and reshape" (4×4), `layers[1:]` the fractionally-strided
    convolutions; the last one is the output layer (Tanh, §3: no BN there).
    """

    def __init__(
        self,
        *,
        arch: str = "paper",
        image_size: int = 64,
        nz: int = 100,
        width: int | None = None,
        channels: int = 3,
        n_classes: int = 0,
        bn_affine: bool = True,
    ):
        super().__init__()
        fam = _family(arch)
        n_up = _num_stride2_layers(image_size, arch)
        width = width or fam["width"]
        # Channels from the 4×4 map to the last hidden layer, e.g. paper 64×64: 1024, 512, 256, 128.
        widths = [width * 2**i for i in reversed(range(n_up))]
        self.arch, self.image_size, self.nz, self.channels = arch, image_size, nz, channels
        self.n_classes, k = n_classes, n_classes  # k: one-hot label inputs added to each layer (§8.1)
        bn = lambda c: nn.BatchNorm2d(c, affine=bn_affine)  # noqa: E731

        if arch == "mnist":
            # The authors' MNIST G: FC 1024, then FC to 7×7×128 (BN per unit, as theirs), reshaped.
            layers = [
                nn.Sequential(
                    nn.Linear(nz + k, MNIST_FC, bias=False), nn.BatchNorm1d(MNIST_FC, affine=bn_affine), nn.ReLU(True)
                ),
                nn.Sequential(
                    nn.Linear(MNIST_FC + k, 7 * 7 * widths[0], bias=False),
                    nn.BatchNorm1d(7 * 7 * widths[0], affine=bn_affine),
                    nn.ReLU(True),
                    nn.Unflatten(1, (widths[0], 7, 7)),
                ),
            ]
        else:
            if arch == "paper":
                # §3 / Figure 1: "project and reshape" — a matrix multiply, then reshape to 4×4×1024.
                project = nn.Sequential(
                    nn.Linear(nz + k, 4 * 4 * widths[0], bias=False), nn.Unflatten(1, (widths[0], 4, 4))
                )
            else:
                # pytorch/examples: z as a 1×1 map, a 4×4 transposed convolution gives the 4×4 map.
                project = nn.Sequential(
                    nn.Unflatten(1, (nz + k, 1, 1)), nn.ConvTranspose2d(nz + k, widths[0], 4, 1, 0, bias=False)
                )
            layers = [nn.Sequential(*project, bn(widths[0]), nn.ReLU(True))]

        def up(c_in, c_out):  # a fractionally-strided convolution doubling the resolution
            return nn.ConvTranspose2d(
                c_in + k,
                c_out,
                fam["kernel"],
                stride=2,
                padding=fam["padding"],
                output_padding=fam["output_padding"],
                bias=False,
            )

        for c_in, c_out in zip(widths, widths[1:]):
            # 4→8→16→32 (for 64×64): BN + ReLU on every hidden layer (§3)
            layers.append(nn.Sequential(up(c_in, c_out), bn(c_out), nn.ReLU(True)))
        # Output layer: Tanh, and no BN (§3: BN here caused sample oscillation and instability).
        layers.append(nn.Sequential(up(widths[-1], channels), nn.Tanh()))
        self.layers = nn.ModuleList(layers)

    def activations(
        self, z: torch.Tensor, drop: Mapping[int, Sequence[int]] | None = None, labels: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """Every layer's output, the image last. `drop = {layer: [feature maps]}` zeroes those
        maps of that layer's output before it goes on (§6.3.1 "forgetting to draw objects").
        `labels`: the classes to draw (conditional nets only)."""
        out, h, y = [], z, one_hot(labels, self.n_classes, z.dtype)
        for i, layer in enumerate(self.layers):
            h = layer(with_labels(h, y))
            if drop and drop.get(i) is not None and len(drop[i]):
                keep = torch.ones(h.shape[1], device=h.device, dtype=h.dtype)
                keep[torch.as_tensor(list(drop[i]), device=h.device)] = 0
                h = h * keep.view(1, -1, 1, 1)
            out.append(h)
        return out

    def forward(
        self, z: torch.Tensor, drop: Mapping[int, Sequence[int]] | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        if drop:
            return self.activations(z, drop, labels)[-1]
        y = one_hot(labels, self.n_classes, z.dtype)
        for layer in self.layers:
            z = layer(with_labels(z, y))
        return z


class Discriminator(nn.Module):
    """D: image → one logit per image (higher = "real").

    `layers` are the strided convolutions (LeakyReLU 0.2; BN on all but the input layer, §3),
    `head` maps the last conv layer to the single output ("mnist": `layers` end with its FC layer).
    """

    def __init__(
        self,
        *,
        arch: str = "paper",
        image_size: int = 64,
        width: int | None = None,
        channels: int = 3,
        n_classes: int = 0,
        bn_affine: bool = True,
    ):
        super().__init__()
        fam = _family(arch)
        n_down = _num_stride2_layers(image_size, arch)
        width = width or fam["width"]
        # e.g. paper 64×64: 128, 256, 512, 1024 (mirror of G)
        widths = [width * 2**i for i in range(n_down)]
        self.arch, self.image_size, self.channels = arch, image_size, channels
        self.n_classes, k = n_classes, n_classes  # k: one-hot label maps added to each layer's input (§8.1)

        def down(c_in, c_out):  # a strided convolution halving the resolution (§3: no pooling)
            return nn.Conv2d(c_in + k, c_out, fam["kernel"], stride=2, padding=fam["padding"], bias=False)

        # §3: no BN on D's input layer.
        layers = [nn.Sequential(down(channels, widths[0]), nn.LeakyReLU(0.2, True))]
        for c_in, c_out in zip(widths, widths[1:]):
            # 32→16→8→4 (for 64×64)
            layers.append(
                nn.Sequential(down(c_in, c_out), nn.BatchNorm2d(c_out, affine=bn_affine), nn.LeakyReLU(0.2, True))
            )
        if arch == "mnist":
            # The authors' MNIST D: the 7×7×128 maps flattened into FC 1024 (BN, LeakyReLU), then one output.
            # The label comes in as 7×7 maps, not their 10-d vector: the same functions (a weight per copy).
            layers.append(
                nn.Sequential(
                    nn.Flatten(),
                    nn.Linear(7 * 7 * (widths[-1] + k), MNIST_FC, bias=False),
                    nn.BatchNorm1d(MNIST_FC, affine=bn_affine),
                    nn.LeakyReLU(0.2, True),
                )
            )
        self.layers = nn.ModuleList(layers)
        if arch == "mnist":
            self.head = nn.Linear(MNIST_FC + k, 1, bias=False)
        elif arch == "paper":
            # §3: "the last convolution layer is flattened and then fed into a single sigmoid output"
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * (widths[-1] + k), 1, bias=False))
        else:
            # pytorch/examples: a 4×4 valid convolution to 1×1
            self.head = nn.Sequential(nn.Conv2d(widths[-1] + k, 1, 4, 1, 0, bias=False), nn.Flatten())

    def features(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Every conv layer's feature maps, input side first (§5.1, §6.2); "mnist": its FC layer last."""
        out, y = [], one_hot(labels, self.n_classes, x.dtype)
        for layer in self.layers:
            x = layer(with_labels(x, y))
            out.append(x)
        return out

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot(labels, self.n_classes, x.dtype)
        for layer in self.layers:
            x = layer(with_labels(x, y))
        return self.head(with_labels(x, y)).view(-1)


def init_weights(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """§4: "All weights were initialized from a zero-centered Normal distribution with standard
    deviation 0.02." BN scales γ ~ N(1, 0.02) and shifts β = 0, as in pytorch/examples."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:  # §8.1: maybe without γ, β
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)


def sample_z(
    n: int, nz: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """§4 / Figure 1: "A 100 dimensional uniform distribution Z" — z ~ U[-1, 1]^nz."""
    z = torch.rand(n, nz, generator=generator)
    return (z * 2 - 1).to(device)


def layer_table(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Name, output shape (C, H, W) and parameter count of each layer, from a real forward
    pass — the data behind Figure 1 and the shape tests."""
    rows = []
    with torch.no_grad():
        if isinstance(model, Generator):
            outs = model.activations(x)
            names = ["project"] + [f"conv{i}" for i in range(1, len(outs))]
            mods = list(model.layers)
        else:
            outs = model.features(x)
            outs.append(model.head(outs[-1]).view(len(x), -1))
            names = [f"conv{i}" for i in range(1, len(outs))] + ["output"]
            mods = list(model.layers) + [model.head]
    for name, out, mod in zip(names, outs, mods):
        rows.append(dict(name=name, shape=tuple(out.shape[1:]), params=sum(p.numel() for p in mod.parameters())))
    return rows


def layer_summary(model: nn.Module, x: torch.Tensor) -> str:
    """`layer_table` as aligned text: name, output shape, parameters, and the total."""
    rows = layer_table(model, x)
    lines = [f"  {r['name']:8s} {'×'.join(map(str, r['shape'])):>12s} {r['params']:>12,d} params" for r in rows]
    return "\n".join(lines + [f"  {'total':8s} {'':>12s} {sum(r['params'] for r in rows):>12,d} params"])


def build_models(cfg: TrainConfig, seed: int | None = None) -> tuple[Generator, Discriminator]:
    """The networks a config describes (`cfg.channels` None means 3). With `seed`, initialised as
    a training run with that seed starts (§4: N(0, 0.02), G first, then D, from one generator);
    without it, left for `load_state_dict`."""
    channels = cfg.channels or 3
    cond = dict(n_classes=conditional_classes(cfg), bn_affine=cfg.bn_affine)
    if cfg.arch == "fc":  # §8.1's fully connected baseline
        G = FCGenerator(image_size=cfg.image_size, nz=cfg.nz, width=cfg.g_width, channels=channels, **cond)
        D = FCDiscriminator(image_size=cfg.image_size, width=cfg.d_width, channels=channels, **cond)
    else:
        G = Generator(arch=cfg.arch, image_size=cfg.image_size, nz=cfg.nz, width=cfg.g_width, channels=channels, **cond)
        D = Discriminator(arch=cfg.arch, image_size=cfg.image_size, width=cfg.d_width, channels=channels, **cond)
    if seed is not None:
        init = torch.Generator().manual_seed(seed)
        init_weights(G, init)
        init_weights(D, init)
    return G, D


def network_shape(cfg: TrainConfig) -> dict:
    """What fixes the networks' tensors: the config's model fields with the family's default
    widths filled in (so g_width None and 64 are the same torch-style G)."""
    width = FC_WIDTH if cfg.arch == "fc" else _family(cfg.arch)["width"]
    return dict(
        arch=cfg.arch,
        image_size=cfg.image_size,
        nz=cfg.nz,
        g_width=cfg.g_width or width,
        d_width=cfg.d_width or width,
        channels=cfg.channels or 3,
        n_classes=conditional_classes(cfg),
        bn_affine=cfg.bn_affine,
    )


def conditional_classes(cfg: TrainConfig) -> int:
    """The classes a config's nets are conditioned on: 0 for unconditional nets. A conditional
    config must know its class count (the trainer sets it from the data)."""
    if not cfg.conditional:
        return 0
    if not cfg.n_classes:
        raise ValueError("a conditional config needs n_classes (the trainer takes it from the data's labels)")
    return cfg.n_classes


@contextlib.contextmanager
def eval_mode(*nets: nn.Module) -> Iterator[None]:
    """`with eval_mode(G, D):` — eval mode inside (BN uses running statistics), each net's
    previous mode restored afterwards, also on an exception."""
    modes = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)
