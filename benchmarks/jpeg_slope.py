"""How much does the mirror's JPEG compression cost our k-means baseline? (issue 27, §5 Table 1)

The mirror's CIFAR-10 is JPEG quality 75 (4:2:0 chroma) and the original pickles are not offline, so
the cost of that first pass cannot be measured by undoing it. This script measures its slope instead:
the same rows re-encoded once more at several qualities (train, validation and test alike, the block
grid shifted 4 px so each pass is a fresh one: `kmeans_ablation.recode_jpeg`), each with its own
k-means fit and SVM (`kmeans_ablation.kmeans_ablation`, whose JPEG rows these are), at Table 1's
protocol sizes rather than the ablation's 2k rows, where one accuracy's noise is ~1.3 points.

Accuracy is regressed on the distortion each pass made (mean |Δ pixel| of 255); the slope times the
distortion of a fresh q75 pass estimates what the mirror's own q75 pass cost (# ours: this assumes the
first pass distorts the originals about as much as a fresh q75 pass distorts the mirror's images).

    python benchmarks/jpeg_slope.py                         # results/jpeg_slope.json
    python benchmarks/jpeg_slope.py --quick --json /tmp/j.json    # tiny sizes: checks that it runs

The k-means recipe is the one the cpu record's ablation chose (results/cpu), else our default.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dcgan_core.classify import make_split  # noqa: E402
from dcgan_core.features import KMeansRecipe  # noqa: E402
from dcgan_core.kmeans_ablation import kmeans_ablation  # noqa: E402
from dcgan_core.record import RECORD, machine  # noqa: E402
from dcgan_core.representation import RepresentationConfig  # noqa: E402


def recorded_recipe(profile: str = "cpu") -> tuple[KMeansRecipe, str]:
    """The k-means recipe the record's ablation chose, and where it came from."""
    path = RECORD / profile / "results" / "03_representation.json"
    if path.is_file():
        best = (json.loads(path.read_text()).get("kmeans_ablation") or {}).get("best")
        if best:
            return KMeansRecipe(**best), str(path.relative_to(ROOT))
    return KMeansRecipe(), "features.KMeansRecipe() (no record)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=10_000)
    ap.add_argument("--n-val", type=int, default=5_000)
    ap.add_argument("--n-test", type=int, default=5_000)
    ap.add_argument("--qualities", type=int, nargs="+", default=[75, 50, 30])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (k = 50, stride 4, 300 rows): checks that it runs")
    ap.add_argument("--json", type=Path, default=ROOT / "results" / "jpeg_slope.json")
    args = ap.parse_args()
    cfg = RepresentationConfig.from_profile("cpu")
    recipe, source = recorded_recipe()
    if args.quick:
        args.n_train, args.n_val, args.n_test = 300, 150, 150
        recipe, source = KMeansRecipe(k=50, patches=5000, iters=5, stride=4), "quick"
    start = time.perf_counter()
    split = make_split("cifar10", 32, 3, n_train=args.n_train, n_val=args.n_val, n_test=args.n_test, seed=cfg.seed)
    sets = tuple(
        (d.images[torch.from_numpy(r)], d.labels[torch.from_numpy(r)].numpy())
        for d, r in ((split.train_data, split.train), (split.train_data, split.val), (split.test_data, split.test))
    )
    changes = [("data", "jpeg", q) for q in args.qualities]
    ab = kmeans_ablation(sets, recipe, cfg.c_grid, max_iter=cfg.max_iter, seed=cfg.seed, changes=changes)
    rows = [dict(quality=None, distortion=0.0, accuracy=ab["default"]["accuracy"], C=ab["default"]["C"])]
    rows += [dict(quality=r["value"], distortion=r["distortion"], accuracy=r["accuracy"], C=r["C"]) for r in ab["rows"]]
    d, a = np.array([r["distortion"] for r in rows]), np.array([r["accuracy"] for r in rows])
    slope, intercept = np.polyfit(d, a, 1)
    residual_sd = float(np.std(a - (slope * d + intercept), ddof=2)) if len(rows) > 2 else None
    q75 = dict(zip(args.qualities, (r["distortion"] for r in rows[1:]))).get(75)
    n_test = len(sets[2][1])
    out = dict(
        what="k-means (Table 1's baseline) accuracy against one more JPEG pass at each quality, same rows",
        date=datetime.date.today().isoformat(),
        machine=machine(),
        recipe=dataclasses.asdict(recipe),
        recipe_from=source,
        n_train=len(sets[0][1]),
        n_val=len(sets[1][1]),
        n_test=n_test,
        rows=rows,
        slope_per_distortion=float(slope),  # accuracy per unit of mean |Δ pixel| (of 255)
        intercept=float(intercept),
        residual_sd=residual_sd,
        binomial_se=float(np.sqrt(a[0] * (1 - a[0]) / n_test)),
        q75_distortion=q75,
        seconds=round(time.perf_counter() - start, 1),
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
