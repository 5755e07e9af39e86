"""The results of record: what one `make figures PROFILE=P` run measured, judged and timed, kept in git.

`python -m dcgan_core notebooks --profile P` (= `make figures`) runs every notebook and ends by
writing, beside the executed notebooks in build/P/:

* `run.json` — which commit (and whether the tree was dirty), which machine (CPU model, cores,
  AVX-512 / AMX flags, torch), the profile, and the seconds each notebook took (`run_info`);
* `claims.json` — every claim of `claims.CLAIMS` judged on the run's results: the paper's value,
  ours, the tolerance, holds|fails, what was expected and why, the control's verdict (`verdicts`).

`python -m dcgan_core record --profile P` (= `make record PROFILE=P`) copies them with each
notebook's results JSON and the key figures (downscaled) into `results/P/`, and renders
`results/P/RESULTS.md` from the two JSON files (`render`), so no number in it is typed by hand;
`tests/test_record.py` checks that the committed page is what the JSON renders to. A later run
is compared with the record by `compare`: the same verdicts, numbers within each claim's tolerance.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from pathlib import Path

from .claims import CLAIMS, judge_all
from .files import atomic_write, read_json, write_json, write_text
from .results import load_results, results_dir
from .verdicts import MissingResult, Verdict, fmt, judge, reproduces

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "results"  # results/PROFILE/: the committed record
BUDGET_S = 3600  # the cpu record's budget: the whole companion in an hour on 2 cores (issue 27)


def over_budget(run: dict) -> str:
    """' — over the hour's budget by N min' where a cpu run took longer than BUDGET_S, else ''."""
    over = run["seconds"] - BUDGET_S
    return f" — **over the hour's budget by {over / 60:.1f} min**" if run["profile"] == "cpu" and over > 0 else ""


# The figures the record keeps (Figures 1–9 of the paper, Tables 1 and 3), each at most this wide.
FIGURES = (
    "fig1_generator.png",
    "fig2_after_one_epoch.png",
    "fig3_final_samples.png",
    "repr_table1.png",
    "repr_kmeans_ablation.png",
    "fig4_latent_walk_rooms.png",
    "fig4_latent_walk_faces.png",
    "latent_walk_smoothness.png",
    "fig5_guided_backprop_rooms.png",
    "fig5_guided_backprop_faces.png",
    "fig6_forgetting_windows.png",
    "forgetting_windows_curve.png",
    "fig6_forgetting_eyeglasses.png",
    "fig7_smiling_man.png",
    "fig7_glasses_woman.png",
    "arithmetic_success_rates.png",
    "fig8_turn.png",
    "fig9_mnist_samples.png",
    "mnist_nn_error.png",
)
FIGURE_WIDTH = 900


# ---------------------------------------------------------------------------------------------
# What ran where


def machine() -> dict:
    """The host: CPU model, cores, the matrix/vector flags that decide speed (AVX-512, AVX-512 BF16,
    AMX), torch and Python versions."""
    import torch

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in (platform.processor(), platform.machine()):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return dict(
        cpu=model,
        cores=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        avx512="avx512f" in flags,
        avx512_bf16="avx512_bf16" in flags,
        amx=bool({"amx_bf16", "amx_tile"} & flags),
        torch=torch.__version__,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.machine()}",
    )


def host_name(m: dict) -> str:
    """'Intel(R) Xeon(R) Processor, 2 cores, AVX-512 BF16, no AMX' — what a timing is written beside."""
    simd = "AVX-512 BF16" if m.get("avx512_bf16") else "AVX-512" if m.get("avx512") else "no AVX-512"
    return f"{m['cpu']}, {m['cores']} cores, {simd}, {'AMX' if m.get('amx') else 'no AMX'}"


def git_state(root: Path = ROOT) -> dict:
    """The commit the code is at, and whether the work tree differs from it."""

    def git(*args):
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return dict(commit=commit, dirty=None if status is None else bool(status))


def run_info(profile: str, timings: list[dict], started: datetime.datetime) -> dict:
    """run.json: commit, machine, profile, seconds per notebook and in all."""
    return dict(
        profile=profile,
        **git_state(),
        machine=machine(),
        started=started.isoformat(timespec="seconds"),
        finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        notebooks=timings,
        seconds=round(sum(t["seconds"] for t in timings), 1),
        command=f"make figures PROFILE={profile}",
    )


# ---------------------------------------------------------------------------------------------
# Verdicts, written and compared


def verdicts(build: str | Path, profile: str, notebooks: list[str] | None = None) -> tuple[list[Verdict], list[str]]:
    """The claims of the notebooks whose results are in build/results (all of CLAIMS, or those of
    `notebooks`), each judged; and, for those that could not be, the missing key (one line each)."""
    results = load_results(results_dir(build))
    out, missing = [], []
    for c in CLAIMS:
        if notebooks is None or c.key.split(".", 1)[0][:2] in {n[:2] for n in notebooks}:
            try:
                out.append(judge(c, results, profile))
            except MissingResult as e:
                missing.append(f"{c.id}: {e}")
    return out, missing


def write_verdicts(path: str | Path, vs: list[Verdict]) -> Path:
    return write_json(path, [v.to_dict() for v in vs])


def compare(vs: list[Verdict], record: str | Path) -> list[str]:
    """How `vs` differ from the recorded claims.json (empty: the run reproduces the record)."""
    recorded = {c["id"]: c for c in read_json(Path(record) / "claims.json", "recorded claims")}
    out = []
    for v in vs:
        if v.claim.id not in recorded:
            out.append(f"{v.claim.id}: not in the record")
        elif problem := reproduces(recorded[v.claim.id], v):
            out.append(problem)
    return out


# ---------------------------------------------------------------------------------------------
# The record: results/PROFILE/


def record(build: str | Path, out: str | Path) -> Path:
    """Copy a finished run (build/PROFILE: run.json, claims.json, results/*.json, figures) into
    `out` (results/PROFILE) and render RESULTS.md; returns its path. Refuses a run that did not
    finish every notebook or that was made from a dirty tree."""
    build, out = Path(build), Path(out)
    run = read_json(build / "run.json", "run file (written at the end of `make figures`)")
    failed = [t["notebook"] for t in run["notebooks"] if not t["ok"]]
    if failed:
        raise ValueError(
            f"{build} is not a complete run: {', '.join(failed)} failed; fix them and run "
            f"`make figures PROFILE={run['profile']}` again"
        )
    if run.get("dirty"):
        raise ValueError(
            f"{build} was run from a work tree with uncommitted changes ({run['commit'][:10]}+): commit "
            f"them and run `make figures PROFILE={run['profile']}` again, so the record names its code"
        )
    claims = read_json(build / "claims.json", "claims file")
    judged = {c["id"] for c in claims}
    if unjudged := [c.id for c in CLAIMS if c.id not in judged]:
        raise ValueError(
            f"{build}/claims.json does not judge {', '.join(unjudged)}: run `make figures "
            f"PROFILE={run['profile']}` (every notebook) again"
        )
    shutil.rmtree(out / "results", ignore_errors=True)
    shutil.rmtree(out / "figures", ignore_errors=True)
    for path in sorted(results_dir(build).glob("*.json")):
        write_text(out / "results" / path.name, path.read_text())
    for name in FIGURES:
        if (build / name).is_file():
            downscale(build / name, out / "figures" / name)
    write_json(out / "run.json", run)
    write_json(out / "claims.json", claims)
    return write_text(
        out / "RESULTS.md", render(claims, run, figures=sorted(p.name for p in (out / "figures").glob("*.png")))
    )


def downscale(src: Path, dst: Path, width: int = FIGURE_WIDTH) -> Path:
    """A PNG at most `width` pixels wide (kept as it is where narrower), optimised."""
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        return atomic_write(dst, lambda tmp: im.save(tmp, format="PNG", optimize=True))


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(claims: list[dict], run: dict, figures: list[str] = ()) -> str:
    """RESULTS.md from claims.json and run.json (and the figure files beside it)."""
    m = run["machine"]
    held = sum(c["status"] == "holds" for c in claims)
    failed = [c for c in claims if c["status"] == "fails"]
    wrong = [c for c in claims if not c["as_expected"]]
    lines = [
        f"# Results of record — profile `{run['profile']}`",
        "",
        f"Generated by `python -m dcgan_core record --profile {run['profile']}` from `claims.json` and `run.json` "
        "beside this file (do not edit: `tests/test_record.py` checks it). Radford, Metz & Chintala (2015), "
        "[arXiv:1511.06434](https://arxiv.org/abs/1511.06434).",
        "",
        f"- **Run**: `{run['command']}` at commit `{(run['commit'] or '?')[:12]}`"
        f"{' (dirty work tree)' if run.get('dirty') else ''}, {run['started'][:10]}, "
        f"**{run['seconds'] / 60:.1f} min** in all{over_budget(run)}.",
        f"- **Machine**: {host_name(m)}; torch {m['torch']}, Python {m['python']}.",
        f"- **Claims**: {len(claims)}: {held} hold, {len(failed)} fail "
        f"({sum(c['expected'] == 'fails' for c in failed)} of them expected: claims we do not reproduce)"
        + (f"; **{len(wrong)} unexpected**: {', '.join(c['id'] for c in wrong)}." if wrong else "; none unexpected."),
        "",
        "| notebook | minutes |",
        "|---|---|",
        *[f"| {t['notebook']} | {t['seconds'] / 60:.1f}{'' if t['ok'] else ' (failed)'} |" for t in run["notebooks"]],
        f"| **all** | **{run['seconds'] / 60:.1f}** |",
        "",
        "## The paper's claims, our numbers beside them",
        "",
        "*want*: how our number must relate to the target for the claim to hold. *control*: the same check on "
        "something it must get wrong (a claim that holds must fail on its control). *±*: how far a new run's "
        "number may move and still reproduce this record.",
        "",
        "| claim | section | the paper | ours | want | ± | verdict | control |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        verdict = f"**{c['status']}**" + ("" if c["as_expected"] else f" (UNEXPECTED: expected {c['expected']})")
        ctrl = c["control"]
        control = (
            "—"
            if ctrl is None or ctrl["status"] is None
            else f"{fmt(ctrl['ours'])} **{ctrl['status']}** — {ctrl['what']}"
        )
        lines.append(
            f"| `{c['id']}` | {c['section']} {c['where']} | {_md(c['paper'])} | {_md(fmt(c['ours']))} | "
            f"{c['op']} {_md(fmt(c['target']))} | {fmt(c['tolerance'])} | {verdict} | {_md(control)} |"
        )
    lines += ["", "What each number is:", ""]
    lines += [f"- `{c['id']}` (`{c['key']}`): {c['note']}." for c in claims]
    if failed:
        lines += ["", "## Claims that fail, and why", ""]
        lines += [
            f"- `{c['id']}`: ours {fmt(c['ours'])}, want {c['op']} {fmt(c['target'])}. {c['why'] or '(no reason recorded)'}"
            for c in failed
        ]
    if figures:
        lines += ["", "## Figures", "", "Downscaled copies of the run's figures (full size: `build/PROFILE/`).", ""]
        lines += [f"![{name}](figures/{name})" for name in figures]
    return "\n".join(lines) + "\n"


def rejudge(out: str | Path) -> Path:
    """Judge the recorded results again with the current claims table (a changed target, note or
    control; no number changes) and render RESULTS.md again."""
    out = Path(out)
    run = read_json(out / "run.json", "run file")
    vs = judge_all(load_results(out / "results"), run["profile"])
    write_verdicts(out / "claims.json", vs)
    claims = read_json(out / "claims.json", "claims file")
    return write_text(
        out / "RESULTS.md", render(claims, run, figures=sorted(p.name for p in (out / "figures").glob("*.png")))
    )


# ---------------------------------------------------------------------------------------------
# The README's generated blocks: <!-- begin NAME --> … <!-- end NAME -->

README = ROOT / "README.md"


def readme_blocks(root: Path = ROOT) -> dict[str, str]:
    """What the README's generated blocks hold, from the committed files: the record's claims
    (results/cpu/), the measured times (results/timings.json, benchmarks/timings.py), the zoo and
    the hosts' speed (results/bench/*.json, benchmarks/host.py; its --quick runs are left out)."""
    from .cards import zoo_table

    blocks = {
        "zoo": f"`zoo/` holds {len(zoo_table().splitlines()) - 2} models trained with this CLI on a 2-core "
        "CPU (commands: `zoo/train.sh`).\n\n" + zoo_table()
    }
    cpu = root / "results" / "cpu"
    if (cpu / "claims.json").is_file():
        claims, run = read_json(cpu / "claims.json"), read_json(cpu / "run.json")
        fails = [c for c in claims if c["status"] == "fails"]
        rows = ["| claim | the paper | ours | verdict |", "|---|---|---|---|"]
        rows += [f"| `{c['id']}` | {_md(c['paper'])} | {_md(fmt(c['ours']))} | {c['status']} |" for c in claims]
        blocks["results"] = (
            f"The record: `make figures PROFILE=cpu` at commit `{(run['commit'] or '?')[:12]}`, {run['started'][:10]}, "
            f"{run['seconds'] / 60:.1f} min{over_budget(run)} on {host_name(run['machine'])}. Of {len(claims)} claims "
            f"{len(claims) - len(fails)} hold and {len(fails)} fail; "
            + (
                f"unexpected: {', '.join(wrong)}"
                if (wrong := [c["id"] for c in claims if not c["as_expected"]])
                else "every verdict (and every control's) is the expected one"
            )
            + ". Each claim with its target, tolerance, control and, where it fails, why: "
            "[results/cpu/RESULTS.md](results/cpu/RESULTS.md).\n\n" + "\n".join(rows)
        )
    timings = root / "results" / "timings.json"
    if timings.is_file():
        t = read_json(timings, "timings file")
        for cmd, code in t["exit_codes"].items():  # taken from the record's run (--cpu-from): its time now
            if code is None and (cpu / "run.json").is_file():
                t["seconds"][cmd] = read_json(cpu / "run.json")["seconds"]
        blocks["timings"] = "\n".join(
            [
                f"Measured by `python benchmarks/timings.py` on {t['date']}, {host_name(t['machine'])}, nothing else "
                "running (a fresh clone's caches are cold: data extraction and cached features are included):",
                "",
                "| command | minutes |",
                "|---|---|",
            ]
            + [
                f"| `{cmd}` | {s / 60:.1f}"
                + (" (the record's run: results/cpu/run.json)" if t["exit_codes"].get(cmd, 0) is None else "")
                + " |"
                for cmd, s in t["seconds"].items()
            ]
        )
    bench = sorted((root / "results" / "bench").glob("*.json"))
    if benches := [b for b in (read_json(path, "benchmark file") for path in bench) if not b.get("quick")]:
        blocks["performance"] = performance_table(benches)
    return blocks


def _n(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def performance_table(benches: list[dict]) -> str:
    """The README's performance table: one row per benchmarks/host.py JSON, the host named in each
    (what it leaves out: —)."""
    rows = [
        "| host | measured | GEMM GFLOP/s fp32 / bf16 | training img/s: pytorch/examples → ours | "
        "Inception img/s fp32 / bf16 (CPU s per image) | FID(CIFAR-10 train, test) fp32 / bf16 (n) | "
        "FID wall time (n, precision) |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in benches:
        g, t, i, f = b["gemm_gflops"], b.get("training"), b["inception"]["paths"], b.get("fid")
        other = (  # left out on a host without bf16 kernels (benchmarks/host.py: bf16_native)
            f"; in {t['ours_other_precision']}: {_n(t['ours_other_img_per_s'])}"
            if t and t["ours_other_precision"]
            else ""
        )
        train = (
            f"{_n(t['baseline_img_per_s'])} → {_n(t['ours_img_per_s'])} (**{t['ratio']:.2f}×**, `{t['net']}`, "
            f"batch {t['batch']}, ours in {t['ours_precision']}{other})"
            if t
            else "—"
        )
        inc = " / ".join(
            f"{_n(i[k]['img_per_s'])} ({i[k]['cpu_s_per_img']:.3f})" if k in i else "— (no bf16 kernels)"
            for k in ("fp32", "bf16")
        )
        bf16_at = f" at {g['bf16_size']}²" if g.get("bf16_size", g.get("size")) != g.get("size") else ""
        fid = f"{f['wall_s'] / 60:.1f} min (n = {f['n']:,}, {f['precision']})" if f else "—"
        q = b.get("quality")
        quality = f"{q['fid_fp32']:.2f} / {q['fid_bf16']:.2f} (n = {q['n']:,})" if q else "—"
        when = f"{b['date']}, `{(b.get('commit') or '?')[:9]}`, load {b['load_average'][0]:.1f}"
        rows.append(
            f"| {host_name(b['host'])}, {b['host']['torch_threads']} torch thread{'s' * (b['host']['torch_threads'] != 1)}, torch {b['host']['torch']} | {when} | {_n(g['fp32_wall'])} / "
            f"{_n(g['bf16_wall'])}{bf16_at} (per CPU-second {_n(g['fp32_cpu'])} / {_n(g['bf16_cpu'])}) | {train} | {inc} | {quality} | {fid} |"
        )
    return "\n".join(rows)


def render_readme(text: str, blocks: dict[str, str]) -> str:
    """`text` with each <!-- begin NAME --> … <!-- end NAME --> block replaced by blocks[NAME]."""
    import re

    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n)(?:.*?\n)?(<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no block {name!r}: add <!-- begin {name} --> and <!-- end {name} --> lines")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def update_readme(path: Path = README) -> Path:
    return write_text(path, render_readme(path.read_text(), readme_blocks(path.parent)))
