"""§4.1.1 de-duplication, measured: the same steps as notebooks/02, from the command line.

    python benchmarks/dedup_eval.py --profile full                 # all of CIFAR-10 (a few minutes)
    python benchmarks/dedup_eval.py --profile smoke --radius 1     # any DedupConfig field as --name value

Prints precision / FP rate / recall per kind of injected change for the autoencoder hash and the
three baselines (SHA-1 of pixels, phash, random projection), the hash + group time against N with
its fitted exponent, and writes the numbers to --json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_core.data import load_dataset  # noqa: E402
from dcgan_core.dedup import (DedupConfig, compare, dedup_config, encode, inject_duplicates, scaling,  # noqa: E402
                              scores_table, train_autoencoder)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="full")
    p.add_argument("--json", default=None, help="write the results here")
    for f in dataclasses.fields(DedupConfig):
        if f.name not in ("scaling_sizes", "progress"):
            p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                           type={"int": int, "float": float}.get(str(f.type).split(" ")[0], str))
    args = vars(p.parse_args())
    profile, out = args.pop("profile"), args.pop("json")
    cfg = dedup_config(profile, **args)
    print(cfg)

    t0 = time.perf_counter()
    data = load_dataset(cfg.dataset, 32, channels=3)
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))[:cfg.eval_images]
    inj = inject_duplicates(data.images[index.sort().values], cfg.per_kind, cfg.seed)
    model, losses = train_autoencoder(inj.images, cfg)
    t_train = time.perf_counter() - t0
    codes = encode(model, inj.images)
    scores = compare(codes, inj, cfg)
    timing = scaling(model, inj.images, cfg.scaling_sizes, cfg.threshold)
    print(f"{len(inj.images):,} images ({(inj.kind != 'original').sum():,} injected); data + training {t_train:.0f} s; "
          f"loss per epoch {[round(v, 4) for v in losses]}")
    print(scores_table(scores))
    for n, h, g in zip(timing.n, timing.hash_s, timing.group_s):
        print(f"N = {n:>9,}: hash {h:6.2f} s, group {g:5.2f} s")
    print(f"fitted exponent {timing.exponent:.3f}; {timing.images_per_s:,.0f} images/s at N = {timing.n[-1]:,}")
    if out:
        Path(out).write_text(json.dumps({"config": cfg.to_dict(), "losses": losses,
                                         "scores": [dataclasses.asdict(s) for s in scores],
                                         "scaling": {**dataclasses.asdict(timing), "exponent": timing.exponent,
                                                     "images_per_s": timing.images_per_s}}, indent=1))


if __name__ == "__main__":
    main()
