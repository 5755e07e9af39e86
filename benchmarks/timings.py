"""How long the Quickstart commands take, measured as a new user meets them: in a fresh clone of the
committed tree (cold caches: the data is extracted, features and the attribute classifier computed
anew), one after the other, on this host. Writes results/timings.json, which the README's timings
table is generated from (`python -m dcgan_core readme`).

    python benchmarks/timings.py                      # make figures PROFILE=smoke, then make test
    python benchmarks/timings.py --cpu                # make figures PROFILE=cpu first (about an hour)
    python benchmarks/timings.py --cpu-from results/cpu/run.json    # the cpu time of the record's run

Run it with nothing else on the machine: the numbers are wall times. Each command's exit code is
recorded beside its time (`make figures` exits 1 where a verdict is unexpected; the time still counts).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dcgan_core.record import host_name, machine  # noqa: E402


def timed(command: list[str], cwd: Path, log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open(log, "w") as f:
        code = subprocess.run(
            command,
            cwd=cwd,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "CI": os.environ.get("CI", "true")},
        ).returncode
    return time.perf_counter() - start, code


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cpu", action="store_true", help="also time make figures PROFILE=cpu (first)")
    p.add_argument("--cpu-from", help="take the cpu time from a run.json (e.g. results/cpu/run.json)")
    p.add_argument("--out", default=str(ROOT / "results" / "timings.json"))
    p.add_argument("--keep", action="store_true", help="keep the fresh clone (its path is printed)")
    args = p.parse_args()

    clone = Path(tempfile.mkdtemp(prefix="dcgan-timings-")) / "dcgan"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    print(f"fresh clone of {commit[:12]} in {clone}; host: {host_name(machine())}", flush=True)
    commands = ([["make", "figures", "PROFILE=cpu"]] if args.cpu else []) + [
        ["make", "figures", "PROFILE=smoke"],
        ["make", "test"],
    ]
    seconds, codes = {}, {}
    if args.cpu_from:
        run = json.loads(Path(args.cpu_from).read_text())
        seconds["make figures PROFILE=cpu"], codes["make figures PROFILE=cpu"] = run["seconds"], None
    for command in commands:
        name = " ".join(command)
        s, code = timed(command, clone, clone.parent / f"{command[-1].replace('=', '-')}.log")
        seconds[name], codes[name] = round(s, 1), code
        print(
            f"{name}: {s / 60:.1f} min (exit {code}; log {clone.parent / (command[-1].replace('=', '-') + '.log')})",
            flush=True,
        )
    out = dict(
        date=datetime.date.today().isoformat(),
        commit=commit,
        machine=machine(),
        seconds=seconds,
        exit_codes=codes,
        how=" ".join(["python benchmarks/timings.py"] + sys.argv[1:]),
    )
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(clone.parent)])


if __name__ == "__main__":
    main()
