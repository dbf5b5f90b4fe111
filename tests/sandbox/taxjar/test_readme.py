"""The README's rate table is the table the sandbox computes with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradewind.sandbox.taxjar import rates

README = (Path(rates.__file__).parent / "README.md").read_text()


def pct(value: Decimal) -> str:
    return format((value * 100).normalize(), "f") + " %"


@pytest.mark.parametrize("zip_code", sorted(rates.ZIP_AREAS))
def test_every_zip_area_documented(zip_code: str) -> None:
    area = rates.ZIP_AREAS[zip_code]
    state = rates.state_of_zip(zip_code)
    row = (
        f"| {zip_code} | {state} | {area.county} | {area.city} | {pct(area.county_rate)} "
        f"| {pct(area.city_rate)} | {pct(area.special_rate)} |"
    )
    assert row in README


@pytest.mark.parametrize("code", sorted(rates.US_STATES))
def test_every_state_documented(code: str) -> None:
    rule = rates.US_STATES[code]
    freight = "yes" if rule.freight_taxable else "no"
    origin = "yes" if rule.origin_sourced else ""
    assert f"| {code} | {pct(rule.rate)} | {freight} | {origin} |" in README


@pytest.mark.parametrize("code", sorted(rates.CA_PROVINCES))
def test_every_province_documented(code: str) -> None:
    p = rates.CA_PROVINCES[code]
    letters = ", ".join(sorted(p.postal_letters))
    assert f"| {code} | {pct(p.gst)} | {pct(p.pst)} | {pct(p.qst)} | {letters} |" in README
