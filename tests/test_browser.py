"""JupyterLab and the results report in a real browser: Debian's `chromium`, headless, driven by
PyPI's `playwright` (its executable path set: playwright never downloads a browser here).

A `jupyter lab` server is started on 127.0.0.1 (a free port, a token, temporary runtime, config,
settings and workspace folders, `DCGAN_MIRROR` set) for the session. Each notebook is one test:

* notebooks in RUN_IN_BROWSER are run cell by cell in JupyterLab at `smoke` (`Run All Cells`), and
  then every control of every widget they display (sliders, dropdowns, text fields, buttons,
  checkboxes, toggle buttons, the box annotator's drawing area: a mouse drag) is moved, one at a
  time, and the widget's output (the bytes of its images, its text) must change within
  CALLBACK_TIMEOUT; a control that by design changes nothing of its own (INDIRECT: notebook 07's
  concept toggle and file field) is checked by what it steers;
* the others are opened as executed copies (tests/test_notebooks.py writes them) and must render:
  every cell's outputs there, every image loaded, no error output; and their widgets are driven as
  above in a throwaway notebook made of the notebook's own parameters, setup and widget cells, with
  the slow cells replaced by one line: `result`, the smoke run's saved result read back as the
  section's Result (`Result.read`); the section's widget loads the models and data it needs from what
  the result names (`rebuild`), in seconds.
  # ours: the trade-off. Every notebook takes 1–3 minutes at `smoke` on 2 CPU cores, and the suite
  # already executes each one with papermill; running all of them again in the browser would cost
  # that time once more per notebook. Notebooks 01 and 02 carry the widgets users start with, so
  # they run in full; DCGAN_BROWSER_RUN_ALL=1 runs every notebook in full. The widget cells run as
  # written, so a changed widget call that breaks fails here.
* either way the browser console must hold no error; screenshots go to build/browser/, with
  NAME-controls.txt listing the controls moved. The server's kernels write the box annotator's
  boxes into a temporary folder (DCGAN_ANNOTATIONS_DIR), never into the tracked annotations/.

Widgets keep their images' sizes as JupyterLab draws them (ipywidgets' CSS shrinks an image to its
row): the latent walk's frames and guided backprop's images are measured in a wide and a narrow window.

That the check catches a broken widget is itself tested: a throwaway notebook shows one widget
whose callback works and one whose callback does nothing, and a figure that does not exist; the
check passes the first and reports the second and the console error.

Skip locally with `-m "not browser"` or DCGAN_SKIP_BROWSER=1; in CI (CI=true) nothing skips, and a
missing chromium or playwright fails the run. The tests run last (conftest.py): they read the
executed notebooks that tests/test_notebooks.py writes.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from test_notebooks import BUILD, NOTEBOOKS, ROOT, executed_copy

from dcgan_core import sections
from dcgan_core.results import result_file

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("DCGAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "build" / "browser"
RUN_IN_BROWSER = {"01", "02"} if not os.environ.get("DCGAN_BROWSER_RUN_ALL") else {p.name[:2] for p in NOTEBOOKS}
RUN_TIMEOUT = 600  # s, one notebook's Run All at smoke (1–3 min alone; CI machines are shared)
CALLBACK_TIMEOUT = 90  # s, one widget callback (the dedup explorer regroups thousands of codes)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# JupyterLab settings: every cell kept in the page (no virtual scrolling), no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# ---------------------------------------------------------------------------------------------
# The browser and the JupyterLab server


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if os.environ.get("DCGAN_SKIP_BROWSER") and not in_ci():
        pytest.skip("DCGAN_SKIP_BROWSER is set")
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is not installed (pip install -e .[test])"
    if problem is None and not CHROMIUM.exists():
        problem = f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if problem:
        pytest.fail(f"CI must run the browser tests: {problem}") if in_ci() else pytest.skip(problem)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(tmp_path_factory.mktemp("chromium")) as ws, sync_playwright() as p:
        b = p.chromium.connect_over_cdp(ws)
        yield b
        b.close()


@contextlib.contextmanager
def chromium(profile: Path):
    """Start chromium ourselves and yield its DevTools address for playwright to connect to.
    # ours: not `playwright.chromium.launch`: Debian's chromium sometimes never exits on the close
    # that launch sends (seen under load, after minutes: a pytest run then hangs at its end), and a
    # process started here can be ended by its own process group."""
    process = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_ARGS, "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline, ws = time.time() + 120, None
        while ws is None:
            line = process.stderr.readline()
            if not line and (process.poll() is not None or time.time() > deadline):
                raise RuntimeError("chromium did not start (no DevTools address on its stderr)")
            if line.startswith("DevTools listening on "):
                ws = line.split()[-1]
        threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # keep its pipe drained
        yield ws
    finally:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
                process.wait(wait)
                break
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A `jupyter lab` server started for the tests; notebooks go under `root`."""

    def __init__(self, tmp: Path, mirror: Path):
        self.root, self.token, self.port = tmp / "root", secrets.token_hex(16), free_port()
        for sub in ("root", "runtime", "config", "workspaces"):
            (tmp / sub).mkdir(parents=True, exist_ok=True)
        for name, settings in LAB_SETTINGS.items():
            (tmp / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "settings" / name).write_text(json.dumps(settings))
        self.annotations = tmp / "annotations"  # where the box annotator's Save writes (not annotations/)
        env = dict(
            os.environ,
            DCGAN_MIRROR=str(mirror),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTER_CONFIG_DIR=str(tmp / "config"),
            PYTHONUNBUFFERED="1",
            DCGAN_ANNOTATIONS_DIR=str(self.annotations),
        )
        self.log = open(tmp / "lab.log", "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.allow_root=True",
                f"--LabApp.user_settings_dir={tmp / 'settings'}",
                f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
                "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands, read the model
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
            ],
            cwd=self.root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5)
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter lab did not start: see {tmp / 'lab.log'}") from None
                time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relpath: str, workspace: str) -> str:
        return f"{self.url}/lab/workspaces/{workspace}/tree/{relpath}?token={self.token}"

    def stop(self):
        self.process.terminate()  # the server shuts its kernels down
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, mirror):
    server = Lab(tmp_path_factory.mktemp("jupyterlab"), mirror)
    yield server
    server.stop()


class Console:
    """The page's console errors and uncaught exceptions."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console.error: {m.text} ({m.location.get('url', '')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


# ---------------------------------------------------------------------------------------------
# Driving JupyterLab (window.jupyterapp: the notebook's model for state, the page for the views)

KERNEL_READY = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(w && w.content && w.content.model && k && k.connectionStatus === 'connected' && k.status === 'idle'); }"""
CELLS = """() => { const nb = window.jupyterapp.shell.currentWidget.content.model; const out = [];
  for (const c of nb.cells) { if (c.type !== 'code') continue; const outputs = [];
    for (let i = 0; i < c.outputs.length; i++) outputs.push(c.outputs.get(i).toJSON());
    out.push({count: c.executionCount, outputs}); }
  return out; }"""
RUN_ALL = """() => { window.__runAll = null; window.jupyterapp.commands.execute('notebook:run-all-cells')
  .then(ok => { window.__runAll = {ok}; }, e => { window.__runAll = {error: String(e)}; }); }"""
# A widget's output: the bytes of its images (hashed) and its text, not its controls' own readouts.
SIGNATURE = """async root => { const parts = [];
  for (const img of root.querySelectorAll('img')) {
    if (!img.getAttribute('src')) { parts.push('img: none'); continue; }
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes));
    parts.push('img: ' + Array.from(hash, b => b.toString(16).padStart(2, '0')).join('')); }
  for (const el of root.querySelectorAll('.widget-html-content, div.widget-label, .widget-output, textarea'))
    parts.push('text: ' + (el.value !== undefined && el.tagName === 'TEXTAREA' ? el.value : el.innerText));
  return parts.join('\\n'); }"""


def open_notebook(page, lab: Lab, relpath: str):
    page.goto(lab.notebook_url(relpath, workspace=Path(relpath).stem))
    page.wait_for_function(KERNEL_READY, timeout=180_000)


def kernel_idle(page) -> bool:
    return page.evaluate(KERNEL_READY)


def error_outputs(cells: list[dict]) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in cells for o in c["outputs"] if o["output_type"] == "error"]


def run_all(page, timeout: float = RUN_TIMEOUT) -> list[dict]:
    """Run All Cells; wait until done; the code cells (execution count, outputs as nbformat JSON)."""
    page.evaluate(RUN_ALL)
    page.wait_for_function("() => window.__runAll !== null", timeout=timeout * 1000, polling=1000)
    page.wait_for_function(KERNEL_READY, timeout=60_000)
    return page.evaluate(CELLS)


def widget_views(page, cells: list[dict]):
    """The rendered widget outputs, once as many as the model holds are on the page."""
    expected = sum(WIDGET_MIME in o.get("data", {}) for c in cells for o in c["outputs"])
    views = page.locator(".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output:has(> .jupyter-widgets)")
    deadline = time.time() + 60
    while views.count() < expected and time.time() < deadline:
        page.wait_for_timeout(500)
    assert views.count() == expected, f"{views.count()} of {expected} widgets rendered"
    page.wait_for_timeout(1000)  # images decode
    return [views.nth(i) for i in range(expected)]


TILE = "button.widget-toggle-button:not(.widget-toggle-buttons button)"  # a ToggleButton of its own
BOXES = ".jupyter-widgets svg:not(.widget-toggle-buttons svg)"  # jupyter-bbox-widget's drawing area


def controls(view) -> list[tuple[str, object, str]]:
    """(description, locator, kind) of each control of a widget that can be moved."""
    found = []
    for kind, selector in [
        ("slider", ".noUi-handle"),
        ("dropdown", ".widget-dropdown select"),
        ("text", ".widget-text input"),
        ("button", "button.widget-button"),
        ("checkbox", ".widget-checkbox input[type=checkbox]"),
        ("toggle", ".widget-toggle-buttons"),
        ("tile", TILE),
        ("boxes", BOXES),
    ]:
        items = view.locator(selector)
        # the face tiles (ToggleButton under each image) are one control repeated: the first is moved
        for i in range(min(items.count(), 1) if kind == "tile" else items.count()):
            item = items.nth(i)
            if (
                item.is_disabled()
                if kind != "slider"
                else item.get_attribute("aria-valuemin") == item.get_attribute("aria-valuemax")
            ):
                continue
            if kind == "dropdown" and item.locator("option").count() < 2:
                continue
            # its description; a checkbox with indent=False has it beside the box (the other label: a zero-width space)
            label = item.evaluate("""el => { const box = el.closest('.widget-inline-hbox') || el;
                const texts = [...box.querySelectorAll('label.widget-label, .widget-label-basic')]
                  .map(l => l.innerText.replace(/\u200b/g, '').trim());
                return texts.find(t => t) || el.innerText || ''; }""")
            found.append((f"{kind} '{label.strip()}'", item, kind))
    return found


def move(item, kind: str):
    """Move one control as a user would."""
    if kind == "slider":  # keyboard on the noUiSlider handle: a committed change
        now, top = float(item.get_attribute("aria-valuenow")), float(item.get_attribute("aria-valuemax"))
        item.focus()
        item.press("PageUp" if now < top else "PageDown")
    elif kind == "dropdown":
        options = item.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = item.input_value()
        item.select_option(options[(options.index(current) + 1) % len(options)])
    elif kind == "toggle":
        item.locator("button:not(.mod-active)").first.click()
    elif kind == "text":  # a new value, committed with Enter (IntText: the next number)
        value = item.input_value()
        item.fill(str(int(value) + 1) if value.lstrip("-").isdigit() else f"browser-{value}")
        item.press("Enter")
    elif kind == "boxes":  # drag a box with the mouse, from 20 % to 60 % of the image
        box, mouse = item.bounding_box(), item.page.mouse
        mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
        mouse.down()
        mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.6 * box["height"], steps=8)
        mouse.up()
    else:
        item.click()


def wait_for_change(page, view, before: str, timeout: float) -> str:
    """The view's output signature once it differs from `before` (or `before` after `timeout`)."""
    deadline, after = time.time() + timeout, before
    while after == before and time.time() < deadline:
        page.wait_for_timeout(500)
        after = view.evaluate(SIGNATURE)
    return after


def settle(page, timeout: float):
    """Let the kernel finish the callback before the next control."""
    deadline = time.time() + timeout
    while not kernel_idle(page) and time.time() < deadline:
        page.wait_for_timeout(250)
    page.wait_for_timeout(500)


# Controls that by design change no output of their own, and what is checked after moving them instead.
INDIRECT = {
    # notebook 07's concept toggle picks which exemplar list the face tiles edit: a tile clicked
    # after it must change that concept's line of the picks, and no other line
    "toggle 'choosing'": "selects",
    # notebook 07's file field names the JSON that load reads: load after it must report on that name
    "text 'file'": "names",
}


def picks(view, labels: list[str]) -> dict[str, str]:
    """The lines of the view's text that start with one of `labels` (arithmetic_explorer's picks)."""
    lines = [line for t in view.locator(".widget-html-content").all_inner_texts() for line in t.splitlines()]
    return {label: [line for line in lines if line.startswith(f"{label}:")] for label in labels}


def check_indirect(page, view, item, how: str, timeout: float) -> str | None:
    """A control of INDIRECT, just moved: the problem, or None."""
    if how == "selects":
        labels = item.locator("button").all_inner_texts()
        active = item.locator("button.mod-active").inner_text()
        before = picks(view, labels)
        view.locator(TILE).first.click()
        deadline, after = time.time() + timeout, before
        while after == before and time.time() < deadline:
            page.wait_for_timeout(500)
            after = picks(view, labels)
        changed = [label for label in labels if after[label] != before[label]]
        return (
            None
            if changed == [active]
            else (f"after choosing '{active}', a tile changed the picks of {changed or 'nothing'}")
        )
    name = item.input_value()
    view.locator("button.widget-button", has_text="load").click()
    deadline = time.time() + timeout
    while name not in view.inner_text() and time.time() < deadline:
        page.wait_for_timeout(500)
    return None if name in view.inner_text() else f"load after the file field did not mention {name}"


def check_widgets(
    page, cells: list[dict], name: str, timeout: float = CALLBACK_TIMEOUT, driven: list | None = None
) -> list[str]:
    """Move every control of every widget on the page; a control after which the widget's output
    (image bytes, text) does not change within `timeout` is a problem (INDIRECT's controls: their
    own check). Screenshots before and after; `driven` gets "widget N: LABEL" of each control moved,
    and build/browser/NAME-controls.txt lists them."""
    problems, driven = [], [] if driven is None else driven
    for i, view in enumerate(widget_views(page, cells)):
        view.scroll_into_view_if_needed()
        view.screenshot(path=SHOTS / f"{name}-widget{i + 1}-before.png")
        if "Error displaying widget" in view.inner_text():
            problems.append(f"widget {i + 1}: {view.inner_text()[:200]}")
            continue
        for label, item, kind in controls(view):
            driven.append(f"widget {i + 1}: {label}")
            before = view.evaluate(SIGNATURE)
            move(item, kind)
            if label in INDIRECT:
                settle(page, timeout)
                problem = check_indirect(page, view, item, INDIRECT[label], timeout)
                if problem:
                    problems.append(f"widget {i + 1}: {label}: {problem}")
            elif wait_for_change(page, view, before, timeout) == before:
                problems.append(f"widget {i + 1}: moving its {label} did not change its output in {timeout:.0f} s")
            settle(page, timeout)
        view.screenshot(path=SHOTS / f"{name}-widget{i + 1}-after.png")
    (SHOTS / f"{name}-controls.txt").write_text("".join(f"{d}\n" for d in driven))
    return problems


def shutdown_kernel(page):
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")


def check_rendered(page, cells: list[dict]) -> list[str]:
    """An executed notebook opened without running it: every output there, every image loaded."""
    problems = []
    n_outputs = sum(len(c["outputs"]) for c in cells)
    if page.locator(".jp-OutputArea-output").count() < n_outputs:
        problems.append(f"{page.locator('.jp-OutputArea-output').count()} of {n_outputs} outputs on the page")
    n_images = sum("image/png" in o.get("data", {}) for c in cells for o in c["outputs"])
    try:
        page.wait_for_function(
            """n => { const imgs = [...document.querySelectorAll('.jp-OutputArea-output img')];
            return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
            arg=n_images,
            timeout=60_000,
        )
    except Exception:
        problems.append(f"not all of the {n_images} images loaded")
    return problems


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    p.console = Console(p)
    yield p
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_in_jupyterlab(notebook, lab, page, tmp_path):
    if notebook.name[:2] in RUN_IN_BROWSER:
        import papermill as pm

        relpath = f"run/{notebook.name}"  # the source with smoke parameters, never the source
        (lab.root / "run").mkdir(exist_ok=True)
        pm.execute_notebook(
            str(notebook),
            str(lab.root / relpath),
            prepare_only=True,
            kernel_name="python3",
            parameters=dict(profile="smoke", build_dir=str(tmp_path / "build")),
        )
        open_notebook(page, lab, relpath)
        cells = run_all(page)
        page.screenshot(path=SHOTS / f"{notebook.stem}-ran.png")
        assert all(c["count"] for c in cells), "not every cell ran"
        assert not error_outputs(cells)
        problems = check_widgets(page, cells, notebook.stem)
    else:
        relpath = f"executed/{notebook.name}"
        (lab.root / "executed").mkdir(exist_ok=True)
        (lab.root / relpath).write_bytes(executed_copy(notebook).read_bytes())
        open_notebook(page, lab, relpath)
        cells = page.evaluate(CELLS)
        assert not error_outputs(cells)
        problems = check_rendered(page, cells)
        if page.locator(".jp-OutputArea-output img").count():  # show a figure, not the title
            page.locator(".jp-OutputArea-output img").last.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"{notebook.stem}-executed.png")
    shutdown_kernel(page)
    assert not problems, "\n".join(problems)
    assert not page.console.errors, "\n".join(page.console.errors)


# ---------------------------------------------------------------------------------------------
# Notebooks 03–08's widgets, live, from their saved smoke results

# The result the widget cell reads, from the smoke run's saved file (build/test/smoke/results/): the
# section's Result read back; its widget rebuilds what its slow cells would have made (sections.widget).
READ_RESULT = """from dcgan_core import sections
result = sections.result_class({key!r}).read({path!r})"""
# The kinds of control each one's widget has (controls()): a selector that stops matching fails here.
WIDGET_CONTROLS = {
    "03": {"dropdown", "checkbox"},
    "04": {"text", "slider", "dropdown"},
    "05": {"dropdown", "slider", "checkbox"},
    "06": {"slider", "button", "boxes"},
    "07": {"dropdown", "toggle", "slider", "tile", "text", "button"},
    "08": {"dropdown", "slider"},
}
FROM_RESULTS = [p for p in NOTEBOOKS if p.name[:2] in WIDGET_CONTROLS and p.name[:2] not in RUN_IN_BROWSER]
WIDGET_IMPORT = re.compile(r"^from dcgan_core\.widgets import (.+)$", re.M)


def widget_cells(notebook: Path) -> tuple[list, object, list]:
    """The notebook's parameters cell, its setup cell (the one importing from dcgan_core.widgets) and
    the cells that call what it imports (the widgets it displays), as nbformat cells."""
    import nbformat

    code = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    setup = [c for c in code if WIDGET_IMPORT.search(c.source)]
    if len(params) != 1 or len(setup) != 1:
        return params, None, []
    names = [n.strip() for n in WIDGET_IMPORT.search(setup[0].source).group(1).split(",")]
    calls = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\(")
    return params, setup[0], [c for c in code if c is not setup[0] and calls.search(c.source)]


def test_every_notebook_widget_is_driven():
    """Each notebook that displays a widget runs live here (RUN_IN_BROWSER) or from its saved result
    (WIDGET_CONTROLS names its controls); for these, its widget cells are found: one parameters cell,
    one setup cell importing the widgets, and the cells calling them."""
    for notebook in NOTEBOOKS:
        if "dcgan_core.widgets" not in notebook.read_text():
            continue
        assert notebook.name[:2] in RUN_IN_BROWSER | set(WIDGET_CONTROLS), notebook.name
        if notebook.name[:2] in WIDGET_CONTROLS:
            params, setup, calls = widget_cells(notebook)
            assert len(params) == 1 and setup is not None and calls, notebook.name


def from_result_notebook(notebook: Path, saved: Path, build: Path):
    """A throwaway notebook: `notebook`'s parameters cell, smoke parameters, its setup cell, the saved
    result read back (READ_RESULT), and its widget cells, their source as the notebook has it."""
    params, setup, calls = widget_cells(notebook)
    key = sections.find(notebook.name[:2])
    return python3_notebook(
        [
            params[0].source,
            f"profile = 'smoke'\nbuild_dir = {str(build)!r}",
            setup.source,
            READ_RESULT.format(key=key, path=str(saved)),
            *(c.source for c in calls),
        ]
    )


def python3_notebook(sources: list[str]):
    """A notebook of these code cells, run by the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_throwaway(lab, name: str, sources: list[str]) -> str:
    """A notebook of these code cells at selftest/NAME.ipynb in the lab's root; its path there."""
    import nbformat

    (lab.root / "selftest").mkdir(exist_ok=True)
    nbformat.write(python3_notebook(sources), lab.root / "selftest" / f"{name}.ipynb")
    return f"selftest/{name}.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", FROM_RESULTS, ids=lambda p: p.stem)
def test_notebook_widgets_from_saved_result(notebook, lab, page, tmp_path):
    """Issue 29: every control of every widget of notebooks 03–08 (not run in full here: 1–3 minutes
    each), on the widget their cell displays, from the smoke run's saved result: each control's
    output must change (INDIRECT: its own check); the box annotator's Save writes into the server's
    temporary folder; no console error."""
    import nbformat

    executed_copy(notebook)  # its smoke run, with its saved result
    saved = result_file(BUILD / "smoke", sections.find(notebook.name[:2]))
    relpath = f"widgets/{notebook.name}"
    (lab.root / "widgets").mkdir(exist_ok=True)
    nbformat.write(from_result_notebook(notebook, saved, tmp_path / "build"), lab.root / relpath)
    open_notebook(page, lab, relpath)
    cells = run_all(page, timeout=300)
    page.screenshot(path=SHOTS / f"{notebook.stem}-widgets-ran.png")
    assert all(c["count"] for c in cells), "not every cell ran"
    assert not error_outputs(cells)
    driven = []
    problems = check_widgets(page, cells, f"{notebook.stem}-from-result", driven=driven)
    shutdown_kernel(page)
    assert not problems, "\n".join(problems)
    kinds = {d.split(": ", 1)[1].split()[0] for d in driven}
    assert kinds >= WIDGET_CONTROLS[notebook.name[:2]], driven
    assert not page.console.errors, "\n".join(page.console.errors)
    if "forgetting_widget(" in "".join(c.source for c in widget_cells(notebook)[2]):
        assert list(lab.annotations.rglob("*.json")), "Save wrote nothing into the server's annotations folder"


SELF_TEST = [
    # a widget whose callback works: moving either control changes its text
    "import ipywidgets as W\nfrom IPython.display import HTML, display\n"
    "n, kind = W.IntSlider(description='live n', continuous_update=False), W.Dropdown(options=['a', 'b'], description='live kind')\n"
    "text = W.HTML('n = 0, kind = a')\n"
    "def show(change=None):\n    text.value = f'n = {n.value}, kind = {kind.value}'\n"
    "n.observe(show, 'value'); kind.observe(show, 'value')\ndisplay(W.VBox([W.HBox([n, kind]), text]))",
    # a widget whose callback does nothing: its output never changes
    "dead_n, dead_kind = W.IntSlider(description='dead n', continuous_update=False), W.Dropdown(options=['a', 'b'], description='dead kind')\n"
    "dead_n.observe(lambda change: None, 'value')\ndead_text = W.IntText(description='dead text')\n"
    "display(W.VBox([W.HBox([dead_n, dead_kind, dead_text]), W.HTML('always the same')]))",
    # a concept toggle (INDIRECT) that selects nothing: its tile always edits the first list
    "choosing, tile, lists, picks = W.ToggleButtons(options=['a', 'b'], description='choosing'), W.ToggleButton(description='#0'), {'a': [], 'b': []}, W.HTML()\n"
    "def clicked(change):\n    lists['a'].append(0)\n    picks.value = '<br>'.join(f'{k}: {v}' for k, v in lists.items())\n"
    "tile.observe(clicked, 'value'); clicked(None)\ndisplay(W.VBox([choosing, tile, picks]))",
    # a figure that does not exist: the browser logs a failed load (404)
    "display(HTML('<img src=\"no_such_figure.png\">'))",
]


def test_the_check_reports_a_dead_widget_and_a_console_error(lab, page):
    """The check itself can fail: a widget that does nothing on change is reported (and one that
    works is not), so is a concept toggle whose tiles always edit the same list, and a console error."""
    open_notebook(page, lab, write_throwaway(lab, "dead_widget", SELF_TEST))
    cells = run_all(page, timeout=120)
    assert not error_outputs(cells)
    problems = check_widgets(page, cells, "selftest", timeout=10)
    shutdown_kernel(page)
    assert len(problems) == 4 and all(p.startswith("widget 2:") for p in problems[:3]), problems
    assert "slider 'dead n'" in problems[0] and "dropdown 'dead kind'" in problems[1], problems
    assert "text 'dead text'" in problems[2], problems
    assert problems[3] == "widget 3: toggle 'choosing': after choosing 'b', a tile changed the picks of ['a']", problems
    assert any("404" in e or "no_such_figure" in e for e in page.console.errors), page.console.errors


WIDGET_SIZES = [
    "import torch\nfrom dcgan_core.data import ImageData\nfrom dcgan_core.models import Discriminator, Generator, init_weights\n"
    "from dcgan_core.widgets import guided_backprop_explorer, latent_walk_explorer\n"
    "G, D = Generator(arch='torch', image_size=32, width=8), Discriminator(arch='torch', image_size=32, width=8)\n"
    "init_weights(G, torch.Generator().manual_seed(0)); init_weights(D, torch.Generator().manual_seed(0))\n"
    "data = ImageData('random', torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)),\n"
    "                 torch.arange(40) % 2, [str(i) for i in range(40)], classes=['a', 'b'])\n"
    "display(latent_walk_explorer(G, steps=16))\ndisplay(guided_backprop_explorer({'random D': (D, data)}, k=6))",
]
# each image of a widget view: its rendered box, and the view's right edge
IMAGE_BOXES = """view => { const right = view.getBoundingClientRect().right;
  return [...view.querySelectorAll('img')].map(i => { const r = i.getBoundingClientRect();
    return {width: r.width, top: Math.round(r.top), right: r.right, edge: right}; }); }"""


def test_widget_images_keep_their_size_in_jupyterlab(lab, page):
    """Issue 29, in a real JupyterLab: the latent walk's 17 frames of a 16-step walk stay 96 px and
    wrap into rows inside the notebook (one fixed row had shrunk them to ~40 px), and guided
    backprop's images stay 128 px, in a wide window and a narrow one."""
    open_notebook(page, lab, write_throwaway(lab, "widget_sizes", WIDGET_SIZES))
    cells = run_all(page, timeout=300)
    assert not error_outputs(cells)
    for width in (1400, 900):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(1000)
        walk, guided = widget_views(page, cells)
        for name, view in (("walk", walk), ("guided", guided)):
            view.scroll_into_view_if_needed()
            page.screenshot(path=SHOTS / f"widget-sizes-{name}-{width}.png")
        frames = walk.evaluate(IMAGE_BOXES)
        assert len(frames) == 17 and all(f["width"] == 96 for f in frames), frames
        assert all(f["right"] <= f["edge"] + 1 for f in frames), frames  # wrapped, not past the view
        assert len({f["top"] for f in frames}) >= 2  # 17 × 96 px: more than one row
        assert [g["width"] for g in guided.evaluate(IMAGE_BOXES)] == [6 * 128] * 2
    shutdown_kernel(page)
    assert not page.console.errors, "\n".join(page.console.errors)


# ---------------------------------------------------------------------------------------------
# The results report


@pytest.fixture
def report_site():
    """build/test/smoke/report/, built by the CLI from the executed notebooks there (in a full run,
    tests/test_notebooks.py has just written every one; alone, notebook 01 is executed if missing)."""
    executed_copy(NOTEBOOKS[0])
    build = BUILD / "smoke"
    done = subprocess.run(
        [sys.executable, "-m", "dcgan_core", "report", "--build", str(build)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(build / "report"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


IMAGES_LOADED = """() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""
LOCAL_LINKS = """() => [...document.querySelectorAll('a[href]')].map(a => a.href)
  .filter(h => h.startsWith(location.origin)).map(h => h.split('#')[0])"""


@pytest.mark.slow
def test_report_in_browser(report_site, page):
    """Every page of the report loads, every image on it resolves, no console error; the claims
    table lists every claim of claims.CLAIMS with a verdict."""
    from dcgan_core.claims import CLAIMS

    response = page.goto(f"{report_site}/index.html")
    assert response.ok
    page.wait_for_load_state("load")
    assert page.evaluate(IMAGES_LOADED) == []
    assert page.locator("img").count() > 0
    for claim in CLAIMS:
        row = page.locator(f'[id="claim-{claim.id}"]')
        assert row.count() == 1, claim.id
        assert any(s in row.inner_text() for s in ("holds", "fails", "skipped", "no result")), row.inner_text()
    page.screenshot(path=SHOTS / "report-index.png", full_page=True)
    links = sorted(set(page.evaluate(LOCAL_LINKS)))
    pages = [link for link in links if link.endswith(".html") and not link.endswith("/index.html")]
    assert len(pages) == len(list((BUILD / "smoke").glob("[0-9][0-9]_*.ipynb"))), pages
    for link in links:
        if not link.endswith(".html"):  # a figure: fetched, not opened as a page of its own
            assert page.request.get(link).ok, link
            continue
        response = page.goto(link)
        assert response.ok, link
        if link.endswith(".html"):
            page.wait_for_load_state("load")
            assert page.evaluate(IMAGES_LOADED) == [], link
        if link in pages:
            assert page.locator(".jp-Cell").count() > 0, link  # nbconvert's notebook page
            page.screenshot(path=SHOTS / f"report-{Path(link).stem}.png")
    assert not page.console.errors, "\n".join(page.console.errors)
