"""Does bf16 autocast train as well as fp32? Same seed, same data, same steps; compare the loss
curves at equal images seen (and FID/KID once the evaluation module lands).

    python benchmarks/bf16_quality.py --steps 300     # writes build/bench/bf16_vs_fp32.png
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_core.data import load_dataset  # noqa: E402
from dcgan_core.figures import save_figure  # noqa: E402
from dcgan_core.train import TrainConfig, Trainer  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--out", default="build/bench")
    args = p.parse_args()
    data = load_dataset("celeba", 64, progress=False)
    curves = {}
    for precision in ("fp32", "bf16"):
        cfg = TrainConfig(
            dataset="celeba",
            arch="torch",
            image_size=64,
            batch_size=args.batch,
            precision=precision,
            progress=False,
            out=f"/tmp/bf16_quality/{precision}",
        )
        t = Trainer(cfg, data)
        rows = [t.train_step(*t.batch(step)) for step in range(args.steps)]
        curves[precision] = {k: np.array([r[k] for r in rows]) for k in rows[0]}

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    window = max(1, args.steps // 15)
    smooth = lambda v: np.convolve(v, np.ones(window) / window, mode="valid")  # noqa: E731
    for precision, c in curves.items():
        for ax, keys in ((axes[0], ("loss_d", "loss_g")), (axes[1], ("d_x", "d_g_z"))):
            for k in keys:
                ax.plot(smooth(c[k]), ls="-" if precision == "fp32" else "--", label=f"{k} {precision}")
    for ax in axes:
        ax.set_xlabel(f"step (batch {args.batch}; moving average of {window})")
        ax.legend(fontsize=7)
    save_figure(fig, Path(args.out) / "bf16_vs_fp32.png")

    third = args.steps // 3
    print(
        f"| mean over steps {args.steps - third}–{args.steps} | loss_d | loss_g | D(x) | D(G(z)) |\n|---|---|---|---|---|"
    )
    for precision, c in curves.items():
        print(
            f"| {precision} | "
            + " | ".join(f"{c[k][-third:].mean():.3f}" for k in ("loss_d", "loss_g", "d_x", "d_g_z"))
            + " |"
        )


if __name__ == "__main__":
    main()
