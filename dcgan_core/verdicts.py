"""How a claim of the paper is judged: `Claim` (what the paper says, which of our numbers tests it, the
op and target), `judge` (our number against the target, and the same check on the claim's control),
`Verdict` (holds / fails / skipped, and whether that is the expected verdict), `reproduces` (a new run
against the record's verdict) and `table` (the Markdown the notebooks show).

The table of the paper's claims itself is claims.py; the fields of `Claim` are explained there.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from typing import Any

from .results import lookup

OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "in": lambda v, t: t[0] <= v <= t[1],
}


class MissingResult(KeyError):
    """A claim's result key is not in the results: the run that should write it did not."""

    def __str__(self):
        return self.args[0]


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str  # short, stable: "dedup-fp-rate"
    section: str  # "§4.1.1"
    where: str  # "text", "Figure 1", "Table 3"
    paper: str  # the paper's value or words
    key: str  # our result: "02_dedup.scores.autoencoder.fp_rate"
    op: str  # how ours must relate to target: < <= > >= == in
    target: Any
    tolerance: float  # |ours − recorded| within which a new run reproduces the record
    note: str  # what our number is (words only)
    control: str | None = None  # the same number on a control (must fail; must hold where expect="fails")
    control_note: str = ""  # what the control is
    smoke_target: Any = None  # the sanity bound at smoke …
    smoke_skip: str = ""  # … or why it is not checked there
    expect: str = "holds"  # at cpu and paper: holds, or fails (a claim we do not reproduce)
    why: str = ""  # where expect="fails": why, in words

    def target_at(self, profile: str):
        return self.smoke_target if profile == "smoke" else self.target


@dataclasses.dataclass
class Verdict:
    claim: Claim
    profile: str
    value: Any  # our number (None where the run could not measure it: see the claim's why)
    status: str  # "holds", "fails" or "skipped" (smoke only, with the claim's smoke_skip)
    control_value: Any = None
    control_status: str | None = None  # None where the claim has no control or it is skipped

    @property
    def expected(self) -> str:
        if self.profile == "smoke":
            return "skipped" if self.claim.smoke_skip else "holds"
        return self.claim.expect

    @property
    def control_expected(self) -> str | None:
        return None if self.control_status is None else ("fails" if self.expected == "holds" else "holds")

    @property
    def as_expected(self) -> bool:
        """The verdict is the expected one, and the control (if any) got the opposite."""
        return self.status == self.expected and self.control_status == self.control_expected

    def problem(self) -> str:
        """One line on what is unexpected ('' when nothing is)."""
        out = []
        if self.status != self.expected:
            out.append(
                f"{self.status} (expected {self.expected}): ours {fmt(self.value)}, "
                f"want {self.claim.op} {fmt(self.claim.target_at(self.profile))}"
            )
        if self.control_status != self.control_expected:
            out.append(
                f"its control {self.claim.control} {self.control_status} (must {self.control_expected}: "
                f"{fmt(self.control_value)}) — the check cannot tell them apart"
            )
        return f"{self.claim.id}: " + "; ".join(out) if out else ""

    def to_dict(self) -> dict:
        c = self.claim
        return dict(
            id=c.id,
            section=c.section,
            where=c.where,
            paper=c.paper,
            key=c.key,
            op=c.op,
            target=c.target_at(self.profile),
            ours=self.value,
            tolerance=c.tolerance,
            status=self.status,
            expected=self.expected,
            as_expected=self.as_expected,
            note=c.note,
            why=c.why if c.expect == "fails" else (c.smoke_skip if self.status == "skipped" else ""),
            control=None
            if c.control is None
            else dict(key=c.control, what=c.control_note, ours=self.control_value, status=self.control_status),
        )


def fmt(value) -> str:
    """A number as the tables show it (4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return "—" if value is None else str(value)


def _value(results: dict[str, dict], key: str):
    try:
        value = lookup(results, key)
    except (KeyError, IndexError, TypeError):
        raise MissingResult(
            f"result key {key!r} is missing: its notebook's results file "
            f"(build/PROFILE/results/{key.split('.', 1)[0]}.json) has no such number"
        ) from None
    return value


def _holds(op: str, value, target) -> bool:
    """None (not measured) and NaN never hold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(OPS[op](value, target))


def judge(claim: Claim, results: dict[str, dict], profile: str) -> Verdict:
    """The claim's verdict (and its control's) on `results` {notebook: result dict}. Raises
    `MissingResult` where a key it needs is missing (at smoke a skipped claim needs none)."""
    if profile == "smoke" and claim.smoke_skip:
        return Verdict(claim, profile, None, "skipped")
    target = claim.target_at(profile)
    value = _value(results, claim.key)
    verdict = Verdict(claim, profile, value, "holds" if _holds(claim.op, value, target) else "fails")
    if claim.control is not None:
        c = verdict.control_value = _value(results, claim.control)
        # an unmeasured control proves nothing: it is a problem, not a pass
        verdict.control_status = (
            "not measured"
            if c is None or (isinstance(c, float) and math.isnan(c))
            else "holds"
            if _holds(claim.op, c, target)
            else "fails"
        )
    return verdict


def unexpected(verdicts: list[Verdict]) -> list[str]:
    return [v.problem() for v in verdicts if not v.as_expected]


def reproduces(recorded: dict, verdict: Verdict) -> str:
    """'' where `verdict` reproduces the `recorded` one (results/PROFILE/claims.json): the same
    status, and our number within the claim's tolerance of the recorded number; else why not."""
    c = verdict.claim
    if recorded["status"] != verdict.status:
        return f"{c.id}: {verdict.status}, recorded {recorded['status']}"
    a, b = verdict.value, recorded["ours"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if abs(a - b) > c.tolerance + 1e-12:
            return f"{c.id}: ours {fmt(a)}, recorded {fmt(b)} (tolerance ±{fmt(c.tolerance)})"
    elif a != b:
        return f"{c.id}: ours {fmt(a)}, recorded {fmt(b)}"
    return ""


def table(verdicts: list[Verdict]) -> str:
    """A Markdown table of verdicts (notebooks show it; RESULTS.md renders the same columns)."""
    rows = ["| claim | section | paper | ours | want | verdict | control |", "|---|---|---|---|---|---|---|"]
    for v in verdicts:
        c = v.claim
        want = "—" if v.status == "skipped" else f"{c.op} {fmt(c.target_at(v.profile))}"
        status = v.status if v.status == "skipped" else f"**{v.status}**"
        if v.status == "skipped":
            status += f" at smoke: {c.smoke_skip}"
        elif v.expected == "fails":
            status += f" (not reproduced: {c.why})"
        if not v.as_expected:
            status += f" — UNEXPECTED: expected {v.expected}"
        control = "—" if v.control_status is None else f"{fmt(v.control_value)} {v.control_status} ({c.control_note})"
        rows.append(f"| {c.id} | {c.section} {c.where} | {c.paper} | {fmt(v.value)} | {want} | {status} | {control} |")
    return "\n".join(rows)
