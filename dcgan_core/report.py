"""The results report: `build/PROFILE/report/`, a static site made from what `make figures` wrote.

The paper reports its results as figures and a few numbers in the text and tables; the notebooks
re-make each of them (one notebook per section, `notebooks/NN_*.ipynb`) and save their numbers to
`build/PROFILE/results/NN_name.json`. This module puts them side by side in one page:

* `index.html` — every claim of the paper (`claims.CLAIMS`: section, figure or table, the paper's
  value or words) with our number beside it and its verdict (`claims.judge` on the results JSON).
  A claim that fails shows as failing, with why where we say it does not reproduce, the verdict
  of its control beside it, and "UNEXPECTED" where a verdict is not the expected one; a claim
  whose notebook did not run, or was cut short (a cell failed, or it was interrupted: papermill's
  marks in it, `incomplete`), shows "no result", and that notebook's part says INCOMPLETE. Then
  one part per notebook, titled with the notebook's own title line ("01 — Training a DCGAN
  (§3–§4, Figures 1–3)"): its claims, its figures (each captioned with the heading of the notebook
  part that saved it: "Figure 1 — the generator, drawn from the model") and all numbers of its
  results file.
* `notebooks/NN_name.html` — the executed notebooks, converted by nbconvert.

`python -m dcgan_core notebooks --profile P` (= `make figures PROFILE=P`) ends by building it;
`python -m dcgan_core report --build build/P` builds it again from what is there.

# ours: the pages are self-contained and work offline: figures are copied next to the index, the
# notebook pages embed their images and load no script from a CDN (nbconvert's default pages load
# require.js, MathJax and the widget manager from one). Widgets are live objects of a running
# kernel: the notebook pages say so where a widget was, and the static figures above it stay.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .claims import CLAIMS
from .files import write_text
from .results import load_results, results_dir
from .verdicts import Claim, MissingResult, Verdict, fmt, judge

# nbconvert's "lab" page without its CDN scripts (require.js, MathJax, mermaid, the widget manager),
# with an empty icon (else the browser asks the server for /favicon.ico: a 404 in the console).
FAVICON = '<link rel="icon" href="data:,">'
NOTEBOOK_TEMPLATE = (
    """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}"""
    + FAVICON
    + """{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "<p><em>A live widget was here: open this notebook in JupyterLab and run it "
    "(README, “JupyterLab”). The static figures above show the same results.</em></p>"
)
FIGURE_NAME = re.compile(r"""["']([\w.-]+\.png)["']""")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.holds { background: #e3f5e1; } td.fails { background: #fbe0e0; } td.not-measured { background: #eee; }
td.not-checked { background: #fdf6dc; }
figure { display: inline-block; margin: 0.5em; max-width: 560px; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; }
code { background: #f5f5f5; padding: 0 0.2em; }
"""


@dataclass
class NotebookPart:
    """What the index shows of one executed notebook."""

    name: str  # "01_training"
    title: str  # its first Markdown heading
    figures: list[tuple[str, str]] = field(default_factory=list)  # (heading above, file name)


def read_notebook(path: Path) -> NotebookPart:
    """An executed notebook's title and the figures its cells save (`"name.png"` in a code cell),
    each with the nearest Markdown heading above that cell."""
    cells = json.loads(path.read_text())["cells"]
    title, heading, figures = path.stem, "", []
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            headings = [line.lstrip("#").strip() for line in source.splitlines() if line.startswith("#")]
            if headings and title == path.stem and source.startswith("# "):
                title = headings[0]
            heading = headings[-1] if headings else heading
        elif cell["cell_type"] == "code":
            figures += [(heading, name) for name in FIGURE_NAME.findall(source) if (heading, name) not in figures]
    return NotebookPart(path.stem, title, figures)


def incomplete(executed: Path) -> str | None:
    """Why an executed notebook is not complete, or None when it ran to its end. Papermill marks a
    notebook cut short by Ctrl-C as complete (every cell "completed", an end time): what tells is a
    cell's error output (KeyboardInterrupt), a cell never started, a cell still "running" or no end
    time (killed). A notebook papermill did not execute is taken as it is."""
    nb = json.loads(executed.read_text())
    if "papermill" not in nb.get("metadata", {}):
        return None
    for i, cell in enumerate(nb["cells"], 1):
        errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        pm = cell.get("metadata", {}).get("papermill", {})
        if errors or pm.get("status") == "failed":
            return (
                f"interrupted at cell {i}"
                if "KeyboardInterrupt" in errors
                else f"failed at cell {i} ({errors[0] if errors else 'an error'})"
            )
        if pm.get("status") == "running" or not pm.get("start_time"):
            return f"interrupted at cell {i}"
    if not nb["metadata"]["papermill"].get("end_time"):
        return "stopped before its end (interrupted or killed)"
    return None


def notebook_html(executed: Path) -> str:
    """The executed notebook as one self-contained HTML page (nbconvert, no CDN scripts)."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                output["data"] = {"text/html": WIDGET_NOTE}
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"report.html.j2": NOTEBOOK_TEMPLATE})], template_file="report.html.j2"
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def flatten(value, prefix: str = "", limit: int = 8) -> list[tuple[str, str]]:
    """A results dict as (dotted key, value) rows: numbers, strings and short lists of them."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flatten(v, f"{prefix}.{k}" if prefix else str(k), limit)]
    if isinstance(value, list) and not all(isinstance(v, (int, float, str, bool, type(None))) for v in value):
        return [row for i, v in enumerate(value[:limit]) for row in flatten(v, f"{prefix}.{i}", limit)]
    if isinstance(value, list) and len(value) > limit:
        return [(prefix, f"[{len(value)} values: {fmt(value[0])} … {fmt(value[-1])}]")]
    return [(prefix, fmt(value))]


def status_cell(v: Verdict | None) -> str:
    """The verdict, coloured, with what was expected (and why, for a claim we do not reproduce)."""
    if v is None:
        return '<td class="not-measured">no result: its notebook did not run, failed or was interrupted</td>'
    css = {"holds": "holds", "fails": "fails"}.get(v.status, "not-checked")
    text = v.status
    if v.status == "skipped":
        text += f" at smoke: {v.claim.smoke_skip}"
    elif v.expected == "fails":
        text += f" — not reproduced: {v.claim.why}"
    if v.control_status is not None:
        text += f" · control ({v.claim.control_note}): {fmt(v.control_value)} {v.control_status}"
    if not v.as_expected:
        text += f" · UNEXPECTED (expected {v.expected}{'' if v.control_expected is None else f', control {v.control_expected}'})"
    return f'<td class="{css}">{html.escape(text)}</td>'


def claims_table(
    rows: list[tuple[Claim, Verdict | None]], profile: str, parts: dict[str, NotebookPart], anchors: bool = True
) -> str:
    out = [
        "<tr><th>section</th><th>paper</th><th>the paper says</th><th>ours</th>"
        f"<th>we ask (at {html.escape(profile)})</th><th>verdict</th><th>notebook</th></tr>"
    ]
    for c, v in rows:
        target = c.target_at(profile)
        want = "—" if v is None or v.status == "skipped" else f"{c.op} {fmt(target)}"
        part = parts.get(c.key.split(".", 1)[0][:2])
        where = f'<a href="#{part.name}">{html.escape(part.name)}</a>' if part else "not run"
        anchor = f' id="claim-{html.escape(c.id)}"' if anchors else ""
        ours = "—" if v is None else fmt(v.value)
        out.append(
            f"<tr{anchor}><td>{html.escape(c.section)}</td><td>{html.escape(c.where)}</td>"
            f"<td>{html.escape(c.paper)}</td><td><code>{html.escape(ours)}</code><br>"
            f"<small>{html.escape(c.key)}</small><br><small>{html.escape(c.note)}</small></td>"
            f"<td>{html.escape(want)}</td>{status_cell(v)}<td>{where}</td></tr>"
        )
    return "<table>\n" + "\n".join(out) + "\n</table>"


def _verdict(claim: Claim, results: dict, profile: str) -> Verdict | None:
    try:
        return judge(claim, results, profile)
    except MissingResult:
        return None


def build_report(build: str | Path, profile: str | None = None) -> Path:
    """Write `build/report/` (build = build/PROFILE) from the executed notebooks `build/NN_*.ipynb`,
    their figures and `build/results/*.json`. Returns the index page's path."""
    build = Path(build)
    profile = profile or build.name
    if not build.is_dir():
        raise ValueError(f"no build folder {build}: run `python -m dcgan_core notebooks --profile {profile}` first")
    out = build / "report"
    shutil.rmtree(out, ignore_errors=True)
    results = load_results(results_dir(build))
    executed = sorted(build.glob("[0-9][0-9]_*.ipynb"))
    parts = {p.name[:2]: read_notebook(p) for p in executed}
    # A notebook cut short is not executed: its claims are not judged (its results file may be an older run's).
    unfinished = {p.name[:2]: why for p in executed if (why := incomplete(p))}
    verdicts = [(c, None if c.key[:2] in unfinished else _verdict(c, results, profile)) for c in CLAIMS]

    sections = []
    for path in executed:
        part = parts[path.name[:2]]
        write_text(out / "notebooks" / f"{path.stem}.html", notebook_html(path))
        figures = []
        for heading, name in part.figures:
            if (build / name).is_file():
                (out / "figures").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(build / name, out / "figures" / name)
                figures.append(
                    f'<figure><a href="figures/{name}"><img src="figures/{name}" alt="{html.escape(name)}"></a>'
                    f"<figcaption>{html.escape(heading)} — <code>{html.escape(name)}</code></figcaption></figure>"
                )
            else:
                figures.append(f"<p>not made: <code>{html.escape(name)}</code></p>")
        mine = [(c, v) for c, v in verdicts if c.key.split(".", 1)[0][:2] == path.name[:2]]
        why = unfinished.get(path.name[:2])
        numbers = [(name, flatten(r)) for name, r in results.items() if name[:2] == path.name[:2] and not why]
        sections.append(
            f'<h2 id="{part.name}">{html.escape(part.title)}</h2>\n'
            f'<p><a href="notebooks/{path.stem}.html">the executed notebook</a> · <code>{path.name}</code></p>\n'
            + (
                f"<p><strong>INCOMPLETE</strong>: {html.escape(why)}; its claims are not judged and its results "
                f"file is not shown. Run it again.</p>\n"
                if why
                else ""
            )
            + (
                claims_table(mine, profile, parts, anchors=False)
                if mine
                else "<p>No claim of the paper is checked here.</p>"
            )
            + "\n"
            + "\n".join(figures)
            + "\n"
            + "".join(
                f"<details><summary>every number in <code>results/{html.escape(name)}.json</code></summary><table>"
                + "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(v)}</td></tr>" for k, v in rows)
                + "</table></details>\n"
                for name, rows in numbers
            )
        )

    counts = {
        s: sum((v.status if v else "no result") == s for _, v in verdicts)
        for s in ("holds", "fails", "skipped", "no result")
    }
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    wrong = [c.id for c, v in verdicts if v is not None and not v.as_expected]
    summary += f"; unexpected: {', '.join(wrong)}" if wrong else "; every verdict as expected"
    ran = f"{len(executed) - len(unfinished)} executed notebooks" + (
        f", {len(unfinished)} incomplete ({', '.join(parts[k].name for k in sorted(unfinished))})" if unfinished else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{FAVICON}<title>DCGAN companion — results ({html.escape(profile)})</title>
<style>{STYLE}</style></head><body>
<h1>DCGAN companion — results at profile <code>{html.escape(profile)}</code></h1>
<p>Radford, Metz &amp; Chintala, <em>Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks</em> (2015), <a href="https://arxiv.org/abs/1511.06434">arXiv:1511.06434</a>. Built
{datetime.datetime.now().strftime("%Y-%m-%d %H:%M")} from <code>{html.escape(str(build))}</code>:
{ran}, {len(results)} results files.</p>
<h2 id="claims">The paper's claims, our numbers beside them</h2>
<p>{len(verdicts)} claims: {summary}. At <code>smoke</code> (tiny data, CI) a claim is checked against its
sanity bound, or skipped with its reason; the paper's targets apply at <code>cpu</code> and <code>paper</code>.
A control is the same check on something it must get wrong.</p>
{claims_table(verdicts, profile, parts)}
{"".join(sections)}
</body></html>
"""
    return write_text(out / "index.html", page)
