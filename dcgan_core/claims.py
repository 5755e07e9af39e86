"""The paper's claims, one table: what the paper says, which of our numbers tests it, and how.

Each `Claim` names the paper's section and figure/table, quotes its value or words, and points at
one of our results by key (`results.lookup`: "NOTEBOOK.field.field", read from
build/PROFILE/results/NOTEBOOK.json). `judge` compares our number with the claim's `target`
(`op`: "<", "<=", ">", ">=", "==", or "in" a [low, high] range). Notebooks assert their own
section's claims in their last cell, tests run them on the smoke results, the report shows them
all — a claim we do not reproduce stays in the table, marked `reproduced=False` with the reason.

At `smoke` (tiny data, CI) a paper-scale target means little: a claim may give `smoke_target`,
a sanity bound checked there instead; without one it is "not checked at smoke".
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

from .results import lookup

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
       "in": lambda v, t: t[0] <= v <= t[1]}


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str                   # short, stable: "dedup-fp-rate"
    section: str              # "§4.1.1"
    where: str                # "text", "Figure 1", "Table 3"
    paper: str                # the paper's value or words
    key: str                  # our result: "02_dedup.scores.autoencoder.fp_rate"
    op: str                   # how ours must relate to target: < <= > >= == in
    target: Any
    smoke_target: Any = None  # the sanity bound at smoke (None: not checked there)
    reproduced: bool = True   # False: we measured and it does not hold; `note` says why
    note: str = ""


@dataclasses.dataclass
class Verdict:
    claim: Claim
    value: Any                # our number (None where not measured)
    status: str               # "holds", "fails", "not measured", "not checked at smoke"

    @property
    def as_expected(self) -> bool:
        """Holds where we say it is reproduced, fails where we say it is not; unchecked is fine."""
        if self.status in ("holds", "fails"):
            return (self.status == "holds") == self.claim.reproduced
        return True


CLAIMS: tuple[Claim, ...] = (
    Claim("fig1-shapes", "§3", "Figure 1", "z (100) projected and reshaped to 4×4×1024, then 8×8×512, 16×16×256, "
          "32×32×128, 64×64×3", "01_training.fig1_shapes", "==",
          [[1024, 4, 4], [512, 8, 8], [256, 16, 16], [128, 32, 32], [3, 64, 64]], smoke_target=None),
    Claim("training-separates", "§4", "Figures 2–3", "adversarial training: D tells real from generated while G "
          "learns to draw (shown by samples)", "01_training.mean_d_x_minus_d_g_z", ">", 0.0, smoke_target=0.0),
    Claim("dedup-fp-rate", "§4.1.1", "text", "hash collisions: 'estimated false positive rate of less than 1 in "
          "100'", "02_dedup.scores.autoencoder.fp_rate", "<", 0.01, smoke_target=0.05),
    Claim("dedup-linear-time", "§4.1.1", "text", "'allowing for linear time de-duplication'",
          "02_dedup.scaling.exponent", "in", [0.5, 1.5],
          note="timings on a shared machine are noisy: checked at full scale only"),
    Claim("dedup-high-recall", "§4.1.1", "text", "'detected and removed approximately 275,000 near duplicates, "
          "suggesting a high recall'", "02_dedup.scores.autoencoder.recall.all", ">=", 0.9,
          reproduced=False, note="measured on injected near-copies: exact copies always collide, but 1–2 px "
          "shifts, crops and brightness changes mostly do not (recall ~0.4 over all kinds)"),
)


def claims_for(notebook: str) -> list[Claim]:
    """The claims one notebook's results answer ("02_dedup")."""
    return [c for c in CLAIMS if c.key.split(".", 1)[0] == notebook]


def judge(claim: Claim, results: dict[str, dict], profile: str) -> Verdict:
    try:
        value = lookup(results, claim.key)
    except (KeyError, IndexError, TypeError):
        return Verdict(claim, None, "not measured")
    target = claim.smoke_target if profile == "smoke" else claim.target
    if target is None or value is None:
        return Verdict(claim, value, "not checked at smoke" if value is not None else "not measured")
    return Verdict(claim, value, "holds" if OPS[claim.op](value, target) else "fails")


def check(notebook: str, result: dict, profile: str) -> list[Verdict]:
    """Judge a notebook's claims on its result; raise AssertionError, listing them, where a claim
    we reproduce fails (or one we do not reproduce suddenly holds: the table must be updated)."""
    verdicts = [judge(c, {notebook: result}, profile) for c in claims_for(notebook)]
    wrong = [v for v in verdicts if not v.as_expected]
    if wrong:
        raise AssertionError("; ".join(f"{v.claim.id}: ours {v.value!r} {v.status} (paper: {v.claim.paper}; "
                                       f"want {v.claim.op} {v.claim.target})" for v in wrong))
    return verdicts


def table(verdicts: list[Verdict]) -> str:
    """A Markdown table of verdicts (notebooks print it; the report renders it)."""
    rows = ["| claim | section | paper | ours | status |", "|---|---|---|---|---|"]
    for v in verdicts:
        ours = f"{v.value:.4g}" if isinstance(v.value, float) else str(v.value)
        status = v.status + ("" if v.claim.reproduced else " (not reproduced: " + v.claim.note + ")")
        rows.append(f"| {v.claim.id} | {v.claim.section} {v.claim.where} | {v.claim.paper} | {ours} | {status} |")
    return "\n".join(rows)
