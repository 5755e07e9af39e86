"""Table 2's supervised baseline (§5.2): a CNN of D's architecture trained from random init on the same
labelled images as the SVM."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .features import load_discriminator
from .models import Discriminator, TrainConfig, build_models, init_weights

# ---------------------------------------------------------------------------------------------
# Table 2's supervised baseline: a CNN of D's architecture trained on the same labels


class Classifier(nn.Module):
    """D's conv layers (random init, N(0, 0.02)) and a linear n-way head on the last one."""

    def __init__(self, D: Discriminator, n_classes: int):
        super().__init__()
        self.layers = D.layers
        c = D.layers[-1][0].out_channels
        self.head = nn.Linear(c * 4 * 4, n_classes)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x.flatten(1))


def train_cnn(
    spec: str,
    images: torch.Tensor,
    labels: torch.Tensor,
    val_images: torch.Tensor,
    val_labels: torch.Tensor,
    *,
    epochs: int = 40,
    seed: int = 0,
    batch_size: int = 64,
) -> Classifier:
    """The supervised CNN with D's architecture (of `spec`'s D) trained on uint8 `images`;
    the epoch with the best validation accuracy is kept."""
    D, _ = load_discriminator(spec, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, fresh = build_models_like(D)
        init_weights(fresh, torch.Generator().manual_seed(seed))
        net = Classifier(fresh, int(max(labels.max(), val_labels.max())) + 1)
        opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
        g = torch.Generator().manual_seed(seed)
        best, best_state = -1.0, None
        for _ in range(epochs):
            net.train()
            order = torch.randperm(len(images), generator=g)
            for s in range(0, len(images), batch_size):
                i = order[s : s + batch_size]
                # Minimise the cross-entropy of the true class.
                loss = F.cross_entropy(net(images[i].float() / 127.5 - 1), labels[i])
                opt.zero_grad()
                loss.backward()
                opt.step()
            acc = cnn_accuracy(net, val_images, val_labels)
            if acc > best:
                best, best_state = acc, copy.deepcopy(net.state_dict())
        net.load_state_dict(best_state)
    return net.eval()


def build_models_like(D: Discriminator, width: int | None = None):
    """A fresh G, D pair with `D`'s architecture (and another first width, if given)."""
    cfg = TrainConfig(
        arch=D.arch, image_size=D.image_size, d_width=width or D.layers[0][0].out_channels, channels=D.channels
    )
    return build_models(cfg)


@torch.no_grad()
def cnn_accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    net.eval()
    pred = torch.cat(
        [net(images[s : s + batch_size].float() / 127.5 - 1).argmax(1) for s in range(0, len(images), batch_size)]
    )
    return float((pred == labels).float().mean())
