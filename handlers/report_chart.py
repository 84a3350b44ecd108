"""The year's progress as a PNG bar chart, one bar per indicator, made to be read on a phone."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from plan.progress import ACHIEVED, BEHIND, NOT_MET, NOT_STARTED, ON_TRACK, IndicatorProgress
from plan.report import progress_value

__all__ = ["COLOURS", "MAX_WIDTH_PX", "progress_chart"]

MAX_WIDTH_PX = 1280
_DPI = 100
_ROW_INCHES = 0.62
_LABEL_CHARS = 70
COLOURS = {
    ACHIEVED: "#2e7d32",
    NOT_MET: "#c62828",
    ON_TRACK: "#64b5f6",
    BEHIND: "#ef6c00",
    NOT_STARTED: "#9e9e9e",
}
# DejaVu Sans ships with matplotlib and has Cyrillic.
_FONT = "DejaVu Sans"


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in code.split("."))


def _label(p: IndicatorProgress) -> str:
    text = " ".join(p.indicator.description.split())
    if len(text) > _LABEL_CHARS:
        text = text[: _LABEL_CHARS - 1].rstrip() + "…"
    return f"{p.indicator.measure_code}  {text}"


def _share(p: IndicatorProgress) -> float:
    if p.met:
        return 1.0
    # A monthly indicator is judged by its months met, not by its yearly sum.
    if p.months_total:
        return min((p.months_met or 0) / p.months_total, 1.0)
    return min(p.actual / p.target, 1.0) if p.target > 0 else 0.0


def progress_chart(
    progress: Sequence[IndicatorProgress],
    title: str,
    value: Callable[[IndicatorProgress], str] = progress_value,
) -> bytes:
    """PNG of actual/target per indicator (capped at 100%), sorted by measure code; `value`
    writes the figure beside each bar ("3/6", "9 з 12 місяців"), in the reader's language.

    Each indicator's label sits above its bar so the whole width is left for the bars; the
    figure grows in height with the number of indicators and is MAX_WIDTH_PX wide.
    """
    rows = sorted(progress, key=lambda p: (_code_key(p.indicator.measure_code), p.indicator.id))
    n = max(len(rows), 1)
    height = 1.6 + n * _ROW_INCHES  # inches: 1 for the title, 0.6 for the axis below
    # Imported on first use: matplotlib takes half a second to import, at every start-up
    # otherwise. The Agg canvas draws to memory only, so no display is ever needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(MAX_WIDTH_PX / _DPI, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.02, 0.5 / height, 0.96, 1 - 1.5 / height))
    for y, p in enumerate(rows):
        axes.barh(y, 100 * _share(p), height=0.42, color=COLOURS.get(p.status, "#9e9e9e"))
        axes.barh(y, 100, height=0.42, color="none", edgecolor="#bdbdbd", linewidth=0.8)
        axes.text(0, y - 0.34, _label(p), fontsize=14, va="bottom", ha="left", family=_FONT)
        axes.text(
            101.5,
            y,
            value(p),
            fontsize=14,
            va="center",
            ha="left",
            family=_FONT,
            fontweight="bold",
        )
    axes.set_xlim(0, 130)  # room after the bars for "9 з 12 місяців"
    axes.set_ylim(n - 0.5, -0.95)
    axes.set_yticks([])
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=13, family=_FONT)
    axes.axvline(100, color="#424242", linewidth=1)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    figure.suptitle(title, fontsize=20, family=_FONT, fontweight="bold")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()
