"""What every resource's operations share: the answers Shopify gives instead of a
resource, the webhook-worthy events they record, and the ``Resource`` base that reaches
the shop through the ``ShopOps`` facade composing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradewind.sandbox.shopify.state import Doc, SandboxState, ShopData

if TYPE_CHECKING:
    from tradewind.sandbox.shopify.service import ShopOps


class ShopifyError(Exception):
    """An answer Shopify gives instead of a resource: ``errors`` is its JSON body value."""

    def __init__(self, status: int, errors: object) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def first_message(error: ShopifyError) -> str:
    """The first message of the error's body, as a GraphQL ``userErrors`` message."""
    errors = error.errors
    if isinstance(errors, dict):
        for messages in errors.values():
            return str(messages[0] if isinstance(messages, list) else messages)
    return str(errors)


def not_found() -> ShopifyError:
    return ShopifyError(404, "Not Found")


def unprocessable(field_name: str, message: str) -> ShopifyError:
    return ShopifyError(422, {field_name: [message]})


@dataclass(frozen=True)
class Event:
    """One webhook-worthy change: the topic and the payload Shopify would send."""

    shop: str
    topic: str
    payload: Doc
    actor: str | None = None  # api_key of the app whose call caused it


def public(doc: Doc) -> Doc:
    """Drop the sandbox's own bookkeeping keys (``_…``) before a document leaves."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class Resource:
    """The operations on one kind of resource. The shop, the clock and the recorded
    events are the facade's; other resources are reached as ``self.ops.<resource>``."""

    def __init__(self, ops: ShopOps) -> None:
        self.ops = ops

    @property
    def state(self) -> SandboxState:
        return self.ops.state

    @property
    def shop(self) -> ShopData:
        return self.ops.shop

    @property
    def currency(self) -> str:
        return self.ops.currency

    def now(self) -> str:
        return self.ops.now()

    def emit(self, topic: str, payload: Doc) -> None:
        self.ops.emit(topic, payload)

    def _get(self, table: Any, ident: int) -> Doc:
        doc = table.get(ident)
        if doc is None:
            raise not_found()
        return doc  # type: ignore[no-any-return]
