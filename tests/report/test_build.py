"""The report reads like an appendix: statistics as tables, every plot's axes labelled, legends off the data."""

from __future__ import annotations

import matplotlib.figure
import pytest

from pipeline.report.build import _html_value, build_report
from tests.conftest import write_run


@pytest.fixture(scope="module")
def saved_figures(small_parts, tmp_path_factory):
    """Build a report over a small run and keep every figure it saves."""
    figures = []
    save = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        figures.append((str(args[0]), fig))
        return save(fig, *args, **kwargs)

    run = write_run(small_parts, tmp_path_factory.mktemp("run"))
    mp = pytest.MonkeyPatch()
    mp.setattr(matplotlib.figure.Figure, "savefig", keep)
    try:
        build_report(run, extra={"dedup": {"turns": {"seen": 10, "exact": 1, "near": 0, "removed": 0}}})
    finally:
        mp.undo()
    return run, figures


def test_statistics_are_tables_never_python_reprs(saved_figures):
    run, _ = saved_figures
    page = (run / "report" / "index.html").read_text()
    assert "{'" not in page and "': " not in page
    assert "<th>exact</th>" in page  # the dedup counts as a table with a column per count


def _labelled(ax, axes, which: str) -> bool:
    """This axes carries the label, or one it shares the axis with does, or (in a grid of plots, such as the
    Big Five pair plot) the one that labels its row (y) or column (x)."""
    def label(a) -> str:
        return a.get_ylabel() if which == "y" else a.get_xlabel()

    shared = (ax.get_shared_y_axes() if which == "y" else ax.get_shared_x_axes()).get_siblings(ax)
    if any(label(a) for a in shared):
        return True
    pos = ax.get_position()
    return len(axes) >= 9 and any(label(a) for a in axes if abs((a.get_position().y0 - pos.y0) if which == "y"
                                                                 else (a.get_position().x0 - pos.x0)) < 1e-6)


def _named_ticks(labels) -> bool:
    """Categories (task names, weekdays) name the axis themselves; numbers do not."""
    texts = [t.get_text().replace("−", "-") for t in labels if t.get_text()]
    return bool(texts) and not all(t.replace(".", "").replace(",", "").lstrip("-").isdigit() for t in texts)


def test_every_plotted_axes_is_labelled_and_no_legend_sits_on_bars(saved_figures):
    _, figures = saved_figures
    assert len(figures) >= 8
    for path, fig in figures:
        fig.canvas.draw()
        plots = [ax for ax in fig.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
        for ax in plots:
            assert _labelled(ax, plots, "x") or _named_ticks(ax.get_xticklabels()), (path, ax.get_title(), "x")
            assert _labelled(ax, plots, "y") or _named_ticks(ax.get_yticklabels()), (path, ax.get_title(), "y")
            legend = ax.get_legend()
            if legend is not None and ax.patches:  # bars fill the area: their legend goes outside it
                assert not legend.get_window_extent().overlaps(ax.get_window_extent()), (path, ax.get_title())


def test_a_mapping_renders_as_a_table():
    assert _html_value({"min": 1, "mean": 2.5, "max": 4}) == (
        "<table class='inner'><tr><th>min</th><th>mean</th><th>max</th></tr><tr><td>1</td><td>2.5</td><td>4</td></tr></table>")
    assert _html_value(12345) == "12,345" and _html_value(0.123456) == "0.1235" and _html_value([1, "a"]) == "1, a"
