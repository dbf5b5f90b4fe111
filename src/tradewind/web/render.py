"""Small renderers for the templates: inline SVG charts (no JavaScript chart library) and
Integration Guides, whose Markdown goes through markdown-it-py (CommonMark with tables)."""

from __future__ import annotations

import html
from collections.abc import Sequence
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


def bar_chart(
    points: Sequence[Point],
    *,
    unit: str = "%",
    maximum: float = 100.0,
    title: str = "",
    color: str = "var(--ok)",
) -> Markup:
    """Bars on a 0–``maximum`` scale, one per point, labelled on hover."""
    width, height, pad = 640, 160, 24
    if not any(point.value is not None for point in points):
        return Markup(f'<p class="muted">{html.escape(title)}: no calls recorded yet.</p>')  # noqa: S704 (every value is escaped)
    step = (width - pad) / len(points)
    bars = []
    for index, point in enumerate(points):
        if point.value is None:
            continue
        share = max(0.0, min(point.value / maximum, 1.0)) if maximum else 0.0
        bar_height = share * (height - pad)
        x = pad + index * step
        y = height - pad - bar_height
        label = html.escape(f"{point.label}: {point.value:.1f}{unit}")
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{bar_height:.1f}" fill="{color}" rx="2"><title>{label}</title></rect>'
        )
    return Markup(  # noqa: S704 (every value is escaped)
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width}" y2="{height - pad}" class="axis"/>'
        f'<text x="0" y="12" class="tick">{maximum:g}{html.escape(unit)}</text>'
        f'<text x="0" y="{height - pad}" class="tick">0</text>'
        f"{''.join(bars)}"
        f'<text x="{pad}" y="{height - 6}" class="tick">{html.escape(points[0].label)}</text>'
        f'<text x="{width}" y="{height - 6}" class="tick" text-anchor="end">'
        f"{html.escape(points[-1].label)}</text></svg>"
    )


def line_chart(
    series: Sequence[tuple[str, str, Sequence[Point]]], *, unit: str = " ms", title: str = ""
) -> Markup:
    """Lines (name, colour, points) on a shared scale."""
    width, height, pad = 640, 160, 24
    values = [point.value for _, _, points in series for point in points if point.value is not None]
    if not values:
        return Markup(f'<p class="muted">{html.escape(title)}: no calls recorded yet.</p>')  # noqa: S704 (every value is escaped)
    top = max(values) * 1.1 or 1.0
    paths = []
    legend = []
    for offset, (name, color, points) in enumerate(series):
        count = len(points)
        coords = []
        for index, point in enumerate(points):
            value = point.value or 0.0
            x = pad + (index / max(count - 1, 1)) * (width - pad - 4)
            y = height - pad - (value / top) * (height - pad - 8)
            coords.append(f"{x:.1f},{y:.1f}")
        paths.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(coords)}"><title>{html.escape(name)}</title></polyline>'
        )
        for index, point in enumerate(points):
            cx, cy = coords[index].split(",")
            label = html.escape(f"{name} {point.label}: {point.value or 0:.0f}{unit}")
            paths.append(
                f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"><title>{label}</title></circle>'
            )
        legend.append(
            f'<text x="{width - 8}" y="{14 + 14 * offset}" text-anchor="end" class="tick" '
            f'fill="{color}">{html.escape(name)}</text>'
        )
    return Markup(  # noqa: S704 (every value is escaped)
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width}" y2="{height - pad}" class="axis"/>'
        f'<text x="0" y="12" class="tick">{top:.0f}</text>'
        f"{''.join(paths)}{''.join(legend)}</svg>"
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
