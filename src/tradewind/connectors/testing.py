"""``connector_suite``: the conformance tests every connector must pass.

A connector's test module runs it against its platform (a sandbox, a fake, a real server):

    TestShopify = connector_suite(ShopifyConnector, shopify_platform)

where ``shopify_platform`` is a context manager yielding a ``SuitePlatform``. The suite
checks the description (toggles, reasons, capabilities, secrets), then talks to the
platform: test connection, wrong credentials, paging to the end, reading one order and a
missing one, pushing stock, webhook signatures, and — through a fault-injecting transport
wrapped around the real one — that 429, 5xx, 401 and timeouts come out as the four typed
errors.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from pydantic import BaseModel, SecretStr

from tradewind.connectors.base import (
    CAPABILITY_PROTOCOLS,
    Capability,
    ConnectorClass,
    ConnectorContext,
)
from tradewind.connectors.capabilities import TOGGLE_CAPABILITIES
from tradewind.connectors.errors import AuthFailed, RateLimited, Unavailable
from tradewind.connectors.http import Call
from tradewind.connectors.outbound import OutboundPolicy
from tradewind.connectors.paging import LoopGuard
from tradewind.connectors.ratelimit import BucketPolicy, LocalBudget, Priority, RateBudget
from tradewind.connectors.records import (
    CustomerQuery,
    CustomerRecord,
    OrderExport,
    OrderQuery,
    OrderRecord,
    ProductExport,
    StockPush,
)
from tradewind.vocabulary import OrderStatus, StockMode, Toggle


@dataclass(frozen=True)
class SuitePlatform:
    """What the suite needs to know about a running platform."""

    settings: Mapping[str, Any]  # valid settings for a plugin of this connector
    wrong_credentials: Mapping[str, Any]  # the same with credentials the platform refuses
    order_query: OrderQuery  # a window holding at least ``min_orders`` orders
    min_orders: int = 1
    known_order_id: str | None = None
    stock_push: StockPush | None = None  # a level the platform accepts
    webhook: Callable[[], tuple[str, dict[str, str], bytes]] | None = None  # topic, headers, body
    customer: CustomerRecord | None = None  # one the platform may be given (Export Customers)
    product: ProductExport | None = None  # a product it may be given (Export Products)
    order: OrderExport | None = None  # an order it may be given (Export Orders)
    transport: Callable[[], httpx2.BaseTransport] = field(default=lambda: httpx2.HTTPTransport())


class FaultTransport(httpx2.BaseTransport):
    """Wraps a real transport; answers the next request(s) with an injected failure."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner
        self._next: list[Callable[[httpx2.Request], httpx2.Response]] = []
        self._lock = threading.Lock()

    def fail_next(self, make: Callable[[httpx2.Request], httpx2.Response]) -> None:
        with self._lock:
            self._next.append(make)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            make = self._next.pop(0) if self._next else None
        if make is not None:
            return make(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class MemoryCredentials:
    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})
        self._lock = threading.RLock()

    def get(self) -> Mapping[str, str]:
        return dict(self.values)

    def update(self, changes: Mapping[str, str | None]) -> None:
        for key, value in changes.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield


class CallList:
    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(self, call: Call) -> None:
        self.calls.append(call)


def suite_context(
    transport: httpx2.BaseTransport, *, recorder: CallList | None = None
) -> ConnectorContext:
    budgets: dict[str, RateBudget] = {}

    def budget(policy: BucketPolicy) -> RateBudget:
        return budgets.setdefault(policy.name, LocalBudget(policy))

    return ConnectorContext(
        plugin_id=1,
        plugin_name="conformance",
        webhook_url="http://127.0.0.1:9/hooks/1",
        credentials=MemoryCredentials(),
        budget=budget,
        recorder=recorder or CallList(),
        transport=transport,
        allow_sandbox_hosts=True,
        outbound=OutboundPolicy(allow_loopback=True),  # suite platforms run on loopback
    )


def connector_suite(
    connector: ConnectorClass, platform: Callable[[], AbstractContextManager[SuitePlatform]]
) -> type:
    """A pytest test class that checks ``connector`` against ``platform``."""
    import pytest

    info = connector.info

    class ConnectorSuite:
        @pytest.fixture(scope="class")
        @classmethod
        def live(cls) -> Iterator[SuitePlatform]:
            with platform() as running:
                yield running

        def build(self, live: SuitePlatform, *, wrong: bool = False) -> tuple[Any, FaultTransport]:
            transport = FaultTransport(live.transport())
            settings = info.settings.model_validate(
                dict(live.wrong_credentials if wrong else live.settings)
            )
            return connector(settings, suite_context(transport)), transport

        # ---------------------------------------------------------------- description

        def test_info_describes_the_connector(self) -> None:
            assert info.key and info.key == info.key.lower()
            assert info.name
            assert issubclass(info.settings, BaseModel)
            assert info.guide.strip(), "a connector ships its Integration Guide"

        def test_every_unsupported_toggle_says_why(self) -> None:
            for toggle in Toggle:
                if toggle not in info.toggles:
                    assert info.unsupported.get(toggle, "").strip(), f"no reason for {toggle}"
                else:
                    assert toggle not in info.unsupported

        def test_toggles_have_the_capabilities_they_need(self) -> None:
            for toggle, capabilities in TOGGLE_CAPABILITIES.items():
                if toggle in info.toggles:
                    assert capabilities <= info.capabilities, f"{toggle} needs {capabilities}"

        def test_stock_modes_are_coherent(self) -> None:
            assert StockMode.OFF in info.stock_modes, "stock export can always be switched off"
            if Capability.PUSH_STOCK in info.capabilities:
                assert info.stock_modes - {StockMode.OFF}, "a stock pusher names a mode it takes"

        def test_declared_capabilities_are_implemented(self, live: SuitePlatform) -> None:
            instance, _ = self.build(live)
            try:
                for capability in info.capabilities:
                    assert isinstance(instance, CAPABILITY_PROTOCOLS[capability]), capability
            finally:
                instance.close()

        def test_secrets_never_show_in_settings_repr(self, live: SuitePlatform) -> None:
            settings = info.settings.model_validate(dict(live.settings))
            for name, value in settings:
                if isinstance(value, SecretStr):
                    assert value.get_secret_value() not in repr(settings), name

        # ---------------------------------------------------------------- talking

        def test_test_connection_reads_the_account(self, live: SuitePlatform) -> None:
            if Capability.TEST_CONNECTION not in info.capabilities:
                pytest.skip("no test connection")
            instance, _ = self.build(live)
            try:
                report = instance.test_connection(info.toggles, frozenset())
                assert report.ok and report.account
            finally:
                instance.close()

        def test_wrong_credentials_are_auth_failed(self, live: SuitePlatform) -> None:
            if Capability.TEST_CONNECTION not in info.capabilities:
                pytest.skip("no test connection")
            instance, _ = self.build(live, wrong=True)
            try:
                with pytest.raises(AuthFailed):
                    instance.test_connection(info.toggles, frozenset())
            finally:
                instance.close()

        def test_orders_page_to_the_end(self, live: SuitePlatform) -> None:
            if Capability.IMPORT_ORDERS not in info.capabilities:
                pytest.skip("does not import orders")
            instance, _ = self.build(live)
            guard = LoopGuard()
            seen: list[OrderRecord] = []
            cursor: str | None = None
            try:
                for _ in range(10_000):
                    page = instance.list_orders(live.order_query, cursor, Priority.BACKGROUND)
                    seen += page.records
                    cursor = guard.check(page.next_cursor)
                    if cursor is None:
                        break
            finally:
                instance.close()
            ids = [record.external_id for record in seen]
            assert len(ids) == len(set(ids)), "an order appeared on two pages"
            assert len(ids) >= live.min_orders

        def test_reads_one_order_and_a_missing_one(self, live: SuitePlatform) -> None:
            if live.known_order_id is None:
                pytest.skip("no known order")
            instance, _ = self.build(live)
            try:
                found = instance.get_order(live.known_order_id)
                assert found is not None and found.external_id == live.known_order_id
                assert instance.get_order("999999999999") is None
            finally:
                instance.close()

        def test_push_stock_answers_each_level(self, live: SuitePlatform) -> None:
            if live.stock_push is None or Capability.PUSH_STOCK not in info.capabilities:
                pytest.skip("no stock push")
            instance, _ = self.build(live)
            try:
                assert instance.stock_batch_size >= 1
                mode = (
                    StockMode.ABSOLUTE
                    if StockMode.ABSOLUTE in info.stock_modes
                    else StockMode.DELTA
                )
                results = instance.push_stock([live.stock_push], mode)
                assert [(r.product_id, r.location_ref, r.ok) for r in results] == [
                    (live.stock_push.product_id, live.stock_push.location_ref, True)
                ]
            finally:
                instance.close()

        def test_webhook_signature_is_checked(self, live: SuitePlatform) -> None:
            if live.webhook is None or Capability.RECEIVE_WEBHOOKS not in info.capabilities:
                pytest.skip("no webhooks")
            instance, _ = self.build(live)
            try:
                topic, headers, body = live.webhook()
                assert instance.verify_webhook(headers, body)
                assert not instance.verify_webhook(headers, body + b" ")
                event = instance.parse_webhook(topic, headers, body)
                assert event.delivery_id
            finally:
                instance.close()

        def test_a_customer_exported_twice_is_one_customer(self, live: SuitePlatform) -> None:
            if live.customer is None or Capability.EXPORT_CUSTOMERS not in info.capabilities:
                pytest.skip("no customer export")
            instance, _ = self.build(live)
            try:
                first = instance.export_customer(live.customer)
                # Sent again without the id, as after a lost answer: found by email.
                again = instance.export_customer(live.customer)
                assert first.external_id and again.external_id == first.external_id
                if Capability.IMPORT_CUSTOMERS in info.capabilities:
                    guard, cursor, emails = LoopGuard(), None, []
                    for _ in range(10_000):
                        page = instance.list_customers(CustomerQuery(), cursor, Priority.LIVE)
                        emails += [c.email.casefold() for c in page.records]
                        cursor = guard.check(page.next_cursor)
                        if cursor is None:
                            break
                    assert emails.count(live.customer.email.casefold()) == 1
            finally:
                instance.close()

        def test_a_product_exported_twice_is_one_product(self, live: SuitePlatform) -> None:
            if live.product is None or Capability.EXPORT_PRODUCTS not in info.capabilities:
                pytest.skip("no product export")
            instance, _ = self.build(live)
            try:
                first = instance.export_product(live.product)
                again = instance.export_product(live.product)  # unlinked: found by SKU
                assert [v.sku for v in first.variants] == [live.product.sku]
                assert again.external_id == first.external_id
                assert again.variants[0].external_id == first.variants[0].external_id
                if Capability.IMPORT_LISTINGS in info.capabilities:
                    guard, cursor, found = LoopGuard(), None, []
                    for _ in range(10_000):
                        page = instance.list_listings(cursor, Priority.LIVE)
                        found += [p for p in page.records if p.external_id == first.external_id]
                        cursor = guard.check(page.next_cursor)
                        if cursor is None:
                            break
                    assert [p.title for p in found] == [live.product.title]
            finally:
                instance.close()

        def test_an_exported_order_is_found_by_its_origin(self, live: SuitePlatform) -> None:
            if live.order is None or Capability.EXPORT_ORDERS not in info.capabilities:
                pytest.skip("no order export")
            instance, _ = self.build(live)
            try:
                since = live.order.placed_at - dt.timedelta(minutes=5)
                assert instance.find_exported_order(live.order.origin_ref, since) is None
                created = instance.export_order(live.order)
                assert created.origin_ref == live.order.origin_ref
                assert len(created.lines) == len(live.order.lines)
                found = instance.find_exported_order(live.order.origin_ref, since)
                assert found is not None and found.external_id == created.external_id
            finally:
                instance.close()

        def test_an_exported_order_can_be_cancelled_twice(self, live: SuitePlatform) -> None:
            wanted = {Capability.CANCEL_ORDERS, Capability.EXPORT_ORDERS}
            if live.order is None or not wanted <= info.capabilities:
                pytest.skip("no order export and cancellation")
            instance, _ = self.build(live)
            try:
                order = live.order.model_copy(
                    update={"origin_ref": f"{live.order.origin_ref}-cancel"}
                )
                created = instance.export_order(order)
                instance.cancel_order(created.external_id, "customer changed their mind")
                instance.cancel_order(created.external_id, "sent twice")  # not an error
                if Capability.IMPORT_ORDERS in info.capabilities:
                    again = instance.get_order(created.external_id)
                    assert again is not None and again.status is OrderStatus.CANCELLED
            finally:
                instance.close()

        @pytest.mark.parametrize(
            ("status", "error"),
            [(429, RateLimited), (503, Unavailable), (500, Unavailable), (401, AuthFailed)],
        )
        def test_http_failures_become_typed_errors(
            self, live: SuitePlatform, status: int, error: type[Exception]
        ) -> None:
            if Capability.TEST_CONNECTION not in info.capabilities:
                pytest.skip("no test connection")
            instance, transport = self.build(live)
            transport.fail_next(
                lambda request: httpx2.Response(
                    status, headers={"Retry-After": "3"}, json={"errors": "injected"}
                )
            )
            try:
                with pytest.raises(error) as caught:
                    instance.test_connection(info.toggles, frozenset())
                if isinstance(caught.value, RateLimited):
                    assert caught.value.retry_after == 3
                    # The budget honours Retry-After: the next call is held back, unsent.
                    with pytest.raises(RateLimited):
                        instance.test_connection(info.toggles, frozenset())
                    instance.close()
                    instance, transport = self.build(live)
                assert instance.test_connection(info.toggles, frozenset()).ok  # and it recovers
            finally:
                instance.close()

        def test_timeouts_are_unavailable(self, live: SuitePlatform) -> None:
            if Capability.TEST_CONNECTION not in info.capabilities:
                pytest.skip("no test connection")
            instance, transport = self.build(live)

            def timeout(request: httpx2.Request) -> httpx2.Response:
                raise httpx2.ReadTimeout("injected", request=request)

            transport.fail_next(timeout)
            try:
                with pytest.raises(Unavailable):
                    instance.test_connection(info.toggles, frozenset())
            finally:
                instance.close()

    # A class has a __name__; the protocol cannot promise one (mypy matches none there).
    named = str(getattr(connector, "__name__", info.name))
    ConnectorSuite.__name__ = f"ConformanceOf{named}"
    return ConnectorSuite
