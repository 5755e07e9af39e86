"""§5's linear L2-SVM: `svm.fit_svm` (preconditioned L-BFGS) against the same L-BFGS
without its preconditioner and against scikit-learn's `LinearSVC` (liblinear), on the same
standardised k-means features of real CIFAR-10 images, at the C that k-means prefers.

    python benchmarks/svm_solver.py [--n-train 5000] [--C 0.01] [--threads 1]

The k-means features (Coates & Ng, stride 1) come from the representation cache, computed when
missing (about 9 min per 60k images on one core). Prints one JSON object per solver: seconds,
LinearSVC's objective (the primal, summed over the one-vs-rest classes), test accuracy on 10,000
test images; and each objective relative to the lowest one.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from dcgan_core import svm as S
from dcgan_core.classify import features_for, make_split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=5000, help="training rows (the first of the 45k)")
    ap.add_argument("--C", type=float, default=1e-2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--linearsvc-iter", type=int, default=1000, help="LinearSVC's max_iter (its default)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    split = make_split("cifar10", 32, 3, seed=0, progress=False)
    tr, _, te = features_for("kmeans", split, progress=False)
    x, y = tr.x[: args.n_train], tr.y[: args.n_train]
    xt, xs = S.standardise(x, te.x)
    xt, xs = xt.float(), xs.float()  # one dtype for every solver
    d, C, rows = xt.shape[1], args.C, []

    def report(name, seconds, W, b, **extra):
        rows.append(
            dict(
                solver=name,
                seconds=round(seconds, 1),
                objective=S.svm_objective(xt, y, W, b, C),
                test_accuracy=float(
                    (
                        S.predict(
                            xs, torch.as_tensor(W, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
                        ).numpy()
                        == te.y
                    ).mean()
                ),
                **extra,
            )
        )
        print(json.dumps(rows[-1]), flush=True)

    for name, directions in (
        ("fit_svm (preconditioned)", None),
        ("fit_svm without preconditioner", (torch.zeros(d, 0), torch.zeros(0))),
    ):
        t = time.perf_counter()
        W, b = S.fit_svm(xt, torch.as_tensor(y), C, 10, directions=directions)
        report(name, time.perf_counter() - t, W, b, max_iter=300)

    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        ref = LinearSVC(C=C, dual=True, max_iter=args.linearsvc_iter).fit(xt.numpy(), y)
    report(
        "LinearSVC (liblinear, dual)",
        time.perf_counter() - t,
        ref.coef_.T.astype(np.float32),
        ref.intercept_.astype(np.float32),
        max_iter=args.linearsvc_iter,
        converged=not any(issubclass(w.category, ConvergenceWarning) for w in caught),
    )
    best = min(r["objective"] for r in rows)
    print(
        json.dumps(
            dict(
                n_train=len(y),
                feature_dim=d,
                C=C,
                threads=args.threads,
                objective_over_lowest={r["solver"]: round(r["objective"] / best - 1, 5) for r in rows},
                speedup_vs_linearsvc=round(rows[-1]["seconds"] / rows[0]["seconds"], 1),
            )
        )
    )


if __name__ == "__main__":
    main()
