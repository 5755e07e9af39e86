"""Differentiable augmentation for few-data GAN training — not in the DCGAN paper.

Zhao, Liu, Lin, Zhu & Han, *Differentiable Augmentation for Data-Efficient GAN Training*
(2020, [arXiv 2006.10738](https://arxiv.org/abs/2006.10738)): with few images, D memorises
the training set and G's gradient stops meaning anything. DiffAugment applies the same family of
random transforms T to *every* image D sees — real and generated, in D's step and in G's step —
so D learns D(T(x)), and since T is differentiable G still gets its gradient through T(G(z)).
Augmenting only the reals would teach G to draw augmented images; augmenting both is the point.

The paper (§4) used no augmentation, so this is off by default (`TrainConfig.diffaugment`);
the zoo cards say where a model used it. Our version follows the reference policy:

* `color`: brightness + U(−½, ½), saturation × U(0, 2), contrast × U(½, 3/2), per image;
* `translation`: shift by up to ⅛ of the size in each direction, zero-padded (0 = mid-grey here);
* `cutout`: a square of half the size, anywhere, set to 0.

Randomness comes from the `torch.Generator` passed in (the trainer seeds one per step), so a run
with DiffAugment stays bit-exact under resume. `flip_images` is the separate, ordinary
augmentation of the *data* (horizontal flips of real images only; `TrainConfig.flip`).
"""

from __future__ import annotations

import torch

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """ "color,translation" -> ("color", "translation"); None or "" -> () (off)."""
    names = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ValueError(
            f"unknown DiffAugment transform(s) {unknown}; choose from {', '.join(POLICIES)} "
            f"(comma-separated, e.g. 'color,translation,cutout')"
        )
    return names


def _uniform(x: torch.Tensor, gen: torch.Generator, low: float, high: float) -> torch.Tensor:
    """One U(low, high) number per image, shaped to broadcast over C×H×W."""
    u = torch.rand(x.shape[0], 1, 1, 1, generator=gen)
    return (low + (high - low) * u).to(x.device, x.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    x = x + _uniform(x, gen, -0.5, 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _uniform(x, gen, 0.0, 2.0) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, gen, 0.5, 1.5) + mean  # contrast


def _grid(x: torch.Tensor):
    n, _, h, w = x.shape
    return (torch.arange(n).view(n, 1, 1), torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w))


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by (dy, dx) ∈ [−r, r]² pixels, r = ratio·size; pixels shifted in are 0.
    A gather from a zero-padded copy: differentiable in x, the index is not learned."""
    n, c, h, w = x.shape
    ry, rx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-ry, ry + 1, (n, 1, 1), generator=gen)
    dx = torch.randint(-rx, rx + 1, (n, 1, 1), generator=gen)
    b, gy, gx = _grid(x)
    # In a copy padded by one zero pixel on each side, out-of-range positions read the padding.
    gy = (gy + dy + 1).clamp(0, h + 1)
    gx = (gx + dx + 1).clamp(0, w + 1)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    return padded.permute(0, 2, 3, 1)[b.to(x.device), gy.to(x.device), gx.to(x.device)].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one (ratio·size)² square per image, its centre anywhere in the image."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - sy % 2), (n, 1, 1), generator=gen)
    cx = torch.randint(0, w + (1 - sx % 2), (n, 1, 1), generator=gen)
    _, gy, gx = _grid(x)
    inside = (
        ((gy - cy + sy // 2) >= 0)
        & ((gy - cy + sy // 2) < sy)
        & ((gx - cx + sx // 2) >= 0)
        & ((gx - cx + sx // 2) < sx)
    )
    return x * (~inside).unsqueeze(1).to(x.device, x.dtype)


TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    """T(x) for the transforms in `policy` (in the order given), fresh random parameters per image."""
    for name in policy:
        x = TRANSFORMS[name](x, gen)
    return x


def flip_images(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left–right (real data only: an ordinary augmentation)."""
    flip = (torch.rand(x.shape[0], generator=gen) < 0.5).to(x.device)
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
