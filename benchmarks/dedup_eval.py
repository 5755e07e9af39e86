"""§4.1.1 de-duplication, measured: notebook 02's `run(cfg)`, from the command line.

    python benchmarks/dedup_eval.py --profile cpu                  # all of CIFAR-10 (a few minutes)
    python benchmarks/dedup_eval.py --profile smoke --radius 1     # the `dedup` command's flags, and more

Prints precision / FP rate / recall per kind of injected change for the autoencoder hash and the
three baselines (SHA-1 of pixels, phash, random projection), the best point of the threshold and
radius sweep, the hash + group time against N with its fitted exponent, and writes the numbers
(the same JSON as notebook 02's build/PROFILE/results/02_dedup.json) to --json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_core.config import cli_options  # noqa: E402
from dcgan_core.dedup import DedupConfig, run  # noqa: E402

# The measurement's own fields, which the `dedup` command does not offer (flag=False).
MEASUREMENT = ("eval_images", "per_kind")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--profile",
        default="cpu",
        choices=list(DedupConfig.PROFILES),
        help="smoke: 5,000 images, 3 epochs; cpu and paper: all of CIFAR-10, 10 epochs",
    )
    p.add_argument("--json", default=None, help="write the results here")
    fields = {f.name: f for f in dataclasses.fields(DedupConfig)}
    options = cli_options(DedupConfig) + [
        (f"--{name.replace('_', '-')}", name, int, fields[name].metadata["help"]) for name in MEASUREMENT
    ]
    for flag, name, typ, text in options:
        if typ is bool:
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            p.add_argument(flag, dest=name, type=typ, default=None, help=text)
    args = vars(p.parse_args())
    profile, out = args.pop("profile"), args.pop("json")
    cfg = DedupConfig.from_profile(profile, **args)
    print(cfg)

    result = run(cfg)
    print(result.summary())
    if out:
        print(f"wrote {result.save(out)}")


if __name__ == "__main__":
    main()
