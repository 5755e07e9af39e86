"""
# Visualizing the discriminator's features by guided backpropagation (§6.2, Figure 5)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.2:

> "Previous work has demonstrated that supervised training of CNNs on large image datasets results
> in very powerful learned features (Zeiler & Fergus, 2014). Additionally, supervised CNNs trained
> on scene classification learn object detectors (Oquab et al., 2014). We demonstrate that an
> unsupervised DCGAN trained on a large image dataset can also learn a hierarchy of features that
> are interesting. Using guided backpropagation as proposed by (Springenberg et al., 2014), we show
> in Fig.5 that the features learnt by the discriminator activate on typical parts of a bedroom,
> like beds and windows. For comparison, in the same figure, we give a baseline for randomly
> initialized features that are not activated on anything that is semantically relevant or
> interesting."

Figure 5's caption: "On the right, guided backpropagation visualizations of maximal axis-aligned
responses for the first 6 learned convolutional features from the last convolution layer in the
discriminator. Notice a significant minority of features respond to beds […]. On the left is a
random filter baseline. Comparing to the previous responses there is little to no discrimination
and random structure."

What we do, for any conv layer of D and any feature (channel) of it:

- **Top images** — every real image of a dataset goes through D (eval mode); a feature's response
  to an image is its maximum over the spatial positions of the layer ("maximal axis-aligned
  responses"); the distinct images with the largest responses are the feature's top images.
- **Guided backpropagation** (Springenberg et al. 2014, arXiv 1412.6806) — the gradient of that one
  maximal response (one channel, one position) with respect to the input image, where every
  rectifier passes gradient back only where its input was positive *and* the gradient coming back
  is positive. D's rectifiers are LeakyReLU(0.2), not ReLU. ours: we apply the guided rule to them
  as to a ReLU — gradient passes where the LeakyReLU's input > 0 and the incoming gradient > 0 — so
  the 0.2 slope of the negative side passes nothing backward. (Passing 0.2 × the positive gradient
  there instead would mix in evidence *against* the feature and blurs the maps.) The forward pass
  is D's own; we re-run D's layers module by module (`layer_output`), swapping each LeakyReLU for
  `GuidedLeakyReLU` (same forward, guided backward) — `models.py`'s nets are not changed.
- **Baseline** — a D of the same architecture with the paper's random init (§4: N(0, 0.02)),
  never trained: the "random filter baseline".

Measured, per feature of the layer, for trained and random D alike (the paper only shows pictures):

- **class selectivity** — the label mix of a feature's `top_k` images against the dataset's prior:
  the KL divergence KL(top-k mix ‖ prior) in nats, and the best class's share of the top-k. On the
  15-Scene rooms the labels are bedroom / kitchen / living room; on CelebA, each binary attribute
  (Smiling, Male, Eyeglasses by default) is a two-class label and the KL is averaged over them.
  `kl_chance` is the mean KL of `top_k` images drawn at random: what finite samples give by chance.
- **selectivity beyond brightness** — the same KL minus that of brightness-matched stand-ins (each top
  image replaced by a random image of nearly the same mean brightness): what the top images' classes owe
  to something other than global brightness, which random filters follow.
- **saliency in object boxes** — on G's samples with §6.3.1's hand-drawn window boxes (scenes), the share
  of each feature's guided-backprop mass inside the boxes, against the share of the image they cover.
- **saliency concentration** — of the guided-backprop map (|gradient| summed over colour channels)
  of a feature's top images, the fraction of its mass in the top 10 % of pixels (0.1 = spread
  evenly; 1 = all in a tenth of the image).

`run(cfg)` measures every zoo model of `cfg.models` (each on its own training data) and returns a
`GuidedBackpropResult`; `guided_backprop_figures.figure5` draws the paper's figure, `selectivity_figure` the distributions;
`widgets.guided_backprop_widget` (from the result; `rebuild` loads the Ds and data again after `read`)
picks model, layer and feature live.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config, option
from .data import ImageData, load_dataset, to_unit_range
from .feature_selectivity import brightness_matched_kl, chance_kl, distinct_top, label_table, selectivity, thumbnails
from .models import Discriminator, build_models, eval_mode
from .pretrained import load_models, model_key, require_discriminator
from .results import Result, artifact


@dataclasses.dataclass
class GuidedBackpropConfig(Config):
    """§6.2: which discriminators, which layer, how many top images per feature."""

    models: tuple[str, ...] = option(
        ("zoo:scenes64", "zoo:celeba64"),
        "the models (zoo:NAME or a checkpoint) whose D to look inside, each on its own training data",
    )
    layer: int = option(
        -1,
        "D's conv layer, 0 = the input side; negative counts from the last (-1: the paper's 'last convolution layer')",
    )
    top_k: int = option(9, "top-activating images per feature for class selectivity", min=1)
    saliency_k: int = option(4, "of those, how many get a guided-backprop map for saliency concentration", min=1)
    show_features: int = option(
        6, "features drawn in Figure 5 (§6.2: 'the first 6 learned convolutional features')", min=1
    )
    show_images: int = option(4, "top images drawn per feature in Figure 5", min=1)
    attributes: tuple[str, ...] = option(
        ("Smiling", "Male", "Eyeglasses"), "CelebA attributes used as labels for a faces D"
    )
    limit: int | None = option(None, "use at most the first N images of each dataset", min=10)
    top_fraction: float = option(0.1, "saliency concentration: the fraction of pixels counted as 'top'", min=0.0)
    box_samples: int = option(32, "annotated samples (§6.3.1's window boxes) for saliency inside the boxes", min=1)
    box_features: int = option(64, "random features of the layer measured inside the boxes", min=1)
    percentile: float = option(99.0, "maps drawn scaled to this percentile of |value| (100: the maximum)", min=1.0)
    overlay: bool = option(False, "Figure 5: maps drawn over the images (red) instead of beside them")
    random_seed: int = option(0, "seed of the random-init baseline D (and of the chance level)")
    batch_size: int = option(128, "images per forward/backward batch", min=1)

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: every feature of D's last layer, the 715 rooms and the first 1,000 faces; ~1 min on 2 cores.
        "smoke": dict(limit=1000, saliency_k=2, box_samples=8, box_features=16),
        # All 10,000 faces.
        "cpu": dict(),
        "paper": dict(saliency_k=9),
    }

    def check(self) -> None:
        if not self.models:
            raise ValueError("models must name at least one zoo model or checkpoint")
        if self.saliency_k > self.top_k:
            raise ValueError(f"saliency_k must be ≤ top_k ({self.top_k}), got {self.saliency_k}")
        if not self.top_fraction < 1:
            raise ValueError(f"top_fraction must be in (0, 1), got {self.top_fraction!r}")


# ---------------------------------------------------------------------------------------------
# Guided backpropagation through D


class GuidedLeakyReLU(torch.autograd.Function):
    """LeakyReLU forward; guided backward: gradient only where input > 0 and incoming gradient > 0
    (Springenberg et al. 2014's rule, applied to D's LeakyReLU as to a ReLU; see the module docstring)."""

    @staticmethod
    def forward(ctx, x, slope: float):
        ctx.save_for_backward(x)
        return F.leaky_relu(x, slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0) * (grad > 0), None


def resolve_layer(D: Discriminator, layer: int) -> int:
    """A layer index (negative from the end) as 0..len(D.layers)-1, or one clear error."""
    n = len(D.layers)
    if not -n <= layer < n:
        raise ValueError(f"layer must be in {-n}..{n - 1} (D has {n} conv layers), got {layer}")
    return layer % n


def layer_output(D: Discriminator, x: torch.Tensor, layer: int, guided: bool = False) -> torch.Tensor:
    """D's feature maps at conv layer `layer` (N×C×h×w), D's own modules run one by one; with
    `guided`, every LeakyReLU becomes `GuidedLeakyReLU` (same values, guided gradients)."""
    if getattr(D, "n_classes", 0):
        raise ValueError("guided backprop is for unconditional discriminators")
    layer = resolve_layer(D, layer)
    for block in D.layers[: layer + 1]:
        for m in block:
            if guided and isinstance(m, nn.LeakyReLU):
                x = GuidedLeakyReLU.apply(x, m.negative_slope)
            else:
                x = m(x)
    return x


@torch.no_grad()
def responses(D: Discriminator, images: torch.Tensor, layer: int, batch_size: int = 128) -> torch.Tensor:
    """Each feature's maximal spatial response to each image: N×C (images uint8 or in [-1, 1])."""
    out = []
    with eval_mode(D):
        for i in range(0, len(images), batch_size):
            x = _unit(images[i : i + batch_size])
            out.append(layer_output(D, x, layer).flatten(2).amax(2))
    return torch.cat(out)


def guided_saliency(
    D: Discriminator, images: torch.Tensor, layer: int, features, batch_size: int = 128
) -> torch.Tensor:
    """Guided-backprop gradients (N×C×H×W) of feature `features[i]`'s maximal response to image i
    with respect to image i. Pairs in one batch do not interact (D is in eval mode), so the gradient
    of the sum of the chosen responses gives each image its own map."""
    features = torch.as_tensor(features, dtype=torch.long).reshape(-1)
    if len(features) != len(images):
        raise ValueError(f"one feature per image: got {len(features)} features for {len(images)} images")
    out = []
    with eval_mode(D), torch.enable_grad():
        for i in range(0, len(images), batch_size):
            x = _unit(images[i : i + batch_size]).clone().requires_grad_(True)
            a = layer_output(D, x, layer, guided=True)
            f = features[i : i + batch_size]
            if int(f.max()) >= a.shape[1] or int(f.min()) < 0:
                raise ValueError(f"feature must be in 0..{a.shape[1] - 1} at layer {layer}, got {int(f.max())}")
            chosen = a[torch.arange(len(f)), f].flatten(1).amax(1)  # the maximal response of each pair
            (grad,) = torch.autograd.grad(chosen.sum(), x)
            out.append(grad.detach())
    return torch.cat(out) if out else torch.zeros(0, *images.shape[1:])


def concentration(saliency: torch.Tensor, top_fraction: float = 0.1) -> np.ndarray:
    """Per map: the fraction of |saliency| mass (summed over channels) in its top `top_fraction` pixels."""
    mag = saliency.abs().sum(1).flatten(1)  # N×(H·W)
    k = max(1, int(round(top_fraction * mag.shape[1])))
    top = mag.topk(k, dim=1).values.sum(1)
    return (top / mag.sum(1).clamp_min(1e-30)).numpy()


def saliency_image(saliency: torch.Tensor, gray: bool = False, percentile: float = 99.0) -> torch.Tensor:
    """Guided-backprop maps as images in [-1, 1], grey = 0: each map divided by its own `percentile`-th
    percentile of |value| (robust: one extreme pixel does not fade the rest; 100 = its maximum) and clipped.
    `gray`: the mean over colour channels, one channel (for gray data the RGB channels' differences are noise)."""
    if gray:
        saliency = saliency.mean(1, keepdim=True)
    mag = saliency.flatten(1).abs()
    scale = (mag.amax(1) if percentile >= 100 else torch.quantile(mag, percentile / 100, dim=1)).clamp_min(1e-30)
    return (saliency / scale.view(-1, 1, 1, 1)).clamp(-1, 1)


def is_gray(images: torch.Tensor) -> bool:
    """One channel, or colour channels that are all equal (gray images stored as RGB)."""
    return images.shape[1] == 1 or bool((images == images[:, :1]).all())


def overlay(images: torch.Tensor, saliency: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """Images in [-1, 1] (gray) with the maps' magnitude over them in red: where the feature looks."""
    mag = saliency.abs().mean(1, keepdim=True)
    mag = (mag / torch.quantile(mag.flatten(1), percentile / 100, dim=1).clamp_min(1e-30).view(-1, 1, 1, 1)).clamp(0, 1)
    base = (images.mean(1, keepdim=True) + 1) / 2 * 0.7  # dimmed gray, in [0, 0.7]
    rgb = torch.cat([base + (1 - base) * mag, base * (1 - mag), base * (1 - mag)], 1)
    return rgb * 2 - 1


def _unit(images: torch.Tensor) -> torch.Tensor:
    return to_unit_range(images) if images.dtype == torch.uint8 else images.float()


@dataclasses.dataclass
class FeatureStats:
    """One D (trained or random) over every feature of one layer."""

    kl: list[float]  # per feature: KL(top-k label mix ‖ prior), nats
    best_share: list[float]  # per feature: the best class's share of the top-k
    concentration: list[float]  # per feature: mean over its top images of the top-10 % saliency mass
    kl_matched: list[float]  # per feature: KL of brightness-matched stand-ins for its top images
    mean_kl: float
    mean_best_share: float
    mean_concentration: float
    mean_kl_beyond_brightness: float  # mean over features of KL − brightness-matched KL


@dataclasses.dataclass
class ModelFeatures:
    """§6.2 for one model: trained D beside a random-init D, on the model's training data."""

    model: str
    dataset: str
    n_images: int
    layer: int  # resolved, 0-based
    layer_shape: list[int]  # C, h, w
    labels: list[str]  # the classes (scenes) or attributes (faces)
    prior: list[float]  # share of each class (scenes) or of each attribute's "yes" (faces)
    kl_chance: float  # mean KL of top_k images drawn at random
    trained: FeatureStats
    random: FeatureStats
    kl_gain: float  # trained mean KL / random mean KL
    selectivity_beyond_brightness: float  # trained − random mean (KL − brightness-matched KL), nats
    concentration_gain: float  # trained mean saliency concentration / random's
    bedroom_features: float | None  # scenes: fraction of features whose top-k are ≥ 2/3 bedrooms
    boxes: dict | None  # where annotated windows exist: saliency mass in the boxes, trained vs random
    controls: dict  # a second random D (another seed) against the random D: concentration
    # gain, selectivity beyond brightness
    D: nn.Module = artifact()
    D_random: nn.Module = artifact()
    data: ImageData = artifact()
    shown: dict = artifact()  # Figure 5's tensors: {"trained"|"random": (images, guided-backprop maps)}
    gray: bool = artifact(False)  # gray data: maps shown as one gray channel


@dataclasses.dataclass
class GuidedBackpropResult(Result):
    config: GuidedBackpropConfig
    models: dict[str, ModelFeatures]
    seconds: float

    def rebuild(self) -> GuidedBackpropResult:
        """Each model's trained D, random D and data again (after `read`), as `run` loaded them."""
        for m in self.models.values():
            if m.D is None:
                _, m.D, m.D_random, _, m.data = load_model(m.model, self.config)
        return self

    def findings(self) -> str:
        """What this run measured, in words with its numbers (notebook 05 shows it under the table)."""
        lines = []
        for name, m in self.models.items():
            t, r = m.trained, m.random
            lines.append(
                f"- **{name}** ({m.n_images:,} images, layer {m.layer}, {m.layer_shape[0]} features): saliency mass "
                f"in the top {self.config.top_fraction:.0%} of pixels {t.mean_concentration:.3f} trained vs "
                f"{r.mean_concentration:.3f} random (gain {m.concentration_gain:.2f}; a second random init over the "
                f"first: {m.controls['random_concentration_gain']:.2f}). Class selectivity, mean KL of the top-"
                f"{self.config.top_k} label mix to the prior: {t.mean_kl:.3f} trained vs {r.mean_kl:.3f} random "
                f"(chance {m.kl_chance:.3f}); beyond what brightness-matched images give: "
                f"{t.mean_kl_beyond_brightness:.3f} trained vs {r.mean_kl_beyond_brightness:.3f} random (difference "
                f"{m.selectivity_beyond_brightness:+.3f}; two random inits: "
                f"{m.controls['random_selectivity_beyond_brightness']:+.3f})."
            )
            if m.boxes:
                b = m.boxes
                lines.append(
                    f"  In the hand-drawn window boxes ({b['samples']} samples, {b['features']} features, boxes "
                    f"{b['area']:.1%} of the image): {b['trained']:.1%} of the trained D's guided-backprop mass, "
                    f"{b['random']:.1%} of a random D's ({b['random_other']:.1%} for a second random init)."
                )
        lines.append(
            "\nWhere the trained D's maps are more concentrated than random filters' (and two random inits "
            "are not), its features pick out compact parts rather than diffuse texture. Whether they pick out "
            "*objects* is what the other two measures ask: top images more class-skewed than images of the "
            "same brightness (random conv features follow global brightness, which differs between kitchens, "
            "bedrooms and living rooms), and more of the map inside the window boxes than the boxes' area."
        )
        return "\n".join(lines)


def random_discriminator(cfg, seed: int) -> Discriminator:
    """The random filter baseline: D of the same architecture, §4's init N(0, 0.02), never trained."""
    _, D = build_models(cfg, seed=seed)
    return D.eval()


def top_images(D: Discriminator, images: torch.Tensor, layer: int, k: int, batch_size: int = 128) -> np.ndarray:
    """F×k: per feature, the indices of the k distinct images with the largest maximal response, best first."""
    return distinct_top(responses(D, images, layer, batch_size), thumbnails(images), k)


def feature_stats(
    D: Discriminator, data: ImageData, labels: np.ndarray, cfg: GuidedBackpropConfig
) -> tuple[FeatureStats, np.ndarray]:
    top = top_images(D, data.images, cfg.layer, cfg.top_k, cfg.batch_size)
    kl, best = selectivity(top, labels)
    matched = brightness_matched_kl(top, labels, data.images.float().mean((1, 2, 3)).numpy(), seed=cfg.random_seed)
    pairs = top[:, : cfg.saliency_k]  # F×s
    feats = np.repeat(np.arange(len(top)), pairs.shape[1])
    sal = guided_saliency(D, data.images[torch.from_numpy(pairs.reshape(-1))], cfg.layer, feats, cfg.batch_size)
    conc = concentration(sal, cfg.top_fraction).reshape(pairs.shape).mean(1)
    return FeatureStats(
        kl=kl.tolist(),
        best_share=best.tolist(),
        concentration=conc.tolist(),
        kl_matched=matched.tolist(),
        mean_kl=float(kl.mean()),
        mean_best_share=float(best.mean()),
        mean_concentration=float(conc.mean()),
        mean_kl_beyond_brightness=float((kl - matched).mean()),
    ), top


def box_saliency(
    D: Discriminator, images: torch.Tensor, boxes: list[list], layer: int, features, batch_size: int = 128
) -> tuple[float, float]:
    """(mean share of |guided-backprop| mass inside the images' boxes, mean share of the image the boxes
    cover) over every (feature, image) pair: each feature's maximal response on each annotated image. A
    feature that looks at the boxed objects puts more than their area's share of its map inside them."""
    n = images.shape[-1]
    mask = torch.zeros(len(images), n, n)
    for i, bs in enumerate(boxes):
        for x0, y0, x1, y1 in bs:
            mask[i, y0:y1, x0:x1] = 1
    feats = np.repeat(np.asarray(features), len(images))
    sal = guided_saliency(D, images.repeat(len(features), 1, 1, 1), layer, feats, batch_size).abs().sum(1)
    inside = (sal * mask.repeat(len(features), 1, 1)).flatten(1).sum(1) / sal.flatten(1).sum(1).clamp_min(1e-30)
    return float(inside.mean()), float(mask.mean())


def _boxes(name: str, G, D, D_random, D_other, layer: int, cfg: GuidedBackpropConfig) -> dict | None:
    """Saliency in the hand-drawn window boxes of §6.3.1 (on G's samples), trained vs random D's, for
    `box_features` features drawn at random; None where the model has no window annotations."""
    from .annotations import load_annotations, sample_for_seed
    from .data import DataError

    try:
        ann = load_annotations(name)
    except DataError:
        return None
    seeds = [int(k) for k, v in ann["samples"].items() if v][: cfg.box_samples]
    images = sample_for_seed(G.float(), seeds)
    boxes = [ann["samples"][str(k)] for k in seeds]
    n_feat = D.layers[layer][0].out_channels
    feats = np.sort(np.random.default_rng(cfg.random_seed).permutation(n_feat)[: cfg.box_features])
    out = dict(samples=len(seeds), features=len(feats))
    for kind, net in (("trained", D), ("random", D_random), ("random_other", D_other)):
        out[kind], out["area"] = box_saliency(net, images, boxes, layer, feats, cfg.batch_size)
    out["trained_over_random"] = out["trained"] / max(out["random"], 1e-12)
    out["control"] = out["random_other"] / max(out["random"], 1e-12)  # a second random init over the first
    return out


def load_model(name: str, cfg: GuidedBackpropConfig) -> tuple:
    """G, its trained D, the random-init D (`cfg.random_seed`), its training config and its data (`cfg.limit` images)."""
    G, D, train_cfg = load_models(name)
    D = require_discriminator(D, name).float().to(memory_format=torch.contiguous_format).eval()
    data = load_dataset(
        train_cfg.dataset, train_cfg.image_size, channels=train_cfg.channels, limit=cfg.limit, progress=False
    )
    return G, D, random_discriminator(train_cfg, cfg.random_seed), train_cfg, data


def measure_model(name: str, cfg: GuidedBackpropConfig) -> ModelFeatures:
    """§6.2 for one zoo model (or checkpoint): trained vs random D on the model's training data."""
    G, D, D_random, train_cfg, data = load_model(name, cfg)
    labels, names = label_table(data, cfg.attributes)
    layer = resolve_layer(D, cfg.layer)
    shown, stats, tops = {}, {}, {}
    for kind, net in (("trained", D), ("random", D_random)):
        stats[kind], top = tops[kind] = feature_stats(net, data, labels, cfg)
        n_show = min(cfg.show_features, len(top))
        idx = top[:n_show, : cfg.show_images]
        imgs = data.images[torch.from_numpy(idx.reshape(-1))]
        sal = guided_saliency(net, imgs, layer, np.repeat(np.arange(n_show), idx.shape[1]), cfg.batch_size)
        shown[kind] = (to_unit_range(imgs).view(*idx.shape, *imgs.shape[1:]), sal.view(*idx.shape, *imgs.shape[1:]))
    # The control: a second random init must not look more structured than the first.
    D_other = random_discriminator(train_cfg, cfg.random_seed + 1)
    other, _ = feature_stats(D_other, data, labels, cfg)
    controls = dict(
        random_concentration_gain=other.mean_concentration / max(stats["random"].mean_concentration, 1e-12),
        random_selectivity_beyond_brightness=other.mean_kl_beyond_brightness
        - stats["random"].mean_kl_beyond_brightness,
    )
    with torch.no_grad():
        shape = list(layer_output(D, to_unit_range(data.images[:1]), layer).shape[1:])
    prior = labels.mean(0)
    bedroom = None
    if "bedroom" in names:
        # A feature "responds to bedrooms" where at least 2/3 of its top-k images are bedrooms.
        bedroom = float((labels[tops["trained"][1]][:, :, 0, names.index("bedroom")].mean(1) >= 2 / 3).mean())
    t, r = stats["trained"], stats["random"]
    return ModelFeatures(
        model=name,
        dataset=data.name,
        n_images=len(data),
        layer=layer,
        layer_shape=shape,
        labels=names,
        prior=(prior[0] if data.classes else prior[:, 1]).tolist(),
        kl_chance=chance_kl(labels, cfg.top_k, 512, cfg.random_seed),
        trained=t,
        random=r,
        kl_gain=t.mean_kl / max(r.mean_kl, 1e-12),
        selectivity_beyond_brightness=t.mean_kl_beyond_brightness - r.mean_kl_beyond_brightness,
        concentration_gain=t.mean_concentration / max(r.mean_concentration, 1e-12),
        bedroom_features=bedroom,
        boxes=_boxes(name, G, D, D_random, D_other, layer, cfg),
        controls=controls,
        D=D,
        D_random=D_random,
        data=data,
        shown=shown,
        gray=is_gray(data.images),
    )


def run(cfg: GuidedBackpropConfig) -> GuidedBackpropResult:
    """§6.2's measurement for every model of the config."""
    t0 = time.perf_counter()
    models = {model_key(model): measure_model(model, cfg) for model in cfg.models}
    return GuidedBackpropResult(config=cfg, models=models, seconds=round(time.perf_counter() - t0, 1))


def maps_row(
    images: torch.Tensor, saliency: torch.Tensor, gray: bool, percentile: float = 99.0, over: bool = False
) -> torch.Tensor:
    """What Figure 5 draws under a feature's top images (in [-1, 1]): their maps, robustly scaled (gray for
    gray data), or with `over` the maps' magnitude in red over the images."""
    if over:
        return overlay(images, saliency, percentile)
    maps = saliency_image(saliency, gray, percentile)
    return maps.expand(-1, images.shape[1], -1, -1)


def feature_view(
    D: Discriminator,
    data: ImageData,
    layer: int,
    feature: int,
    k: int = 6,
    cache: dict | None = None,
    percentile: float = 99.0,
    over: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The widget's callback: a feature's top k distinct images (in [-1, 1]) and their guided-backprop maps
    (as `maps_row` draws them). `cache` keeps each layer's responses (keyed by (id(D), layer)) between calls."""
    key = (id(D), resolve_layer(D, layer))
    if cache is None or key not in cache:
        r = responses(D, data.images, layer)
        if cache is not None:
            cache[key] = r
    else:
        r = cache[key]
    if not 0 <= feature < r.shape[1]:
        raise ValueError(f"feature must be in 0..{r.shape[1] - 1} at layer {layer}, got {feature}")
    idx = torch.from_numpy(distinct_top(r[:, feature : feature + 1], thumbnails(data.images), k)[0])
    imgs = to_unit_range(data.images[idx])
    sal = guided_saliency(D, data.images[idx], layer, [feature] * len(idx))
    return imgs, maps_row(imgs, sal, is_gray(data.images), percentile, over)


def n_features(D: Discriminator, layer: int) -> int:
    """Channels of D's conv layer `layer`."""
    conv = D.layers[resolve_layer(D, layer)][0]
    return conv.out_channels
