"""The dry run shows what a hook or pull sends (secrets redacted), what comes back and
what it maps to, and writes nothing in Tradewind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.connectors.template.test_loader import GOOD
from tests.fakeplatform import TOKEN
from tests.sync.conftest import Shop
from tradewind.app import templates
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.core.orders.models import Order
from tradewind.errors import NotFound
from tradewind.monitoring.executions import Execution


def _count(shop: Shop, model: type[Order] | type[Execution]) -> int:
    with shop.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_hook_dry_run_redacts_the_token_and_writes_nothing(store: Shop) -> None:
    store.market.add_order("D1", sku="MUG")
    result = templates.dry_run(store.hub, store.plugin_id, "get_order", {"id": "D1"})
    (exchange,) = result.exchanges
    assert exchange.operation == "get_order.order"
    assert exchange.request["url"] == "/orders/D1"
    assert exchange.request["headers"]["Authorization"] == "Bearer [redacted]"
    assert TOKEN not in json.dumps(result.model_dump(mode="json"))
    assert exchange.status == 200 and exchange.body["order"]["id"] == "D1"
    assert result.output["external_id"] == "D1"
    assert result.output["lines"][0]["sku"] == "MUG"
    assert (_count(store, Order), _count(store, Execution)) == (0, 0)


def test_a_pull_dry_run_shows_the_page_and_its_mapped_records(store: Shop) -> None:
    store.market.page_size = 2
    for number in range(3):
        store.market.add_order(f"P{number}")
    result = templates.dry_run(
        store.hub, store.plugin_id, "orders", {"since": "2020-01-01T00:00:00+00:00"}
    )
    (exchange,) = result.exchanges
    assert exchange.request["query"]["since"] == "2020-01-01T00:00:00+00:00"
    assert [r["external_id"] for r in result.output["records"]] == ["P0", "P1"]
    assert result.output["next_cursor"] == "2"
    assert _count(store, Order) == 0


def test_an_unknown_hook_names_the_ones_there_are(store: Shop) -> None:
    with pytest.raises(NotFound, match="has: get_order, push_stock, orders"):
        templates.dry_run(store.hub, store.plugin_id, "get_rates")


def test_the_cli_lists_shows_validates_and_dry_runs(store: Shop, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), obj=CliState(hub_factory=lambda: store.hub))
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("templates", "list")
    assert code == 0 and "rest_storefront" in out and "REST storefront" in out
    code, out, _ = run("templates", "show", "rest_storefront")
    assert code == 0 and "setting api_token: string (secret)" in out
    assert "hook push_stock: on stock.changed, 1 step(s)" in out
    good = tmp_path / "parcels.yaml"
    good.write_text(GOOD)
    code, out, _ = run("templates", "validate", str(good))
    assert code == 0 and "a valid template (parcels 1.2.0)" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("steps.shipment.body.id", "steps.shipmnt.body.id"))
    code, _, err = run("templates", "validate", str(bad))
    assert code == 1
    assert f"{bad}:24:19: hooks.get_rates.steps[1].request.path: unknown step 'shipmnt'" in err
    code, out, _ = run("templates", "schema")
    assert code == 0 and json.loads(out)["$id"].endswith("template-v1.json")
    store.market.add_order("C1")
    given = tmp_path / "input.json"
    given.write_text('{"id": "C1"}')
    code, out, _ = run("templates", "dry-run", "rest-store", "get_order", "--input", str(given))
    assert code == 0 and json.loads(out)["output"]["number"] == "#C1"
    code, _, err = run("templates", "show", "nope")
    assert code == 2 and "no installed template 'nope'" in err
