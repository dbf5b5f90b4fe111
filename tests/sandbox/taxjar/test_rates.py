"""The rate table holds together: ZIP prefix ranges never overlap and name known states,
and the postal-code rule accepts and refuses what it documents."""

from __future__ import annotations

import pytest

from tradewind.sandbox.taxjar import rates


def test_zip_prefix_ranges_are_disjoint_and_known() -> None:
    seen: dict[int, str] = {}
    for low, high, state in rates.ZIP_PREFIXES:
        assert low <= high
        assert state in rates.US_STATES
        for prefix in range(low, high + 1):
            assert prefix not in seen, f"{prefix:03d} in {seen.get(prefix)} and {state}"
            seen[prefix] = state


def test_every_known_zip_area_lies_in_a_known_state() -> None:
    for zip_code in rates.ZIP_AREAS:
        assert rates.state_of_zip(zip_code) in rates.US_STATES


@pytest.mark.parametrize(
    ("country", "zip_code", "state", "problem"),
    [
        ("US", "90002", "CA", None),
        ("US", "90002-1234", "CA", None),
        ("US", "01608", "MA", None),
        ("US", "77058", "TX", None),
        ("US", "10541", "CA", "to_zip 10541 is not used within to_state CA"),
        ("US", "ABCDE", "CA", "to_zip ABCDE isn't a valid postal code for US"),
        ("CA", "M5V 2T6", "ON", None),
        ("CA", "m5v2t6", "ON", None),
        ("CA", "V6G 3E2", "ON", "to_zip V6G 3E2 is not used within to_state ON"),
        ("CA", "12345", "ON", "to_zip 12345 isn't a valid postal code for CA"),
        ("GB", "SW1A 1AA", "", None),
    ],
)
def test_address_rule(country: str, zip_code: str, state: str, problem: str | None) -> None:
    assert rates.address_problem("to", country, zip_code, state) == problem
