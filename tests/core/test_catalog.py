"""Catalog: unique SKUs, lookups, CSV import with per-row errors."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from tests import factories
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.db import Database
from tradewind.errors import Conflict, Invalid, NotFound


def test_sku_is_unique_without_regard_to_case_or_space(db: Database) -> None:
    with db.unit_of_work() as session:
        factories.product(session, "MUG-1")
    with pytest.raises(Conflict, match="already exists"), db.unit_of_work() as session:
        catalog.create_product(session, ProductIn(sku=" mug-1 ", title="Another mug"))
    with db.read() as session:
        found = catalog.find_by_sku(session, "Mug-1")
        assert found is not None and found.sku == "MUG-1"


def test_match_product_tries_codes_in_order_and_ignores_shared_barcodes(db: Database) -> None:
    with db.unit_of_work() as session:
        a = factories.product(session, "A", barcode="111")
        b = factories.product(session, "B", barcode="222")
        factories.product(session, "C", barcode="222")  # shares B's barcode
    with db.read() as session:
        assert catalog.match_product(session, sku="a", barcode="222").id == a.id  # type: ignore[union-attr]
        assert catalog.match_product(session, sku="zzz", barcode="111").id == a.id  # type: ignore[union-attr]
        assert catalog.match_product(session, sku="zzz", barcode="222") is None
        by_codes = catalog.match_product(session, sku="B", barcode="111", codes=("barcode", "sku"))
        assert by_codes is not None
        assert by_codes.id == a.id
        assert catalog.match_product(session, sku="B", codes=("barcode",)) is None
        assert b.id != a.id


def test_update_refuses_a_sku_taken_by_another_product(db: Database) -> None:
    with db.unit_of_work() as session:
        first = factories.product(session, "A")
        factories.product(session, "B")
    with pytest.raises(Conflict), db.unit_of_work() as session:
        catalog.update_product(session, first.id, {"sku": "b"})
    with db.unit_of_work() as session:
        updated = catalog.update_product(session, first.id, {"title": "Renamed", "price": "3.5"})
        assert updated.price == Decimal("3.5000")
    with pytest.raises(NotFound), db.read() as session:
        catalog.get_product(session, 999)


CSV = """sku,title,price,barcode,attr.colour
A-1,Blue mug,12.50,4006381333931,blue
A-2,Red mug,-3,,red
A-3,"Mug, green",abc,,
,No SKU,1,,
A-1,Duplicate of line 2,1,,
A-4,Plate,7,,
A-5,Bowl,7,,,extra
"""


def test_csv_import_reports_each_bad_row_with_its_line_and_keeps_the_good(db: Database) -> None:
    with db.unit_of_work() as session:
        report = catalog.import_csv(session, io.StringIO(CSV))
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    errors = {error.line: error.message for error in report.errors}
    assert set(errors) == {3, 4, 5, 6, 8}
    assert "price" in errors[3] and "greater than or equal to 0" in errors[3]
    assert "not a number" in errors[4]
    assert "sku" in errors[5]
    assert "already appears on line 2" in errors[6]
    assert "expected 5 columns, found 6" in errors[8]
    with db.read() as session:
        mug = catalog.find_by_sku(session, "A-1")
        assert mug is not None
        assert mug.attributes == {"colour": "blue"}
        assert mug.barcode == "4006381333931"
        assert catalog.find_by_sku(session, "A-4") is not None


def test_csv_import_updates_existing_products_and_counts_unchanged(db: Database) -> None:
    with db.unit_of_work() as session:
        catalog.import_csv(session, io.StringIO("sku;title;price\nA;Mug;1\nB;Plate;2\n"))
    with db.unit_of_work() as session:
        report = catalog.import_csv(session, io.StringIO("sku;title;price\nA;Mug;1\nB;Plate;3\n"))
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 1, 1, [])


@pytest.mark.parametrize(
    "text",
    [
        'sku,title,price\nA,"Alpha,1\nB,"Beta",2\nC,Gamma,3\n',  # would swallow line 3
        'sku,title,price\r\nA,"Alpha,1\r\nB,Beta,2\r\nC,Gamma,3\r\n',  # to the end
    ],
    ids=["into-the-next-quote", "to-the-end"],
)
def test_an_unclosed_quote_is_reported_on_its_line_and_loses_no_other_line(
    db: Database, text: str
) -> None:
    """#10 item 9: the quote left open on line 2 ran on into the lines after it."""
    with db.unit_of_work() as session:
        report = catalog.import_csv(session, io.StringIO(text, newline=""))
    assert [(error.line, error.message.split(" (")[0]) for error in report.errors] == [
        (2, "a quote opened on this line is not closed on it")
    ]
    with db.read() as session:
        assert [p.sku for p in catalog.list_products(session)] == ["B", "C"]
        assert [p.title for p in catalog.list_products(session)] == ["Beta", "Gamma"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("sku,name\nA,B\n", "unknown column(s) name"),
        ("title,price\nA,1\n", "missing required column(s): sku"),
        ("sku,title,sku\nA,B,C\n", "column(s) given twice: sku"),
    ],
)
def test_csv_header_problems_are_reported_on_line_1(db: Database, text: str, message: str) -> None:
    with db.unit_of_work() as session:
        report = catalog.import_csv(session, io.StringIO(text))
    assert [(e.line, e.message.split(";")[0]) for e in report.errors] == [(1, message)]


def test_an_update_the_product_rules_refuse_is_a_clear_refusal(db: Database) -> None:
    """Any face's bad change (a null price, attributes too deep) is ``Invalid`` naming the
    field, never a validation crash (#10 items 8, 9)."""
    with db.unit_of_work() as session:
        mug = catalog.create_product(session, ProductIn(sku="MUG", title="Mug"))
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(20):
        deep = {"a": deep}
    for changes, field in (({"price": None}, "price"), ({"attributes": deep}, "attributes")):
        with pytest.raises(Invalid) as refused, db.unit_of_work() as session:
            catalog.update_product(session, mug.id, changes)
        assert field in refused.value.fields
