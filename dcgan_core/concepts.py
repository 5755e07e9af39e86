"""
# Reading concepts with the attribute classifier (§6.3.2, Figure 7)

Radford, Metz & Chintala (2015), [arXiv 1511.06434](https://arxiv.org/abs/1511.06434), §6.3.2:

> "Experiments working on only single samples per concept were unstable, but averaging the Z
> vector for three exemplars showed consistent and stable generations that semantically obeyed
> the arithmetic."

The paper picked each concept's exemplars ("smiling woman", "man with glasses") by eye. We read
them with the attribute classifier trained on real CelebA faces (`attributes.py`): a concept is a
set of attribute values ({"Smiling": 1, "Male": 0}: 1 = has it, 0 = has not).

- **Probability** (`concept_prob`; ours) — P(concept) of a face, its attributes read as
  independent: the product of p or 1 − p over the concept's attributes.
- **Read as** (`reads_as`) — every attribute on the wanted side of its threshold: 0.5, or the
  validated judge's (`judge.validated`: chosen on hand-labelled generated faces); how a result
  image is graded against an equation's target (`vector_arithmetic.success_rates`).
- **Equations** (`Equation`, `EQUATIONS` named by their target, `equation(name)`) — A − B + C =
  target over such concepts: `smiling-man` = smiling woman − neutral woman + neutral man;
  `glasses-woman` = man with glasses − man without glasses + woman without glasses.
- **Candidates** (`pick_candidates`; ours) — per concept of an equation, the faces of a generated
  pool read most confidently as it, among those read as it; refused, with one clear error, where
  fewer than the 3 that §6.3.2 averages are.

`vector_arithmetic.py` (the section) draws Figure 7's exemplars from these candidates.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def concept_prob(p: np.ndarray, names: list[str], want: dict) -> np.ndarray:
    """P(concept) per face, the attributes read as independent: Π p or (1 − p) over `want`."""
    out = np.ones(len(p))
    for attr, value in want.items():
        col = p[:, names.index(attr)]
        out *= col if value else 1 - col
    return out


def reads_as(p: np.ndarray, names: list[str], want: dict, thresholds: dict | None = None) -> np.ndarray:
    """Whether the classifier reads each face as the concept: every attribute on the wanted side of
    its threshold (`thresholds[attr]`, default 0.5)."""
    ok = np.ones(len(p), dtype=bool)
    for attr, value in want.items():
        said = p[:, names.index(attr)] > (thresholds or {}).get(attr, 0.5)
        ok &= said if value else ~said
    return ok


def describe(want: dict) -> str:
    """{"Male": 1, "Eyeglasses": 0} → "Male, not Eyeglasses"."""
    return ", ".join(("" if value else "not ") + attr for attr, value in want.items())


@dataclasses.dataclass(frozen=True)
class Equation:
    """A − B + C = target, each concept a set of attribute values (1 = has it, 0 = has not)."""

    name: str
    concepts: tuple[tuple[str, dict], tuple[str, dict], tuple[str, dict]]
    target: tuple[str, dict]

    @property
    def labels(self) -> list[str]:
        return [c[0] for c in self.concepts]

    @property
    def attributes(self) -> list[str]:
        return sorted({a for _, want in (*self.concepts, self.target) for a in want})

    def text(self) -> str:
        a, b, c = self.labels
        return f"{a} − {b} + {c} = {self.target[0]}"


EQUATIONS = {
    "smiling-man": Equation(
        "smiling-man",
        (
            ("smiling woman", {"Smiling": 1, "Male": 0}),
            ("neutral woman", {"Smiling": 0, "Male": 0}),
            ("neutral man", {"Smiling": 0, "Male": 1}),
        ),
        ("smiling man", {"Smiling": 1, "Male": 1}),
    ),
    "glasses-woman": Equation(
        "glasses-woman",
        (
            ("man with glasses", {"Male": 1, "Eyeglasses": 1}),
            ("man without glasses", {"Male": 1, "Eyeglasses": 0}),
            ("woman without glasses", {"Male": 0, "Eyeglasses": 0}),
        ),
        ("woman with glasses", {"Male": 0, "Eyeglasses": 1}),
    ),
}


def equation(name: str) -> Equation:
    if name not in EQUATIONS:
        raise ValueError(f"unknown equation {name!r}; choose one of {', '.join(EQUATIONS)}")
    return EQUATIONS[name]


def pick_candidates(
    p: np.ndarray, names: list[str], eq, k: int, need: int = 3, thresholds: dict | None = None
) -> dict[str, list[int]]:
    """Per concept, the (at most) k pool indices read most confidently as it, among the faces the
    classifier reads as it (ours: an exemplar of "man with glasses" must be read as wearing glasses);
    one clear error where fewer than `need` (the exemplars averaged, §6.3.2: three) are. `eq` is a
    `Equation` (duck-typed: its `name` and `concepts` are read)."""
    out = {}
    for label, want in eq.concepts:
        order = np.argsort(-concept_prob(p, names, want), kind="stable")
        read = order[reads_as(p[order], names, want, thresholds)]
        if len(read) < need:
            raise ValueError(
                f"{eq.name}: only {len(read)} of the {len(p):,} pool faces read as {label} "
                f"({describe(want)}), and the arithmetic averages {need} per concept: draw a larger "
                f"pool (--pool)"
            )
        out[label] = read[:k].tolist()
    return out
