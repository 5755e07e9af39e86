"""
# A face-attribute classifier: the judge of §6.3's experiments

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3
judged its results by eye: which generated faces smile, wear glasses, are men or women. To put
numbers on them (§6.3.2's vector arithmetic, §6.3.1's forgotten eyeglasses) we train a judge on
real faces: a small CNN on the mirror's CelebA-10k, 64×64, predicting the dataset's own labels
(`Smiling`, `Male`, `Eyeglasses`, and two more that cost nothing extra, `Young`, `Wearing_Hat`).

- **Data** — `data.load_dataset("celeba", 64)`; a random `test_fraction` of the faces is held out
  and never trained on: accuracy and ROC-AUC per attribute come from it (`AttributeClassifier.card`).
- **Network** (ours) — four stride-2 convolutions, 64→32→16→8→4, as D's (§3) but with one logit per
  attribute, trained with a binary cross-entropy per attribute, Adam 1e-3.
- **Augmentation** (ours) — random left-right mirroring (none of the attributes has a side), and a
  Gaussian blur on a random half of the training faces: the zoo's generators draw blurry faces, and
  a judge that has only seen sharp ones reads blur as an attribute.
- **Cached** — training takes a minute or two on 2 CPU cores, so `load_classifier` trains once and
  keeps the weights in the data cache folder (`data.cache_root()/cache/attributes-KEY.pt`, written
  atomically), KEY hashing the data and the config: notebooks, tests and the CLI share one judge.

It reads generated faces as it reads real ones only as far as they look alike: the notebooks show
its verdicts on samples beside the images, and its held-out scores are on real faces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import Config, option
from .data import DATASETS, DataError, cache_root, load_dataset, to_unit_range
from .files import atomic_write
from .pretrained import manifest
from .results import Result

ATTRIBUTES = ("Smiling", "Male", "Eyeglasses", "Young", "Wearing_Hat")
_CACHE_VERSION = 1  # bump when the network or the training changes: cached judges are keyed by it


@dataclasses.dataclass
class AttributeConfig(Config):
    """The classifier's data and training (all choices ours: the paper has no classifier)."""

    dataset: str = option("celeba", "faces with CelebA's 40 attributes (the mirror's CelebA-10k)")
    attributes: tuple[str, ...] = option(ATTRIBUTES, "the CelebA attributes to predict")
    limit: int | None = option(None, "use only the first N faces", min=100)
    test_fraction: float = option(0.2, "fraction of the faces held out for accuracy and ROC-AUC", min=0.05)
    width: int = option(16, "channels of the first convolution (doubling at each of the four)", min=4)
    epochs: int = option(3, "training epochs", min=1)
    batch_size: int = option(64, "mini-batch size", min=1)
    lr: float = option(1e-3, "Adam learning rate")
    blur: float = option(
        0.5,
        "fraction of training faces blurred (σ ~ U[0.5, 1.5] px), so blurry generated faces are read as faces",
        min=0.0,
    )
    seed: int = option(0, "seed of the split, the init and the data order")
    progress: bool = option(True, "tqdm progress bars")

    PROFILES: ClassVar[dict[str, dict]] = {
        # CI: about a minute on 2 CPU cores (4,000 faces, 2 epochs); held-out ROC-AUC still ~0.9
        # or more for Smiling, Male and Eyeglasses.
        "smoke": dict(limit=4000, epochs=2),
        # The judge the notebooks report with at `cpu`: 8,000 faces, 3 epochs, ~4 min on 2 CPU
        # cores, once (then cached).
        "cpu": dict(),
        "paper": dict(),
    }

    def check(self) -> None:
        if not self.attributes:
            raise ValueError("attributes must name at least one CelebA attribute")
        if not self.test_fraction < 0.9:
            raise ValueError(f"test_fraction must be in [0.05, 0.9), got {self.test_fraction!r}")
        if not self.blur <= 1:
            raise ValueError(f"blur must be a fraction in [0, 1], got {self.blur!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def is_faces(dataset: str) -> bool:
    """Whether `dataset` (a TrainConfig.dataset) is faces with CelebA's attributes: what the judge reads."""
    info = DATASETS.get(dataset.split(":")[0])
    return info is not None and info.labels == "attributes"


def require_face_model(model: str, train_cfg, what: str) -> None:
    """One clear error where the judge cannot read `model`'s samples: its G is class-conditional
    (§8.1: it draws the class it is given, and §6.3 works on z alone), it was not trained on faces,
    or its samples are not 64×64 RGB (the judge's input)."""
    faces = ", ".join(f"zoo:{n}" for n, e in manifest().items() if is_faces(e["dataset"]) and e["image_size"] == 64)
    use = f"use a face model ({faces or 'none in the zoo'}) or a checkpoint trained on celeba at 64×64"
    if train_cfg.conditional:
        raise ValueError(
            f"{what} is not supported on a class-conditional model: {model} draws the class it is "
            f"given with each z (§8.1), and §6.3 works on z alone; {use}"
        )
    if not is_faces(train_cfg.dataset):
        raise ValueError(
            f"{what} reads face attributes, and {model} was trained on {train_cfg.dataset}, not faces; {use}"
        )
    if train_cfg.image_size != 64 or train_cfg.channels not in (None, 3):
        raise ValueError(
            f"{what}: the attribute classifier reads 64×64 RGB faces, and {model} draws "
            f"{train_cfg.image_size}×{train_cfg.image_size}{' gray' if train_cfg.channels == 1 else ''}; "
            f"{use}"
        )


class AttributeNet(nn.Module):
    """64×64 face → one logit per attribute: four strided convolutions as D's, then a linear layer."""

    def __init__(self, n_out: int, width: int = 32):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # 64 → 32
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),  # → 16
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, True),  # → 8
            nn.Conv2d(4 * w, 8 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(8 * w),
            nn.LeakyReLU(0.2, True),  # → 4
            nn.Flatten(),
            nn.Dropout(0.3),
        )  # faces are aligned: where a feature is matters
        self.head = nn.Linear(8 * w * 4 * 4, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _blur(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A Gaussian blur with one random σ in [0.5, 1.5] px per image (separable, 5 taps)."""
    sigma = 0.5 + torch.rand(len(x), 1, generator=gen)  # N×1
    taps = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-(taps**2) / (2 * sigma**2))
    k = k / k.sum(1, keepdim=True)  # N×5
    n, c, h, w = x.shape
    y = x.reshape(1, n * c, h, w)
    kk = k.repeat_interleave(c, 0)  # (N·C)×5, one kernel per channel
    y = F.conv2d(F.pad(y, (2, 2, 0, 0), mode="replicate"), kk.view(n * c, 1, 1, 5), groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, 2, 2), mode="replicate"), kk.view(n * c, 1, 5, 1), groups=n * c)
    return y.reshape(n, c, h, w)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (NaN where only one class is present)."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, scores))


@dataclasses.dataclass
class AttributeScores(Result):
    """The classifier's card: held-out accuracy and ROC-AUC per attribute, on real faces."""

    config: AttributeConfig
    n_train: int
    n_test: int
    accuracy: dict[str, float]  # at p > 0.5
    auc: dict[str, float]  # ROC-AUC
    positive_rate: dict[str, float]  # of the held-out faces (accuracy of always saying "no" = 1 − this)
    losses: list[float]  # training loss per epoch
    seconds: float


class AttributeClassifier:
    """A trained `AttributeNet` with its attribute names and held-out scores; `predict` gives
    probabilities for images in [-1, 1] (generated) or uint8 (real)."""

    def __init__(self, net: AttributeNet, names: list[str], scores: AttributeScores, key: str = ""):
        self.net, self.names, self.scores, self.key = net.eval(), list(names), scores, key

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
        """N×A probabilities, one column per name in `self.names`."""
        x = torch.as_tensor(images)
        if x.dtype == torch.uint8:
            x = to_unit_range(x)
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, 64, 64):
            raise ValueError(f"the attribute classifier reads N×3×64×64 faces, got shape {tuple(x.shape)}")
        out = [torch.sigmoid(self.net(x[i : i + batch_size].float())) for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.names)))

    def column(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"the classifier does not predict {name!r}; it predicts {', '.join(self.names)}")
        return self.names.index(name)

    def card(self) -> str:
        """The held-out scores as a Markdown table."""
        s = self.scores
        rows = [
            f"attribute classifier ({s.n_train:,} training faces, {s.n_test:,} held out)",
            "",
            "| attribute | held-out positives | accuracy | ROC-AUC |",
            "|---|---|---|---|",
        ]
        rows += [f"| {n} | {s.positive_rate[n]:.1%} | {s.accuracy[n]:.3f} | {s.auc[n]:.3f} |" for n in self.names]
        return "\n".join(rows)


def _train_test_rows(n: int, cfg: AttributeConfig) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))
    n_test = max(1, int(round(n * cfg.test_fraction)))
    return order[n_test:].sort().values, order[:n_test].sort().values


def _labels(data, names) -> torch.Tensor:
    if data.attributes is None:
        raise DataError(f"{data.name} has no attribute labels: the classifier needs CelebA's (dataset celeba)")
    missing = [n for n in names if n not in data.attribute_names]
    if missing:
        raise ValueError(f"unknown CelebA attribute(s) {missing}; known: {', '.join(data.attribute_names)}")
    return data.attributes[:, [data.attribute_names.index(n) for n in names]].float()


def train_classifier(cfg: AttributeConfig, data=None) -> AttributeClassifier:
    """Train the classifier on `cfg.dataset` (or the given ImageData) and score it on the held-out faces."""
    import time

    start = time.perf_counter()
    data = data if data is not None else load_dataset(cfg.dataset, 64, limit=cfg.limit, progress=cfg.progress)
    y = _labels(data, cfg.attributes)
    train_idx, test_idx = _train_test_rows(len(data), cfg)
    torch.manual_seed(cfg.seed)
    net = AttributeNet(len(cfg.attributes), cfg.width)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    losses = []
    for epoch in range(cfg.epochs):
        net.train()
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        total, batches = 0.0, range(0, len(order), cfg.batch_size)
        for start_i in tqdm(
            batches, desc=f"attributes epoch {epoch + 1}/{cfg.epochs}", disable=not cfg.progress, leave=False
        ):
            idx = order[start_i : start_i + cfg.batch_size]
            x = to_unit_range(data.images[idx])
            flip = torch.rand(len(x), generator=gen) < 0.5
            x[flip] = x[flip].flip(-1)
            blur = torch.rand(len(x), generator=gen) < cfg.blur
            if blur.any():
                x[blur] = _blur(x[blur], gen)
            # minimise the mean binary cross-entropy over the attributes
            loss = F.binary_cross_entropy_with_logits(net(x), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(order))
    net.eval()
    names = list(cfg.attributes)
    clf = AttributeClassifier(net, names, None)
    p = clf.predict(data.images[test_idx])
    truth = y[test_idx].numpy().astype(bool)
    scores = AttributeScores(
        config=cfg,
        n_train=len(train_idx),
        n_test=len(test_idx),
        accuracy={n: float(((p[:, j] > 0.5) == truth[:, j]).mean()) for j, n in enumerate(names)},
        auc={n: roc_auc(p[:, j], truth[:, j]) for j, n in enumerate(names)},
        positive_rate={n: float(truth[:, j].mean()) for j, n in enumerate(names)},
        losses=losses,
        seconds=time.perf_counter() - start,
    )
    clf.scores = scores
    return clf


def cache_key(cfg: AttributeConfig, data) -> str:
    """What the weights depend on: the data (name, size, a digest of the labels and of some pixels)
    and every config field but `progress`."""
    digest = hashlib.sha1(data.attributes.numpy().tobytes())
    digest.update(np.ascontiguousarray(data.images[:64].numpy()).tobytes())
    fields = {k: v for k, v in cfg.to_dict().items() if k != "progress"}
    key = json.dumps([_CACHE_VERSION, data.name, len(data), digest.hexdigest(), fields], sort_keys=True, default=str)
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def cache_path(key: str, cache_dir: str | Path | None = None) -> Path:
    return cache_root(cache_dir) / "cache" / f"attributes-{key}.pt"


def load_classifier(
    cfg: AttributeConfig | None = None, *, cache_dir: str | Path | None = None, retrain: bool = False
) -> AttributeClassifier:
    """The classifier of `cfg` (default: the `cpu` profile's), from the cache when it was trained
    before on the same data with the same config, else trained now and cached."""
    cfg = cfg or AttributeConfig.from_profile("cpu")
    data = load_dataset(cfg.dataset, 64, limit=cfg.limit, progress=cfg.progress)
    key = cache_key(cfg, data)
    path = cache_path(key, cache_dir)
    if path.is_file() and not retrain:
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            net = AttributeNet(len(saved["names"]), cfg.width)
            net.load_state_dict(saved["state"])
            scores = saved["scores"]
            scores = AttributeScores(**{**scores, "config": AttributeConfig.from_dict(scores["config"])})
            return AttributeClassifier(net, saved["names"], scores, key)
        except (OSError, RuntimeError, KeyError, TypeError, ValueError):
            pass  # a damaged or stale file: train again and replace it
    clf = train_classifier(cfg, data)
    clf.key = key
    saved = dict(names=clf.names, state=clf.net.state_dict(), scores=clf.scores.to_dict())
    atomic_write(path, lambda tmp: torch.save(saved, tmp))
    return clf
