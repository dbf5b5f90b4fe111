"""Small renderers for the templates: inline SVG charts (no JavaScript chart library) and
a deliberately tiny Markdown subset for Integration Guides (headings, lists, paragraphs,
inline code, bold, links) — every character is HTML-escaped first."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

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


_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def _inline(text: str) -> str:
    escaped = html.escape(text)
    escaped = _INLINE_CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _LINK.sub(r'<a href="\2" rel="noopener noreferrer" target="_blank">\1</a>', escaped)


def markdown(source: str) -> Markup:
    """A safe subset of Markdown for guides written by connector authors."""
    out: list[str] = []
    paragraph: list[str] = []
    list_kind = ""
    in_code = False
    code: list[str] = []

    def flush() -> None:
        nonlocal list_kind
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = ""

    for raw in source.splitlines():
        line = raw.rstrip()
        if line.startswith("```"):
            if in_code:
                out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                code.clear()
                in_code = False
            else:
                flush()
                in_code = True
            continue
        if in_code:
            code.append(raw)
            continue
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        bullet = re.match(r"^\s*[-*]\s+(.*)$", line)
        numbered = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
        if heading:
            flush()
            level = len(heading.group(1)) + 1
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            kind = "ul" if bullet else "ol"
            if paragraph:
                out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
                paragraph.clear()
            if list_kind != kind:
                if list_kind:
                    out.append(f"</{list_kind}>")
                out.append(f"<{kind}>")
                list_kind = kind
            item = bullet or numbered
            assert item is not None
            out.append(f"<li>{_inline(item.group(1))}</li>")
        elif not line.strip():
            flush()
        else:
            if list_kind:
                out.append(f"</{list_kind}>")
                list_kind = ""
            paragraph.append(line.strip())
    if in_code:
        out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
    flush()
    return Markup("\n".join(out))  # noqa: S704 (every value is escaped)
