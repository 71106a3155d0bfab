"""The dashboard's charts: SVG drawn on the server by pygal from the crawl's snapshots.

Server-side SVG needs no JavaScript library and no CDN: the page works offline and the browser only lays out
what it receives. pygal's own tooltip script is not loaded (js=[]), so nothing is fetched from its site.
"""
import sys

import pygal
from django.utils.safestring import mark_safe
from pygal.style import Style

# pygal appends a sys.meta_path finder for its map plugins (pygal.maps.*, not used here) that lacks find_spec:
# every later import that reaches it warns (ImportWarning) on Python 3.11. Taken out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

STYLE = Style(background="white", plot_background="white", font_family="system-ui, sans-serif",
              colors=("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728", "#8c564b", "#17becf", "#7f7f7f"),
              label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15)


def _count(value):
    """A y-axis label: whole counts only (a chart of small counts would repeat '1' at 0.2 steps)."""
    return f"{value:,.0f}" if float(value).is_integer() else ""


def _chart(title, series, *, y_title="", legend_columns=3):
    """A time-series line chart of `series` ({name: [(datetime, value), ...]}) as inline SVG markup."""
    chart = pygal.DateTimeLine(
        title=title, y_title=y_title, style=STYLE, js=[], disable_xml_declaration=True, width=640, height=320,
        dots_size=2, stroke_style={"width": 2.5}, legend_at_bottom=True, legend_at_bottom_columns=legend_columns,
        truncate_legend=-1, x_label_rotation=0, show_minor_x_labels=False, x_labels_major_count=6,
        x_value_formatter=lambda moment: moment.strftime("%H:%M"), value_formatter=_count,
        no_data_text="no snapshots yet", include_x_axis=True, allow_interruptions=True,
    )
    for name, points in series.items():
        chart.add(name, points)
    # pygal writes the SVG with ElementTree, which escapes the series names and titles it draws.
    return mark_safe(chart.render())  # noqa: S308


def _over_time(snapshots, read):
    return [(snapshot.taken_at, read(snapshot)) for snapshot in snapshots]


def growth(snapshots):
    """Developers stored, profiled and fully synced, and repositories, over time."""
    return _chart("Developers and repositories", {
        "developers stored": _over_time(snapshots, lambda s: s.developers),
        "profiled": _over_time(snapshots, lambda s: s.profiled),
        "fully synced": _over_time(snapshots, lambda s: s.fully_synced),
        "repositories": _over_time(snapshots, lambda s: s.repositories),
    })


def edges(snapshots):
    """Follow and star edges over time."""
    return _chart("Edges", {
        "follows": _over_time(snapshots, lambda s: s.follows),
        "stars": _over_time(snapshots, lambda s: s.stars),
    })


def frontier(snapshots):
    """The discovery frontier over time."""
    return _chart("Discovery frontier", {
        "never synced": _over_time(snapshots, lambda s: s.never_synced),
        "due for resync": _over_time(snapshots, lambda s: s.due_for_resync),
    })


def tasks(snapshots):
    """Tasks by state over time (failed and succeeded are the stored results, not per interval)."""
    return _chart("Tasks", {
        name: _over_time(snapshots, lambda s, name=name: s.tasks.get(name))
        for name in ("queued", "running", "postponed", "retrying", "failed")
    })


def quota(snapshots):
    """Per token and bucket: requests spent in the current hourly window, and what the window allows."""
    by_key = [(snapshot.taken_at, {(row["credential"], row["resource"]): row for row in snapshot.quotas})
              for snapshot in snapshots]
    series = {}
    for key in sorted({key for _, rows in by_key for key in rows}):
        name = "/".join(key)
        series[f"{name} spent"] = [(at, rows[key]["spent"] if key in rows else None) for at, rows in by_key]
        series[f"{name} allowed"] = [(at, rows[key]["allowed_per_window"] if key in rows else None)
                                     for at, rows in by_key]
    return _chart("Quota per token and bucket (this hour's window)", series, y_title="requests", legend_columns=2)


def all_charts(snapshots):
    """Every chart of the dashboard, in page order."""
    return [growth(snapshots), edges(snapshots), quota(snapshots), tasks(snapshots), frontier(snapshots)]
