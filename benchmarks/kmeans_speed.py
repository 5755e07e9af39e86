"""k-means features (§5's Coates & Ng baseline): `features.kmeans_features` against the
definition written out plainly (distances, triangle activation, a sum over each quadrant — the
form it replaced), on the same real CIFAR-10 images, alternating A B A B so machine noise hits both.

    python benchmarks/kmeans_speed.py [--n 200] [--rounds 3] [--threads 1]

Prints one JSON object: seconds per image for each at strides 1 and 2, their ratio, and the
largest difference between the two (float16 output: equal up to its rounding).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from dcgan_core import features
from dcgan_core.data import load_dataset


def plain(km: features.KMeans, images: torch.Tensor, stride: int, batch_size: int = 50) -> np.ndarray:
    """The definition: every op allocates, each quadrant summed on its own."""
    k, out = len(km.centroids), np.empty((len(images), 4 * len(km.centroids)), np.float16)
    c2 = (km.centroids**2).sum(1)
    for s in range(0, len(images), batch_size):
        p = F.unfold(images[s : s + batch_size].float(), km.recipe.patch, stride=stride)
        b, _, L = p.shape
        side = int(math.isqrt(L))
        p = (features.normalise_patches(p.transpose(1, 2).reshape(b * L, -1)) - km.mean) @ km.whiten
        z = ((p * p).sum(1, keepdim=True) - 2 * p @ km.centroids.T + c2).clamp(min=0).sqrt()
        f = (z.mean(1, keepdim=True) - z).clamp(min=0).reshape(b, side, side, k)
        h = side // 2
        out[s : s + b] = torch.cat(
            [q.sum((1, 2)) for q in (f[:, :h, :h], f[:, :h, h:], f[:, h:, :h], f[:, h:, h:])], 1
        ).numpy()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="CIFAR-10 test images per timing")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("cifar10", 32, split="test", progress=False)
    km = features.fit_kmeans(
        data.images[:2000], features.KMeansRecipe(k=1600, patches=20_000)
    )  # K = 1600 as Coates & Ng
    images = data.images[: args.n]
    report = dict(n=args.n, k=1600, threads=args.threads, rounds=args.rounds)
    for stride in (1, 2):
        times, out = {"plain": [], "ours": []}, {}
        for _ in range(args.rounds):
            at = dataclasses.replace(km, recipe=dataclasses.replace(km.recipe, stride=stride))
            for name, fn in (
                ("plain", lambda at=at, s=stride: plain(at, images, s)),
                ("ours", lambda at=at: features.kmeans_features(at, images)),
            ):
                t = time.perf_counter()
                out[name] = fn().astype(np.float32)
                times[name].append(time.perf_counter() - t)
        med = {name: statistics.median(ts) / args.n for name, ts in times.items()}
        report[f"stride{stride}"] = dict(
            s_per_image_plain=med["plain"],
            s_per_image_ours=med["ours"],
            speedup=med["plain"] / med["ours"],
            max_rel_diff=float(np.abs(out["plain"] - out["ours"]).max() / np.abs(out["plain"]).max()),
        )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
