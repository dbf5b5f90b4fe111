"""Feedback where the user looks (issue 16, part 4): every htmx form or button has an
answer slot around it (``#<id>-answer`` of itself or of an element it is in), where
base.html's script has the server put its error, next to it instead of atop the page."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.fakeplatform import FakeMarketServer
from tests.web.conftest import Browser
from tests.web.test_pages import add_plugin, channel_id, market

__all__ = ["market"]  # the fixture, used by name

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VERBS = ("hx-post", "hx-put", "hx-patch", "hx-delete", "hx-get")


class _Htmx(HTMLParser):
    """The ids around each element that sends an htmx request, and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []  # the id (or "") of each open element
        self.ids: set[str] = set()
        self.senders: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        own = named.get("id") or ""
        self.ids.add(own)
        sent = [verb for verb in VERBS if verb in named]
        # The polls and the bell refresh what they show; they are no one's form.
        if (sent and "hx-trigger" not in named) or "hx-post" in named:
            self.senders.append((f"<{tag} {sent[0]}={named[sent[0]]}>", [own, *self.open]))
        if tag not in VOID:
            self.open.append(own)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()


def _without_slot(html: str) -> list[str]:
    parsed = _Htmx()
    parsed.feed(html)
    return [
        sender
        for sender, around in parsed.senders
        if not any(name and f"{name}-answer" in parsed.ids for name in around)
    ]


def test_every_htmx_form_has_an_answer_slot_next_to_it(
    admin: Browser, market: FakeMarketServer
) -> None:
    plugin = add_plugin(admin, market, [channel_id(admin, "Shop")])
    admin.htmx(f"/plugins/{plugin}/toggles/import_orders", {"on": "on"})
    page = admin.get(f"/plugins/{plugin}").text
    assert 'id="backfill-form"' in page and 'id="doctor-form"' in page and 'id="toggles"' in page
    assert _without_slot(page) == []
    for path in ("/integrations/custom", "/orders?q=nothing-like-it"):
        assert _without_slot(admin.get(path).text) == [], path
