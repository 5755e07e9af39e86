"""
# What D's features owe to each choice (§5.1's recipe, one change at a time)

§5.1 takes "the discriminator's convolutional features from all layers, maxpooling each layers representation to
produce a 4 × 4 spatial grid". Which of that matters? On the same rows (`ablation_split`: the first
`ablation_n_train` training rows, `ablation_n_eval` validation and test rows) and the same SVM:

- **layers**: each conv layer alone against all of them, for the trained D and its random twin;
- **pool** (the pooling grid 1×1, 2×2, 4×4) and **bn** (running against per-batch BN statistics): at `paper`;
- **training**: random init (step 0), the checkpoints kept along `training_runs`, the trained D;
- **width**: random D's of each width (what width alone gives) beside the trained ones.

(The k-means baseline has its own ablation: `kmeans_ablation`.)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from .classify import Split, features_for
from .cnn_baseline import build_models_like
from .features import Features, d_features, load_discriminator, parse_features, random_twin, spec_name
from .files import RunDir
from .models import Discriminator, init_weights
from .pretrained import ZOO_DIR, manifest
from .results import Laps
from .svm import evaluate


def ablation_split(split: Split, cfg) -> Split:
    """The ablations' rows: the first `ablation_n_train` training rows and `ablation_n_eval` of the
    validation and test rows (the order is random: a random subset)."""
    m = cfg.ablation_n_eval
    return dataclasses.replace(split, train=split.train[: cfg.ablation_n_train], val=split.val[:m], test=split.test[:m])


def ablation_rows(fs: tuple[Features, Features, Features], cfg):
    """The same subset of already extracted (train, val, test) features."""
    m = cfg.ablation_n_eval
    return tuple(Features(f.spec, f.x[:n], f.y[:n], f.layer_dims) for f, n in zip(fs, (cfg.ablation_n_train, m, m)))


def direct_features(D: Discriminator, split: Split, cfg, name: str):
    """(train, val, test) Features of an in-memory D on a split's rows (no cache: such a D has no file)."""
    out = []
    for data, rows in ((split.train_data, split.train), (split.train_data, split.val), (split.test_data, split.test)):
        x, dims = d_features(
            D, data.images[torch.from_numpy(rows)], pool=cfg.pool, bn=cfg.bn, batch_size=cfg.batch_size, seed=cfg.seed
        )
        out.append(Features(name, x, data.labels[torch.from_numpy(rows)].numpy(), dims))
    return tuple(out)


def feature_ablations(cfg, in_domain: str, sets: dict, split: Split, kw: dict, laps: Laps) -> dict[str, list[dict]]:
    """Each ablation's rows (accuracy, C, feature_dim and what was changed), by name. `cfg` is notebook 03's
    `representation.RepresentationConfig` (its `run` calls this), `sets` Table 1's features (spec → (train,
    val, test)) on `split`, `kw` `features_for`'s keywords."""
    twin = random_twin(in_domain)

    def row(fs, **extra):
        r = evaluate(*ablation_rows(fs, cfg), cfg.c_grid, max_iter=cfg.max_iter, stop_below=cfg.c_stop)
        return dict(extra, accuracy=r["accuracy"], C=r["C"], feature_dim=r["feature_dim"])

    ablations = {"layers": [dict(row(sets[s], layers="all"), spec=s) for s in (in_domain, twin)]}
    for s in (in_domain, twin):
        for i in range(len(sets[in_domain][0].layer_dims)):
            r = evaluate(
                *ablation_rows(sets[s], cfg), cfg.c_grid, columns=[i], max_iter=cfg.max_iter, stop_below=cfg.c_stop
            )
            ablations["layers"].append(
                dict(layers=str(i + 1), spec=s, accuracy=r["accuracy"], C=r["C"], feature_dim=r["feature_dim"])
            )
    laps("ablation layers", ablations["layers"])
    sub = ablation_split(split, cfg)
    if cfg.ablation_grid_bn:
        ablations["pool"] = [row(features_for(in_domain, sub, **{**kw, "pool": p}), pool=p) for p in (1, 2, 4)]
        laps("ablation pool", ablations["pool"])
        ablations["bn"] = [
            row(features_for(s, sub, **{**kw, "bn": b}), bn=b, spec=s)
            for s in (in_domain, twin)
            for b in ("eval", "batch")
        ]
        laps("ablation bn", ablations["bn"])
    # Training length: random init (step 0), the checkpoints kept along each of `training_runs` (runs of
    # D's architecture, train --keep-every, any width), and the in-domain D at its final step.
    D0, _ = load_discriminator(in_domain)
    w0 = D0.layers[0][0].out_channels
    ablations["training"] = [dict(row(sets[twin]), step=0, run=in_domain, width=w0)]
    for run_dir in cfg.training_runs:
        for path in RunDir(run_dir).step_checkpoints():
            D, _ = load_discriminator(str(path))
            ablations["training"].append(
                dict(
                    row(features_for(str(path), sub, **kw)),
                    run=run_dir,
                    step=int(path.stem.split("_")[1]),
                    width=D.layers[0][0].out_channels,
                )
            )
    ablations["training"].append(
        dict(
            row(sets[in_domain]), run=in_domain, width=w0, step=manifest(ZOO_DIR)[parse_features(in_domain)[1]]["steps"]
        )
    )
    laps("ablation training", ablations["training"])
    # Width: random D's of each width show what width alone gives; trained: the in-domain D and the last
    # checkpoint of each training run.
    ablations["width"] = []
    for w in (32, 64, 128):
        _, Dw = build_models_like(D0, width=w)
        init_weights(Dw, torch.Generator().manual_seed(cfg.seed))
        ablations["width"].append(
            row(direct_features(Dw.eval(), sub, cfg, f"random width {w}"), width=w, trained=False)
        )
    last = {r["run"]: r for r in ablations["training"][1:]}  # each run's last step (the zoo D's too)
    ablations["width"] += [dict(r, trained=True) for r in sorted(last.values(), key=lambda r: r["width"])]
    laps("ablation width", ablations["width"])
    return ablations


def ablation_figure(result):
    """Accuracy per layer, pooling grid, BN mode, width and training length (one panel each)."""
    import matplotlib.pyplot as plt

    from .figures import readable_labels

    ab = result.ablations
    names = [n for n in ("layers", "pool", "bn", "width", "training") if n in ab]
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 3.4), squeeze=False)
    axes = dict(zip(names, axes[0]))
    ax = axes["layers"]
    for spec in dict.fromkeys(r["spec"] for r in ab["layers"]):
        rs = [r for r in ab["layers"] if r["spec"] == spec]
        ax.plot([r["layers"] for r in rs], [r["accuracy"] for r in rs], "o-", label=spec_name(spec))
    ax.set_title("layers used")
    ax.legend(fontsize=7)
    if "pool" in ab:
        axes["pool"].bar([f"{r['pool']}×{r['pool']}" for r in ab["pool"]], [r["accuracy"] for r in ab["pool"]])
        axes["pool"].set_title("max-pool grid per layer")
    if "bn" in ab:
        axes["bn"].bar(
            [f"{'trained' if r['spec'].startswith('zoo') else 'random'}\n{r['bn']}" for r in ab["bn"]],
            [r["accuracy"] for r in ab["bn"]],
            color=["C0", "C0", "C1", "C1"],
        )
        axes["bn"].set_title("BN: running vs batch statistics")
    # trained bars named by their run (or zoo entry): two of one width stay two bars
    axes["width"].bar(
        [f"{r['width']}\n{Path(r['run']).name}" if r["trained"] else str(r["width"]) for r in ab["width"]],
        [r["accuracy"] for r in ab["width"]],
        color=["C0" if r["trained"] else "C1" for r in ab["width"]],
    )
    axes["width"].set_title("D's first width (random; trained)")
    axes["width"].tick_params(axis="x", labelsize=7, labelrotation=35)
    zoo_run = ab["training"][0]["run"]
    ends = [r for r in ab["training"] if r["run"] == zoo_run]  # random init, the zoo's D
    axes["training"].plot(
        [r["step"] for r in ends], [r["accuracy"] for r in ends], "s--", color="C1", label="zoo D (step 0: random)"
    )
    for i, run_dir in enumerate(dict.fromkeys(r["run"] for r in ab["training"] if r["run"] != zoo_run)):
        along = [r for r in ab["training"] if r["run"] == run_dir]
        axes["training"].plot(
            [r["step"] for r in along],
            [r["accuracy"] for r in along],
            "o-",
            color=f"C{i + 2}",
            label=f"kept along {Path(run_dir).name} (width {along[0]['width']})",
        )
    axes["training"].legend(fontsize=7)
    axes["training"].set_title("training steps of D")
    axes["training"].set_xlabel("step")
    lo = min(r["accuracy"] for rs in ab.values() for r in rs)
    for a in axes.values():
        a.set_ylim(max(0, lo - 0.05), None)
        a.grid(alpha=0.3)
    axes["layers"].set_ylabel(f"test accuracy ({result.config.ablation_n_train:,} training images)")
    return readable_labels(fig)
