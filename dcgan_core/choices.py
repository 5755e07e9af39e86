"""
# Choices: Figures 7 and 8's exemplars as a small JSON (§6.3.2)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2:

> "Experiments working on only single samples per concept were unstable, but averaging the Z
> vector for three exemplars showed consistent and stable generations that semantically obeyed
> the arithmetic."

The paper picked those exemplars by hand. A `Choices` names them by index into a pool of generated
faces (`seed_points` of a seed, from a model whose sha256 it records): per equation three faces per
concept, and the turn vector's faces looking left and right (Figure 8). They are picked by hand in
`widgets.arithmetic_explorer` (`toggle` adds or removes a face), or by the classifier
(`auto_choices`: the most confident faces per concept, `concepts.pick_candidates`, and the turn's
faces by pose, `turn.turn_exemplars`). `Choices.load` refuses a file that does not fit its
equations or its pool; `vector_arithmetic.resolve_choices` uses a file only if it was made for the
model as it is now (ours: the zoo model may have been retrained since).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .concepts import EQUATIONS, equation, pick_candidates
from .files import read_json, write_json
from .pretrained import model_sha256
from .turn import turn_exemplars


@dataclasses.dataclass
class Choices:
    """Exemplars by index into a pool of `pool` faces drawn with `seed` (`seed_points`) from `model`
    (whose sha256 it records): per equation, three indices per concept; and the turn's left/right."""

    model: str
    sha256: str
    pool: int
    seed: int
    equations: dict[str, dict[str, list[int]]] = dataclasses.field(default_factory=dict)
    turn: dict[str, list[int]] = dataclasses.field(default_factory=lambda: {"left": [], "right": []})

    def save(self, path: str | Path) -> Path:
        return write_json(path, dataclasses.asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> Choices:
        d = read_json(path, "choices file")
        try:
            c = cls(**d)
        except TypeError as e:
            raise ValueError(f"{path} is not a choices file ({e})") from None
        for name, picks in c.equations.items():
            eq = equation(name)
            if sorted(picks) != sorted(eq.labels):
                raise ValueError(f"{path}: equation {name} needs exemplars for {eq.labels}, got {sorted(picks)}")
            bad = [i for ids in picks.values() for i in ids if not 0 <= int(i) < c.pool]
            if bad:
                raise ValueError(f"{path}: indices {bad} are outside the pool of {c.pool} faces")
        return c

    def picks(self, name: str) -> list[list[int]]:
        """[[A indices], [B indices], [C indices]] of one equation, in the equation's order."""
        return [self.equations[name][label] for label in equation(name).labels]

    def complete(self, name: str) -> bool:
        return name in self.equations and all(len(v) >= 1 for v in self.equations[name].values())


def toggle(choices: Choices, name: str, label: str, index: int, per_concept: int = 3) -> list[int]:
    """Add `index` to (or, if there, remove it from) concept `label` of equation `name`; at most
    `per_concept` are kept (the oldest drops out). Returns the concept's indices."""
    eq = equation(name)
    if label not in eq.labels:
        raise ValueError(f"{label!r} is not a concept of {name}: {eq.labels}")
    picks = choices.equations.setdefault(name, {lab: [] for lab in eq.labels})
    chosen = picks.setdefault(label, [])
    if index in chosen:
        chosen.remove(index)
    else:
        chosen.append(int(index))
        del chosen[:-per_concept]
    return chosen


def auto_choices(
    model: str,
    p: np.ndarray,
    names: list[str],
    poses: np.ndarray,
    pool: int,
    seed: int,
    n_turn: int = 4,
    thresholds: dict | None = None,
) -> Choices:
    """The classifier's picks: for each equation the 3 most confident faces per concept (read at
    `thresholds`); the turn's exemplars by pose."""
    c = Choices(model=model, sha256=model_sha256(model), pool=pool, seed=seed)
    for name, eq in EQUATIONS.items():
        c.equations[name] = {
            label: idx[:3] for label, idx in pick_candidates(p, names, eq, 3, thresholds=thresholds).items()
        }
    left, right = turn_exemplars(poses, n_turn)
    c.turn = {"left": left, "right": right}
    return c
