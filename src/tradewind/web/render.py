"""Small renderers for the templates: inline SVG charts (no JavaScript chart library) and
Integration Guides, whose Markdown goes through markdown-it-py (CommonMark with tables)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # None: nothing to show for this slot (no calls that hour)


# Charts are drawn in px-sized units and never shown smaller (``.chart-wrap`` in app.css),
# so the 11 px labels stay 11 px or larger.
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 560, 180, 56, 34, 10
LABEL_EVERY = 6  # an x label every 6 slots (hours), counted back from the newest


def _x_labels(points: Sequence[Point], x_of: Callable[[int], float]) -> str:
    last = len(points) - 1
    shown = sorted(range(last, -1, -LABEL_EVERY))  # evenly spaced, ending at the newest
    labels = []
    for index in shown:
        anchor = "end" if index == last else ("start" if index == 0 else "middle")
        labels.append(
            f'<text x="{x_of(index):.1f}" y="{HEIGHT - 8}" class="tick" '
            f'text-anchor="{anchor}">{html.escape(points[index].label)}</text>'
        )
    return "".join(labels)


def _frame(title: str, top_label: str, body: str, x_labels: str) -> Markup:
    base = HEIGHT - BOTTOM
    return Markup(  # noqa: S704 (every value is escaped by the callers)
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" class="axis"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 8}" class="tick" text-anchor="end">'
        f"{html.escape(top_label)}</text>"
        f'<text x="{LEFT - 4}" y="{base}" class="tick" text-anchor="end">0</text>'
        f"{body}{x_labels}</svg>"
    )


def bar_chart(
    points: Sequence[Point],
    *,
    unit: str = "%",
    maximum: float = 100.0,
    title: str = "",
    color: str = "var(--ok)",
) -> Markup:
    """Bars on a 0–``maximum`` scale, one per point, each with its label in a tooltip."""
    if not any(point.value is not None for point in points):
        return Markup(f'<p class="muted">{html.escape(title)}: no calls recorded yet.</p>')  # noqa: S704 (every value is escaped)
    step = (WIDTH - LEFT) / len(points)
    span = HEIGHT - BOTTOM - TOP
    bars = []
    for index, point in enumerate(points):
        if point.value is None:
            continue
        share = max(0.0, min(point.value / maximum, 1.0)) if maximum else 0.0
        bar_height = max(share * span, 1.0)
        x = LEFT + index * step
        y = HEIGHT - BOTTOM - bar_height
        label = html.escape(f"{point.label}: {point.value:.1f}{unit}")
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{bar_height:.1f}" fill="{color}" rx="2"><title>{label}</title></rect>'
        )
    return _frame(
        title,
        f"{maximum:g}{unit}",
        "".join(bars),
        _x_labels(points, lambda index: LEFT + index * step + step / 2),
    )


def line_chart(
    series: Sequence[tuple[str, str, Sequence[Point]]], *, unit: str = " ms", title: str = ""
) -> Markup:
    """Lines (name, colour, points) on a shared scale; a point without a value is a gap,
    and every point with one has its own tooltip."""
    values = [point.value for _, _, points in series for point in points if point.value is not None]
    if not values:
        return Markup(f'<p class="muted">{html.escape(title)}: no calls recorded yet.</p>')  # noqa: S704 (every value is escaped)
    top = max(values) * 1.1 or 1.0
    count = max(len(points) for _, _, points in series)
    span = HEIGHT - BOTTOM - TOP

    def x_of(index: int) -> float:
        return LEFT + 6 + (index / max(count - 1, 1)) * (WIDTH - LEFT - 12)

    paths = []
    legend = []
    for offset, (name, color, points) in enumerate(series):
        coords = [
            (index, x_of(index), HEIGHT - BOTTOM - (point.value / top) * span, point)
            for index, point in enumerate(points)
            if point.value is not None
        ]
        paths.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(f"{x:.1f},{y:.1f}" for _, x, y, _ in coords)}">'
            f"<title>{html.escape(name)}</title></polyline>"
        )
        for _, x, y, point in coords:
            label = html.escape(f"{name} {point.label}: {point.value or 0:.0f}{unit}")
            paths.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{label}</title></circle>"
            )
        legend.append(
            f'<text x="{WIDTH - 8}" y="{TOP + 10 + 14 * offset}" text-anchor="end" class="tick" '
            f'fill="{color}">{html.escape(name)}</text>'
        )
    longest = max(series, key=lambda each: len(each[2]))[2]
    return _frame(
        title, f"{top:.0f}{unit}", "".join(paths) + "".join(legend), _x_labels(longest, x_of)
    )


class _GuideHTML(RendererHTML):
    """Headings one level down (the page has its own ``h1``); a table scrolls in its own
    box on a narrow screen; links open in a new tab without the opener."""

    def heading_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f"<h{_level(tokens[idx])}>"

    def heading_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f"</h{_level(tokens[idx])}>\n"

    def table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return '<div class="table-wrap" tabindex="0"><table>\n'

    def table_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table></div>\n"

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        tokens[idx].attrSet("rel", "noopener noreferrer")
        tokens[idx].attrSet("target", "_blank")
        return self.renderToken(tokens, idx, options, env)


def _level(token: Token) -> int:
    return min(int(token.tag[1]) + 1, 6)


# CommonMark with tables, raw HTML off: every tag written in a guide is shown as text, and
# markdown-it's link check refuses ``javascript:``, ``vbscript:`` and ``data:`` URLs.
_GUIDE = MarkdownIt("commonmark", {"html": False}, renderer_cls=_GuideHTML).enable(
    ["table", "strikethrough"]
)


def markdown(source: str) -> Markup:
    """An Integration Guide (Markdown written by a connector's author) as safe HTML."""
    return Markup(_GUIDE.render(source))  # noqa: S704 (raw HTML is off: markdown-it escapes it)
