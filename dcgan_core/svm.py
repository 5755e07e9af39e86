"""§5's classifier and protocol: LinearSVC's one-vs-rest L2-SVM solved by preconditioned L-BFGS in
torch, C chosen on a validation split, and the few-labels draws of Table 2 (see `representation`'s
docstring for why and what was measured)."""

from __future__ import annotations

import numpy as np
import torch

from .data import DataError
from .features import Features
from .hardware import cpu_bf16_kernels

# ---------------------------------------------------------------------------------------------
# The linear L2-SVM: LinearSVC's objective, solved by L-BFGS


def _hi_lo(A: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A (float32, d×K) as [hi, lo] (d×2K) in `dtype`, hi + lo = A to ~16 bits: a bfloat16 W alone
    (8 bits) made the objective a staircase in W and stalled L-BFGS's line search."""
    hi = A.to(dtype)
    return torch.cat([hi, (A - hi.float()).to(dtype)], 1)


def _scores(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """X W + b in float32; a bfloat16 X is multiplied in bfloat16 (fp32 accumulation) by W's hi
    and lo parts in one product (X is read once)."""
    if X.dtype == torch.float32:
        return X @ W.float() + b
    S = (X @ _hi_lo(W.float(), X.dtype)).float()
    return S[:, : W.shape[1]] + S[:, W.shape[1] :] + b


def _xt_times(X: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Xᵀ G as (Gᵀ X)ᵀ: row-major friendly, several times faster than X.T @ G on CPU (hi + lo
    parts of G for a bfloat16 X, as in `_scores`)."""
    if X.dtype == torch.float32:
        return (G.T @ X).T
    P = (_hi_lo(G, X.dtype).T @ X).float()
    return (P[: G.shape[1]] + P[G.shape[1] :]).T


def svm_objective(X, y, W, b, C: float) -> float:
    """LinearSVC's primal, summed over the one-vs-rest classes: Σ_k ½(‖w_k‖² + b_k²) + C Σ_i max(0, 1 − y_ik s_ik)²."""
    X, W, b = (torch.as_tensor(np.asarray(a, np.float32)) if not torch.is_tensor(a) else a for a in (X, W, b))
    Y = -torch.ones(len(y), W.shape[1])
    Y[torch.arange(len(y)), torch.as_tensor(y)] = 1
    m = (1 - Y * _scores(X if X.dtype == torch.bfloat16 else X.float(), W.float(), b.float())).clamp(min=0)
    return float(0.5 * ((W.float() ** 2).sum() + (b.float() ** 2).sum()) + C * (m**2).sum())


def covariance_directions(
    X: torch.Tensor, rank: int = 2048, rows: int = 8192, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The top `rank` eigenvectors (d×r, orthonormal) and eigenvalues of X's covariance (X standardised:
    its rows have mean zero), from at most `rows` random rows: exact where the rows are fewer than
    `rank`, else randomised (`torch.svd_lowrank`, seeded). `fit_svm`'s preconditioner."""
    g = torch.Generator().manual_seed(seed)
    S = X[torch.randperm(len(X), generator=g)[:rows]].float()
    if min(S.shape) <= rank:
        _, s, Vh = torch.linalg.svd(S, full_matrices=False)
        V = Vh.T
    else:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            _, s, V = torch.svd_lowrank(S, q=rank, niter=2)
    return V.contiguous(), s**2 / len(S)


def fit_svm(
    X: torch.Tensor, y: torch.Tensor, C: float, n_classes: int, *, init=None, max_iter: int = 300, directions=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One-vs-rest linear L2-SVM (squared hinge, L2 penalty, intercept penalised): LinearSVC's
    problem, minimised by full-batch L-BFGS. X: N×d float32, or bfloat16 for big N×d (# ours: the
    products are memory-bound; bf16 halves the bytes and runs ~5× faster on a CPU with bf16 kernels). Returns W
    (d×K) and b (K). The objective is divided by C·N (the same minimiser).

    # ours: preconditioned. The Hessian is about λI + 2Σ (λ = 1/(C·N), Σ the features'
    covariance): at large C it is ill-conditioned along Σ's top directions (k-means features:
    eigenvalues up to ~900 against λ ≈ 2e-3). L-BFGS runs on U with W = M U,
    M = λ^-½ (I + V diag(√(λ/(λ + 2σ)) − 1) Vᵀ) for Σ's top eigenpairs (V, σ) (`directions`, else
    `covariance_directions(X)`), which makes those directions' curvature ~1. On 45k k-means rows
    at C = 1e-2: plain L-BFGS stalled after ~700 iterations at an objective of 560, this reaches
    557.4 in 75 (LinearSVC: 556 after 23 min, unconverged). The fit stops at `max_iter` or when the
    line search can improve no further."""
    n, d = X.shape
    y = torch.as_tensor(y)
    Y = -torch.ones(n, n_classes)
    Y[torch.arange(n), y] = 1
    lam = 1.0 / (C * n)
    V, sig = covariance_directions(X) if directions is None else directions
    f = (lam / (lam + 2 * sig)).sqrt() - 1

    def M(A, inverse=False):  # M A, or M⁻¹ A (V's columns are orthonormal)
        g = 1 / (1 + f) - 1 if inverse else f
        # V g Vᵀ A as ((Aᵀ V) g Vᵀ)ᵀ: the same products, row-major friendly (# ours: V.T @ A with A
        # d×10 took 75 ms on a 6,400×2,000 V, Aᵀ V 9 ms; M as a whole 4.5× faster, AMD EPYC AVX2)
        return (A + ((A.T @ V) * g @ V.T).T) * lam ** (0.5 if inverse else -0.5)

    U = torch.zeros(d, n_classes) if init is None else M(init[0].float(), inverse=True)
    b = torch.zeros(n_classes) if init is None else init[1].clone().float()
    U.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.LBFGS(
        [U, b],
        lr=1,
        max_iter=max_iter,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
    )

    def closure():
        with torch.no_grad():
            W = M(U)
            m = (1 - Y * _scores(X, W, b)).clamp(min=0)
            # Minimise ½λ(‖W‖² + ‖b‖²) + (1/N) Σ max(0, 1 − y s)²; its gradient, by hand (no graph over N×d).
            loss = 0.5 * lam * ((W**2).sum() + (b**2).sum()) + (m**2).sum() / n
            gs = -2 * Y * m / n
            U.grad, b.grad = M(lam * W + _xt_times(X, gs)), lam * b + gs.sum(0)
        return loss

    opt.step(closure)
    return M(U.detach()), b.detach()


def predict(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return _scores(X, W, b).argmax(1)


def standardise(
    train: np.ndarray, *others: np.ndarray, bf16_above: float = 0.1, scale: bool = True
) -> list[torch.Tensor]:
    """z-score every array with the training rows' mean and std (# ours; `scale=False`: as they are);
    float32, or bfloat16 where the training rows take more than `bf16_above` GB in float32 and the CPU
    has bf16 kernels (# ours: without them, AVX2 only, oneDNN emulates bf16 and the SVM's products ran
    ~12× slower than in float32: 1.40 s against 0.12 s per X W on 10k × 14,336 features, AMD EPYC AVX2)."""
    t = torch.from_numpy(train)
    mean = torch.zeros(t.shape[1], dtype=torch.float64)
    sq = torch.zeros(t.shape[1], dtype=torch.float64)
    for s in range(0, len(t), 8192):
        xs = t[s : s + 8192].double()
        mean += xs.sum(0)
        sq += (xs**2).sum(0)
    mean /= len(t)
    std = (sq / len(t) - mean**2).clamp(min=0).sqrt().clamp(min=1e-3).float()
    mean = mean.float()
    if not scale:
        mean, std = torch.zeros_like(mean), torch.ones_like(std)
    dtype = torch.bfloat16 if train.size * 4 / 1e9 > bf16_above and cpu_bf16_kernels() else torch.float32
    out = []
    for a in (train, *others):
        a = torch.from_numpy(a)
        z = torch.empty(a.shape, dtype=dtype)
        for s in range(0, len(a), 8192):
            z[s : s + 8192] = ((a[s : s + 8192].float() - mean) / std).to(dtype)
        out.append(z)
    return out


def select_c(
    x_train,
    y_train,
    x_val,
    y_val,
    c_grid,
    *,
    n_classes: int | None = None,
    max_iter: int = 300,
    scale: bool = True,
    rank: int = 2048,
    stop_below: float | None = None,
) -> dict:
    """Fit the SVM at each C (strongest regularisation first, warm-started) on standardised
    features; keep the C with the best validation accuracy. Returns C, the fit and the validation
    accuracy per C tried (the first best on a tie). `rank`: directions of the preconditioner
    (`covariance_directions`). `stop_below`: end the sweep at the first C whose validation accuracy
    is this far below the best so far (# ours: validation accuracy rises, peaks and falls along the
    grid, and the weakly regularised fits are the slow ones: on 10k × 14,336 D features, C = 1e-2
    took longer than 1e-5, 1e-4 and 1e-3 together); None: every C."""
    n_classes = n_classes or int(max(y_train.max(), y_val.max())) + 1
    xt, xv = standardise(x_train, x_val, scale=scale)
    yt = torch.as_tensor(y_train)
    fit, best, val = None, None, {}
    directions = covariance_directions(xt, rank=rank)  # one preconditioner for every C
    for C in sorted(c_grid):
        fit = fit_svm(xt, yt, C, n_classes, init=fit, max_iter=max_iter, directions=directions)
        val[C] = float((predict(xv, *fit).numpy() == y_val).mean())
        if best is None or val[C] > val[best[0]]:
            best = (C, fit)
        elif stop_below is not None and val[C] < val[best[0]] - stop_below:
            break
    return dict(C=best[0], fit=best[1], val_accuracy=val)


def evaluate(
    train: Features,
    val: Features,
    test: Features,
    c_grid,
    *,
    max_iter: int = 300,
    columns=None,
    scale: bool = True,
    rank: int = 2048,
    stop_below: float | None = None,
) -> dict:
    """Train on `train` at every C of `c_grid`, choose C on `val`, report test accuracy (the
    protocol of Table 1) and its standard error over the test rows (binomial). `columns`: layer
    indices to use (all by default); `scale=False`: the features not standardised; `rank`, `stop_below`:
    the preconditioner's directions and the sweep's end (`select_c`)."""
    pick = (lambda f: f.x) if columns is None else (lambda f: f.layers(columns))
    xt, xv, xs = pick(train), pick(val), pick(test)
    n_classes = int(max(train.y.max(), val.y.max(), test.y.max())) + 1
    sel = select_c(
        xt,
        train.y,
        xv,
        val.y,
        c_grid,
        n_classes=n_classes,
        max_iter=max_iter,
        scale=scale,
        rank=rank,
        stop_below=stop_below,
    )
    zs = standardise(xt, xs, scale=scale)[1]
    acc = float((predict(zs, *sel["fit"]).numpy() == test.y).mean())
    return dict(
        accuracy=acc,
        se=float(np.sqrt(acc * (1 - acc) / len(xs))),
        C=sel["C"],
        val_accuracy=sel["val_accuracy"],
        feature_dim=int(xt.shape[1]),
        n_train=len(xt),
        n_val=len(xv),
        n_test=len(xs),
    )


def draw_labels(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` random rows of each class (sorted)."""
    rows = []
    for c in np.unique(y):
        where = np.nonzero(y == c)[0]
        if len(where) < per_class:
            raise DataError(f"class {c} has only {len(where)} training images, fewer than {per_class} per class")
        rows.append(rng.choice(where, per_class, replace=False))
    return np.sort(np.concatenate(rows))


def few_labels(
    train: Features,
    val: Features,
    test: Features,
    per_class: int,
    draws: int,
    c_grid,
    *,
    seed: int = 0,
    max_iter: int = 300,
    columns=None,
    stop_below: float | None = None,
) -> dict:
    """§5.2's protocol: `draws` random label sets of `per_class` per class, test accuracy; mean,
    std and the ±1.96·std the authors report. C is chosen on `val` with the first draw and kept
    for the others (# ours: one choice instead of one per draw, for speed)."""
    rng = np.random.default_rng(seed)
    accs, C = [], None
    for _ in range(draws):
        rows = draw_labels(train.y, per_class, rng)
        sub = Features(train.spec, train.x[rows], train.y[rows], train.layer_dims)
        grid = c_grid if C is None else (C,)
        r = evaluate(sub, val, test, grid, max_iter=max_iter, columns=columns, stop_below=stop_below)
        accs.append(r["accuracy"])
        C = r["C"]
    accs = np.array(accs)
    se = float(accs.std(ddof=1) / np.sqrt(draws)) if draws > 1 else None  # of the mean over draws
    return dict(
        mean=float(accs.mean()),
        std=float(accs.std()),
        pm=float(1.96 * accs.std()),
        se=se,
        accuracies=accs.tolist(),
        C=C,
        per_class=per_class,
        draws=draws,
    )
