"""The control API's HTTP endpoints (``/_sandbox/…``, documented at ``/_sandbox/docs``):
each one a request model of ``control.py`` handed to ``Control``, Shopify's error answers
turned into HTTP errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException

from tradewind.sandbox.shopify import compliance
from tradewind.sandbox.shopify.control import (
    AppSpec,
    ComplianceSpec,
    Control,
    CustomerSpec,
    FaultSpec,
    HoldSpec,
    LocationSpec,
    OrderSpec,
    PaymentSpec,
    ProductSpec,
    ShopPatch,
    ShopSpec,
    StockSpec,
    TokenSpec,
    UninstallSpec,
)
from tradewind.sandbox.shopify.core import Sandbox
from tradewind.sandbox.shopify.generator import GeneratorSpec, OrderGenerator
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc


def create_control_app(sandbox: Sandbox) -> FastAPI:
    control = Control(sandbox)
    generators: dict[str, OrderGenerator] = {}
    api = FastAPI(
        title="Tradewind Shopify sandbox control API",
        description="Set shops up, act as a customer or a merchant, inject faults. "
        "Shopify's own Admin API is served at /admin/api/{version}/… beside it.",
        version="1",
    )

    def guard(call: Any) -> Any:
        try:
            return call()
        except ShopifyError as error:
            raise HTTPException(error.status, detail=error.errors) from error

    @api.get("/shops", summary="List shops")
    def list_shops() -> list[str]:
        return list(sandbox.state.shops)

    @api.post("/shops", status_code=201, summary="Create a shop (and an app and a token)")
    def create_shop(spec: ShopSpec) -> Doc:
        return guard(lambda: control.create_shop(spec))  # type: ignore[no-any-return]

    @api.get("/shops/{shop}", summary="Read a shop's whole state")
    def shop_state(shop: str) -> Doc:
        return guard(lambda: control.shop_state(shop))  # type: ignore[no-any-return]

    @api.patch("/shops/{shop}", summary="Change plan or data-protection switches")
    def patch_shop(shop: str, patch: ShopPatch) -> Doc:
        return guard(lambda: control.patch_shop(shop, patch))  # type: ignore[no-any-return]

    @api.post("/apps", status_code=201, summary="Register an app (OAuth client)")
    def create_app(spec: AppSpec) -> Doc:
        app = sandbox.create_app(spec.api_key, spec.api_secret, spec.title, spec.auto_approve)
        return {"api_key": app.api_key, "title": app.title, "auto_approve": app.auto_approve}

    @api.post("/shops/{shop}/tokens", status_code=201, summary="Issue an Admin API token")
    def issue_token(shop: str, spec: TokenSpec) -> Doc:
        return guard(lambda: control.issue_token(shop, spec))  # type: ignore[no-any-return]

    @api.delete("/tokens/{token}", summary="Revoke a token (fault: revoked token)")
    def revoke_token(token: str) -> Doc:
        if not sandbox.revoke_token(token):
            raise HTTPException(404, detail="No such token")
        return {"revoked": True}

    @api.post("/shops/{shop}/uninstall", summary="Uninstall an app: app/uninstalled fires")
    def uninstall(shop: str, spec: UninstallSpec) -> Doc:
        guard(lambda: sandbox.uninstall(shop, spec.app_key))
        return {"uninstalled": spec.app_key}

    @api.put("/apps/{app_key}/compliance", summary="Set an app's compliance webhook URLs")
    def set_compliance(app_key: str, spec: ComplianceSpec) -> Doc:
        app = guard(lambda: sandbox.set_compliance_urls(app_key, spec.urls()))
        return {"api_key": app.api_key, "compliance_urls": app.compliance_urls}

    @api.post(
        "/shops/{shop}/customers/{customer_id}/data_request",
        summary="A customer asks for their data: customers/data_request goes to each app",
    )
    def data_request(shop: str, customer_id: int) -> Doc:
        return guard(lambda: sandbox.request_customer_data(shop, customer_id))  # type: ignore[no-any-return]

    @api.post(
        "/shops/{shop}/customers/{customer_id}/redact",
        summary="Erase a customer: customers/redact goes to each app",
    )
    def redact_customer(shop: str, customer_id: int) -> Doc:
        return guard(lambda: sandbox.redact_customer(shop, customer_id))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/redact", summary="shop/redact now (it also follows an uninstall)")
    def redact_shop(shop: str, spec: UninstallSpec) -> Doc:
        return guard(  # type: ignore[no-any-return]
            lambda: sandbox.send_compliance(
                shop, "shop/redact", compliance.shop_redact, [spec.app_key]
            )
        )

    @api.post("/shops/{shop}/locations", status_code=201, summary="Add a location")
    def add_location(shop: str, spec: LocationSpec) -> Doc:
        return guard(lambda: control.add_location(shop, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/products", status_code=201, summary="Add a product with stock")
    def add_product(shop: str, spec: ProductSpec) -> Doc:
        return guard(lambda: control.add_product(shop, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/customers", status_code=201, summary="Add customers at once")
    def add_customers(shop: str, specs: list[CustomerSpec]) -> list[Doc]:
        return guard(lambda: control.add_customers(shop, specs))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/stock", summary="Set available stock of a SKU at a location")
    def set_stock(shop: str, spec: StockSpec) -> Doc:
        return guard(lambda: control.set_stock(shop, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/orders", status_code=201, summary="Place an order as a customer")
    def place_order(shop: str, spec: OrderSpec) -> Doc:
        return guard(lambda: control.place_order(shop, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/orders/{order_id}/payment", summary="Advance payment status")
    def advance_payment(shop: str, order_id: int, spec: PaymentSpec) -> Doc:
        return guard(lambda: control.advance_payment(shop, order_id, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/orders/{order_id}/hold", summary="Hold an order for review")
    def hold_order(shop: str, order_id: int, spec: HoldSpec) -> Doc:
        return guard(lambda: control.hold_order(shop, order_id, spec))  # type: ignore[no-any-return]

    @api.post("/shops/{shop}/orders/{order_id}/release_hold", summary="Release its holds")
    def release_order(shop: str, order_id: int) -> Doc:
        return guard(lambda: control.release_order(shop, order_id))  # type: ignore[no-any-return]

    @api.get("/shops/{shop}/faults", summary="Active faults")
    def list_faults(shop: str) -> list[Doc]:
        return [f.as_dict() for f in sandbox.faults.active(shop)]

    @api.post("/shops/{shop}/faults", status_code=201, summary="Inject a fault")
    def add_fault(shop: str, spec: FaultSpec) -> Doc:
        return guard(lambda: control.add_fault(shop, spec))  # type: ignore[no-any-return]

    @api.delete("/shops/{shop}/faults", summary="Clear all faults")
    def clear_faults(shop: str) -> Doc:
        control.clear_faults(shop)
        return {"cleared": True}

    @api.get("/shops/{shop}/deliveries", summary="Recent webhook deliveries")
    def deliveries(shop: str, limit: int = 200) -> list[Doc]:
        return [item.as_dict() for item in sandbox.webhooks.recent(shop, limit)]

    @api.get("/shops/{shop}/requests", summary="Admin API requests the shop received")
    def requests(shop: str, path_contains: str | None = None) -> list[Doc]:
        guard(lambda: sandbox.shop_or_error(shop))
        return [item.as_dict() for item in sandbox.journal.recent(shop, path_contains)]

    @api.post("/shops/{shop}/generator", summary="Start placing realistic orders")
    def start_generator(shop: str, spec: GeneratorSpec) -> Doc:
        guard(lambda: sandbox.shop_or_error(shop))
        running = generators.pop(shop, None)
        if running is not None:
            running.stop()
        generator = OrderGenerator(control, shop, spec)
        generators[shop] = generator
        generator.start()
        return spec.model_dump()

    @api.delete("/shops/{shop}/generator", summary="Stop the order generator")
    def stop_generator(shop: str) -> Doc:
        running = generators.pop(shop, None)
        if running is not None:
            running.stop()
        return {"placed": running.placed if running else 0}

    return api
