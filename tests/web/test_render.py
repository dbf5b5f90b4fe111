"""Integration Guides through markdown-it-py: what a guide's author writes is what the
merchant reads (tables, wrapped numbered steps, emphasis), and nothing they write runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tradewind.web.render import markdown

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "tradewind"


def _shipped_guides() -> list[tuple[str, str]]:
    guides = [(str(path.relative_to(ROOT)), path.read_text()) for path in SRC.rglob("guide.md")]
    for path in sorted((SRC / "integrations" / "templates").glob("*.yaml")):
        guide = (yaml.safe_load(path.read_text()) or {}).get("guide")
        if guide:
            guides.append((str(path.relative_to(ROOT)), guide))
    guides += [(str(path.relative_to(ROOT)), path.read_text()) for path in ROOT.glob("docs/*.md")]
    return guides


def test_a_table_renders_as_a_table_that_scrolls_in_its_own_box() -> None:
    rendered = markdown("| for | scopes |\n|---|---|\n| stock | `write_inventory` |\n")
    assert '<div class="table-wrap" tabindex="0"><table>' in rendered
    assert "<th>for</th>" in rendered
    assert "<td><code>write_inventory</code></td>" in rendered
    assert "|" not in rendered


def test_a_numbered_step_wrapped_over_lines_stays_in_one_list() -> None:
    source = (
        "1. In EasyPost, open **API Keys** and copy a key: a *test* key to try\n"
        "   everything without buying postage.\n"
        "2. Add the plugin with that key.\n"
        "3. On an order, prepare a package\n"
        "   and buy a label.\n"
        "\n"
        "4. After a blank line the list goes on.\n"
    )
    rendered = markdown(source)
    assert rendered.count("<ol>") == 1
    assert rendered.count("<li>") == 4
    assert "<strong>API Keys</strong>" in rendered
    assert "<em>test</em>" in rendered
    assert "*" not in rendered


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert('x')</script>",
        "Text <img src=x onerror=alert(1)> more",
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_html_written_in_a_guide_is_shown_as_text_never_run(source: str) -> None:
    rendered = markdown(source)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert 'href="javascript:' not in rendered
    assert 'src="data:' not in rendered


def test_headings_sit_below_the_page_title_and_links_open_apart() -> None:
    rendered = markdown("# Shopify\n\n## Scopes\n\nSee [the docs](https://example.com/docs).")
    assert "<h2>Shopify</h2>" in rendered
    assert "<h3>Scopes</h3>" in rendered
    assert (
        '<a href="https://example.com/docs" rel="noopener noreferrer" target="_blank">' in rendered
    )


GUIDES = _shipped_guides()


@pytest.mark.parametrize(("name", "source"), GUIDES, ids=[name for name, _ in GUIDES])
def test_every_shipped_guide_renders_as_written(name: str, source: str) -> None:
    rendered = str(markdown(source))
    prose = re.sub(r"<(code|pre)>.*?</\1>", "", rendered, flags=re.DOTALL)
    assert "**" not in prose, name
    assert not re.search(r"^\s*\|", prose, flags=re.MULTILINE), name  # a table left as pipes
    if re.search(r"^\|.*\|\s*$", source, flags=re.MULTILINE):
        assert "<table>" in rendered, name
