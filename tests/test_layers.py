"""The package's imports form layers (STYLE.md: dependencies point down). Every import is read
with `ast`, those inside functions included: no module imports one above it, no cycle, and no
module takes another module's `_private` name. A new module must be given its layer here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dcgan_core"

# Bottom up. A module may import modules of its own layer or of lower ones.
LAYERS = [
    {"__init__", "files", "diffaugment", "inception", "conditional", "hardware"},  # import nothing else of the package
    # (inception: FID's net, asks hardware for bf16 kernels; conditional: §8.1's one-hot labels and fully connected
    # nets; hardware: precision, bf16 kernels, torchrun)
    {"config", "sources"},  # configs, profiles, validation; where each dataset's
    # images are (data imports them)
    {"models", "data", "results"},  # networks, datasets, result objects
    {"checkpoint", "runlog", "claims", "verdicts"},  # checkpoint files, a run's metrics/eval logs; the paper's
    # claims; how they are judged
    {"pretrained"},  # the zoo; load_models(path | zoo:NAME)
    {
        "sample",
        "figures",
        "annotations",  # annotations: hand labels of generated samples
        "drop_maps",
        "window_judge",
        "pose",
    },  # G's feature maps: the probe, dropping them (§6.3.1), and
    # the window judge on D's features with its darkness control;
    # pose measures checked on hand-sorted real faces (Figure 8)
    {"metrics"},  # FID/KID
    {"memorization", "train", "semantic_hash"},  # §4.1.1's method: the autoencoder hash, the `dedup` command
    {
        "dedup",
        "mnist_appendix",
        "guided_backprop",
        "feature_selectivity",
        "representation",  # one per section
        "features",
        "svm",
        "cnn_baseline",
        "classify",
        "kmeans_ablation",
        "feature_ablations",
    },  # §5's steps
    # (representation composes them)
    {"latent_walk", "attributes", "misalignment"},  # §6.1; the face-attribute judge of §6.3; a face detector's
    # misalignment (§6.3.2's pixel control)
    {
        "vector_arithmetic",
        "forgetting",
        "judge",  # §6.3.2, §6.3.1 (use the attribute judge above); the judge
        "turn",
        "concepts",
        "choices",
    },  # checked on hand-labelled generated faces (annotations' files);
    # §6.3.2's turn vector (Figure 8), concept reading and equations,
    # and Figures 7–8's exemplars as a JSON
    {
        "cards",
        "widgets",
        "notebooks",
        "report",
        "record",  # report: results → build/PROFILE/report/; record: results/
        "sections",
        "forgetting_figures",
        "dedup_figures",
        "mnist_figures",
        "guided_backprop_figures",
        "vector_arithmetic_figures",
    },  # the sections in paper order (imports them by name, at run time);
    # Figure 6 and §6.3.1's tables; §4.1.1's, §6.2's, §6.3.2's and §8.1's figures
    {"cli"},
    {"__main__"},
]
LAYER = {m: i for i, layer in enumerate(LAYERS) for m in layer}


def imports(package: Path = PACKAGE) -> dict[str, list[tuple[str, list[str], int]]]:
    """module → [(imported module, names taken, line)] for every relative import in the package."""
    out = {}
    for path in sorted(package.glob("*.py")):
        found = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:  # from .x import a, b
                    found.append((node.module.split(".")[0], [a.name for a in node.names], node.lineno))
                else:  # from . import x
                    found += [(a.name, [], node.lineno) for a in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [(m.split(".")[1], [], node.lineno) for m in mods if m.startswith(f"{package.name}.")]
        out[path.stem] = found
    return out


def test_every_module_has_a_layer():
    missing = sorted(set(imports()) - set(LAYER))
    assert not missing, f"give these modules a layer in tests/test_layers.py: {missing}"


def test_imports_point_down():
    upward = [
        f"{m}:{line} imports {target} (layer {LAYER[target]} > {LAYER[m]})"
        for m, found in imports().items()
        for target, _, line in found
        if target in LAYER and m in LAYER and LAYER[target] > LAYER[m]
    ]
    assert not upward, "\n".join(upward)


def find_cycles(found: dict) -> list[str]:
    graph = {m: {t for t, _, _ in targets if t != m} for m, targets in found.items()}

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return path + [nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    return [" → ".join(c) for m in graph if (c := cycle_from(m))]


def test_no_import_cycle():
    cycles = find_cycles(imports())
    assert not cycles, cycles


def test_no_private_names_across_modules():
    private = [
        f"{m}:{line} imports {target}.{name}"
        for m, found in imports().items()
        for target, names, line in found
        for name in names
        if name.startswith("_")
    ]
    assert not private, private


def test_the_checker_sees_function_level_imports_and_private_names(tmp_path):
    """A circle held together by an import inside a function (how the old one hid) is found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "low.py").write_text("def f():\n    from .high import g\n    return g\n")
    (pkg / "high.py").write_text("from .low import f, _secret\nimport pkg.low\n")
    found = imports(pkg)
    assert ("high", ["g"], 2) in found["low"]
    assert find_cycles(found) and any("_secret" in names for _, names, _ in found["high"])
