"""A list page shows ``PAGE_SIZE`` rows and links to the next only when more follow."""

from __future__ import annotations

import pytest

from tradewind.web.views.common import PAGE_SIZE, Page, page_of


@pytest.mark.parametrize(
    ("fetched", "expected"),
    [
        (0, Page([], None)),
        (PAGE_SIZE, Page(list(range(PAGE_SIZE)), None)),
        (PAGE_SIZE + 1, Page(list(range(PAGE_SIZE)), f"/next?after={PAGE_SIZE - 1}")),
    ],
)
def test_a_page_links_on_from_its_last_row_only_when_more_follow(
    fetched: int, expected: Page[int]
) -> None:
    assert page_of(list(range(fetched)), lambda last: f"/next?after={last}") == expected
