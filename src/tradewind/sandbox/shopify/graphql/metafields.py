"""Metafields as GraphQL shows them, and the ``metafield`` / ``metafields`` fields an
owner (a product) resolves; ``products.py`` writes them."""

from __future__ import annotations

import hashlib
from typing import Any

from tradewind.sandbox.shopify.graphql.context import Ctx, connection
from tradewind.sandbox.shopify.state import Doc


def metafield_view(doc: Doc) -> Doc:
    return {
        "__typename": "Metafield",
        "id": f"gid://shopify/Metafield/{doc['id']}",
        "namespace": doc["namespace"],
        "key": doc["key"],
        "value": doc["value"],
        "type": doc["type"],
        "ownerType": doc["owner_type"],
        "compareDigest": hashlib.sha256(doc["value"].encode()).hexdigest(),
        "createdAt": doc["created_at"],
        "updatedAt": doc["updated_at"],
    }


def find(ctx: Ctx, owner: str, namespace: str, key: str) -> Doc | None:
    for doc in ctx.ops.shop.metafields.group(owner):
        if (doc["namespace"], doc["key"]) == (namespace, key):
            return doc
    return None


def owner_fields(ctx: Ctx, owner: str) -> Doc:
    """``metafield(namespace:, key:)`` and ``metafields(namespace:, first:)`` of ``owner``."""

    def one(_info: Any, key: str, namespace: str | None = None) -> Doc | None:
        found = find(ctx, owner, namespace or "$app", key)
        return metafield_view(found) if found else None

    def many(_info: Any, **args: Any) -> Doc:
        docs = sorted(ctx.ops.shop.metafields.group(owner), key=lambda m: m["id"])
        if args.get("namespace"):
            docs = [m for m in docs if m["namespace"] == args["namespace"]]
        return connection(docs, args, metafield_view)

    return {"metafield": one, "metafields": many}
