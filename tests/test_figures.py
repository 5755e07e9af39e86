"""The figures' labels read at the saved size (issue 28): every figure with labelled categorical
axes (bars, boxes) and the other results figures, built from the recorded cpu results
(results/cpu/results/*.json, no model run), has no two tick labels of one axis overlapping and no
text cut by the figure's edge, measured on the drawn figure at figures.DPI."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from dcgan_core import (
    dedup_figures,
    feature_ablations,
    forgetting_figures,
    guided_backprop_figures,
    kmeans_ablation,
    latent_walk,
    mnist_figures,
    representation,
    sections,
    vector_arithmetic_figures,
)
from dcgan_core.figures import label_problems, readable_labels

RESULTS = Path(__file__).resolve().parents[1] / "results" / "cpu" / "results"


def recorded(name: str):
    """The recorded result of section NAME, read back as its Result (`Result.read`)."""
    return sections.result_class(name).read(RESULTS / f"{name}.json")


FIGURES = {
    "arithmetic_success_rates": lambda: vector_arithmetic_figures.success_figure(recorded("07_vector_arithmetic")),
    "repr_kmeans_ablation": lambda: kmeans_ablation.ablation_figure(recorded("03_representation").kmeans_ablation),
    "table1": lambda: representation.table1_figure(recorded("03_representation")),
    "table2": lambda: representation.table2_figure(recorded("03_representation")),
    "feature_ablations": lambda: feature_ablations.ablation_figure(recorded("03_representation")),
    "dedup_scores": lambda: dedup_figures.scores_figure(recorded("02_dedup")),
    "dedup_sweep": lambda: dedup_figures.sweep_figure(recorded("02_dedup")),
    "dedup_scaling": lambda: dedup_figures.scaling_figure(recorded("02_dedup")),
    "walk_smoothness": lambda: latent_walk.smoothness_figure(recorded("04_latent_walk")),
    "selectivity": lambda: guided_backprop_figures.selectivity_figure(recorded("05_guided_backprop")),
    "forgetting_curve": lambda: forgetting_figures.curve_figure(recorded("06_forgetting_objects").eyeglasses),
    "mnist_errors": lambda: mnist_figures.error_figure(recorded("08_mnist_appendix")),
}


@pytest.mark.parametrize("name", FIGURES)
def test_labels_read_at_the_saved_size(name):
    fig = FIGURES[name]()
    try:
        assert label_problems(fig) == []
    finally:
        plt.close(fig)


def test_the_check_finds_overlapping_and_cut_labels_and_the_layout_fixes_them():
    """Long labels under close bars overlap (the old arithmetic figure's fault), and a label past
    the edge is cut; readable_labels wraps or turns them until none is."""
    text = "man with glasses − man without glasses + woman without glasses = woman with glasses"
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(range(4), [1, 2, 3, 4])
    ax.set_xticks(range(4), [f"{text} ({i})" for i in range(4)], fontsize=8)
    problems = label_problems(fig)
    assert any("overlaps" in p for p in problems) and any("edge" in p for p in problems), problems
    assert label_problems(readable_labels(fig)) == []
    assert all(t.get_text().count("\n") or t.get_rotation() for t in ax.get_xticklabels())
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 1.2))  # 12 rows in 1.2 inches: labels on top of each other
    ax.barh(range(12), range(12))
    ax.set_yticks(range(12), [f"row {i}" for i in range(12)], fontsize=8)
    assert any("overlaps" in p for p in label_problems(fig))
    assert label_problems(readable_labels(fig)) == []
    assert fig.get_size_inches()[1] > 1.2
    plt.close(fig)
