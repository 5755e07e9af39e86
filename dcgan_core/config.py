"""One config object for a training run: the notebook's parameters cell and the CLI both build
a `TrainConfig`, the trainer takes it, and every checkpoint stores it (so a checkpoint alone
rebuilds its models). Paper defaults (§4), each with its reason, live here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .diffaugment import parse_policy


@dataclass
class TrainConfig:
    # --- data -----------------------------------------------------------------------------
    dataset: str = "celeba"          # a name from data.KNOWN_DATASETS or "folder:PATH"
    split: str = "train"
    limit: int | None = None         # use only the first N images (smoke runs)
    keep: str | None = None          # a dedup index (kept.json, §4.1.1): train only on the images it kept
    # --- networks (models.py) -------------------------------------------------------------
    arch: str = "paper"              # "paper" (Figure 1, 5×5 kernels) or "torch" (pytorch/examples)
    image_size: int = 64             # 64: LSUN/faces nets; 32: CIFAR-10 / MNIST
    nz: int = 100                    # Figure 1: "A 100 dimensional uniform distribution Z"
    g_width: int | None = None       # G's last hidden width; None = family default (paper 128, torch 64)
    d_width: int | None = None       # D's first width; None = family default
    channels: int | None = None      # None = the dataset's own (1 for MNIST, 3 otherwise)
    # --- optimisation (§4) ----------------------------------------------------------------
    batch_size: int = 128            # §4: "mini-batch stochastic gradient descent (SGD) with a mini-batch size of 128"
    lr: float = 2e-4                 # §4: "0.001 to be too high, using 0.0002 instead"
    beta1: float = 0.5               # §4: "momentum term β1 at the suggested value of 0.9 resulted in training oscillation"
    beta2: float = 0.999             # Adam's default; the paper does not change it
    epochs: int = 1
    max_steps: int | None = None     # stop after this many steps in total (overrides epochs)
    seed: int = 0
    # --- few-data training (not in the paper: off by default; diffaugment.py) ---------------
    diffaugment: str | None = None   # e.g. "color,translation,cutout": DiffAugment on every image D sees
    flip: bool = False               # mirror a random half of each real batch left-right
    # --- output ---------------------------------------------------------------------------
    out: str = "runs/dcgan"
    grid_every: int | None = None    # also save the fixed-noise grid every K steps (always each epoch)
    ckpt_every: int = 500            # write checkpoints/last.pt every K steps (and at each epoch end)
    n_grid: int = 64                 # images in the fixed-noise grid
    # --- evaluation during training (metrics.py; off unless eval_every is set) ----------------
    eval_every: int | None = None    # FID/KID of eval_n samples every K steps → eval.csv; best.pt by FID
    eval_n: int = 500                # samples (and real images) per evaluation: small, so FID is biased high
    eval_split: str | None = None    # real images to compare with; None = "test" where the dataset has one
    device: str = "auto"             # "auto" = cuda if available, else cpu
    # --- speed (no effect on the paper's hyper-parameters; see README "Performance") --------
    precision: str = "auto"          # "bf16": autocast convs/matmuls to bfloat16 (weights, BN, loss stay fp32);
                                     # "auto" = bf16 where the CPU/GPU has native bf16, else "fp32"
    channels_last: bool = True       # NHWC memory layout (faster convolutions on CPU and GPU)
    compile: bool = False            # torch.compile G and D
    progress: bool = True            # tqdm bars

    def __post_init__(self):
        """Reject impossible values here, with the field's name, before any work is done."""
        def check(ok: bool, name: str, want: str):
            if not ok:
                raise ValueError(f"{name} must be {want}, got {getattr(self, name)!r}")
        for name in ("batch_size", "epochs", "ckpt_every", "n_grid", "nz", "eval_n"):
            check(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, name, "an integer ≥ 1")
        for name in ("max_steps", "grid_every", "limit", "g_width", "d_width", "eval_every"):
            value = getattr(self, name)
            check(value is None or (isinstance(value, int) and value >= 1), name, "None or an integer ≥ 1")
        check(self.lr > 0, "lr", "positive")
        check(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "beta1", "in [0, 1) (and so must beta2)")
        check(self.arch in ("paper", "torch"), "arch", "'paper' or 'torch'")
        check(self.precision in ("auto", "fp32", "bf16"), "precision", "'auto', 'fp32' or 'bf16'")
        check(self.channels in (None, 1, 3), "channels", "None, 1 or 3")
        check(self.eval_n >= 2, "eval_n", "at least 2")
        parse_policy(self.diffaugment)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config field(s) {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


# The fields that define the networks: a checkpoint resumes only under the same values.
MODEL_FIELDS = ("arch", "image_size", "nz", "g_width", "d_width", "channels")


# Three profiles for notebook 01 and `make figures`. Values not set fall back to TrainConfig.
PROFILES: dict[str, dict] = {
    # CI: seconds to a couple of minutes on 2 CPU cores; shows the pipeline, not good samples.
    "smoke": dict(dataset="celeba", arch="torch", image_size=32, g_width=32, d_width=32,
                  limit=1024, batch_size=64, epochs=2, ckpt_every=8, grid_every=8),
    # About half an hour on a laptop CPU: recognizable 64×64 faces from CelebA-10k.
    "cpu": dict(dataset="celeba", arch="torch", image_size=64, batch_size=128, epochs=8,
                grid_every=200),
    # One GPU, the paper's settings: Figure 1's network, batch 128, Adam 2e-4 / 0.5.
    "paper": dict(dataset="celeba", arch="paper", image_size=64, batch_size=128, epochs=25,
                  grid_every=1000, ckpt_every=1000),
}


def from_profile(profile: str, **overrides) -> TrainConfig:
    """The config of a named profile, with `overrides` (None values are ignored, so a
    notebook's parameters cell can leave anything at None = "the profile's value")."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    values = {**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig.from_dict(values)
