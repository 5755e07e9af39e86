"""§8.1's class-conditional pieces, used by the MNIST appendix: the one-hot label and how every layer
sees it, and the permutation-invariant, fully connected GAN baseline (`arch="fc"`).

The label enters a conditional net as a one-hot vector concatenated to z and, as constant one-hot maps,
to the input of every later layer (conv_cond_concat in the authors' conditional MNIST code): no
parameters to learn, and no layer can lose the label. models.py builds its conv nets with the same two
helpers, and `build_models` builds the fully connected pair from a config with `arch="fc"`.
"""

from __future__ import annotations

import torch
from torch import nn

FC_WIDTH = 1024  # ours: hidden units of the fully connected baseline's layers


def one_hot(labels: torch.Tensor | None, n_classes: int, dtype: torch.dtype) -> torch.Tensor | None:
    """The labels of a conditional net as one-hot rows (None for an unconditional net, n_classes 0);
    a conditional net called without labels, or with labels out of range, is one clear error."""
    if not n_classes:
        if labels is not None:
            raise ValueError("this network is not conditional: call it without labels")
        return None
    if labels is None:
        raise ValueError(f"this network is class-conditional ({n_classes} classes): pass labels")
    labels = torch.as_tensor(labels)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}, got {int(labels.min())}..{int(labels.max())}")
    return nn.functional.one_hot(labels.long(), n_classes).to(dtype)


def with_labels(h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """h with the one-hot labels y appended: as features to a vector (N×F), as constant maps to
    feature maps (N×C×H×W → N×(C+K)×H×W). Unchanged where y is None (unconditional)."""
    if y is None:
        return h
    y = y.to(h.dtype)
    if h.dim() == 2:
        return torch.cat([h, y], 1)
    return torch.cat([h, y[:, :, None, None].expand(-1, -1, *h.shape[2:])], 1)


class FCGenerator(nn.Module):
    """§8.1's permutation-invariant GAN baseline: a fully connected G, [z, y] → width → width → image,
    BN + ReLU on the hidden layers and Tanh out, the one-hot label concatenated to each layer's input
    like the conv nets (`arch="fc"`). ours: two hidden layers of `width` (1024 by default); the paper
    gives no sizes."""

    def __init__(
        self,
        *,
        image_size: int = 32,
        nz: int = 100,
        width: int | None = None,
        channels: int = 1,
        n_classes: int = 0,
        bn_affine: bool = True,
    ):
        super().__init__()
        width, k = width or FC_WIDTH, n_classes
        self.arch, self.image_size, self.nz, self.channels, self.n_classes = "fc", image_size, nz, channels, n_classes

        def hidden(c_in):
            return nn.Sequential(
                nn.Linear(c_in + k, width, bias=False), nn.BatchNorm1d(width, affine=bn_affine), nn.ReLU(True)
            )

        self.layers = nn.ModuleList(
            [
                hidden(nz),
                hidden(width),
                nn.Sequential(
                    nn.Linear(width + k, channels * image_size**2, bias=False),
                    nn.Tanh(),
                    nn.Unflatten(1, (channels, image_size, image_size)),
                ),
            ]
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot(labels, self.n_classes, z.dtype)
        for layer in self.layers:
            z = layer(with_labels(z, y))
        return z


class FCDiscriminator(nn.Module):
    """§8.1's fully connected D: [x, y] → width → width → one logit, LeakyReLU 0.2, BN on the second
    hidden layer only (§3's rule: none on D's input layer), the label concatenated to each layer's input."""

    def __init__(
        self,
        *,
        image_size: int = 32,
        width: int | None = None,
        channels: int = 1,
        n_classes: int = 0,
        bn_affine: bool = True,
    ):
        super().__init__()
        width, k = width or FC_WIDTH, n_classes
        self.arch, self.image_size, self.channels, self.n_classes = "fc", image_size, channels, n_classes
        self.layers = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Flatten(), nn.Linear(channels * image_size**2 + k, width, bias=False), nn.LeakyReLU(0.2, True)
                ),
                nn.Sequential(
                    nn.Linear(width + k, width, bias=False),
                    nn.BatchNorm1d(width, affine=bn_affine),
                    nn.LeakyReLU(0.2, True),
                ),
            ]
        )
        self.head = nn.Linear(width + k, 1, bias=False)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot(labels, self.n_classes, x.dtype)
        x = x.flatten(1)
        for layer in self.layers:
            x = layer(with_labels(x, y))
        return self.head(with_labels(x, y)).view(-1)
