"""What the page modules share beyond ``web.app`` (rendering) and ``web.session``
(``hub_of`` and the ``reader``/``writer`` dependencies)."""

from __future__ import annotations

PAGE_SIZE = 50  # rows on one page of a list
