"""Run by tests/test_distributed.py under torchrun: train a few steps with DDP, then save this
rank's G and D parameters to OUT/rank{R}.pt so the test can compare the ranks."""

import sys

import torch

from dcgan_core.hardware import distributed
from dcgan_core.train import TrainConfig, train

out, steps = sys.argv[1], int(sys.argv[2])
cfg = TrainConfig(
    dataset="mnist",
    limit=256,
    arch="torch",
    image_size=32,
    g_width=8,
    d_width=8,
    batch_size=32,
    max_steps=steps,
    out=out,
    progress=False,
)
with distributed():
    t = train(cfg)
    torch.save(
        {"generator": t.G.state_dict(), "discriminator": t.D.state_dict(), "world": t.world}, f"{out}/rank{t.rank}.pt"
    )
