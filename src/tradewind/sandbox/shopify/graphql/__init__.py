"""The GraphQL Admin API, executed by graphql-core over an SDL subset of Shopify's schema.

Every answer carries ``extensions.cost``: the requested cost is computed from the query
before it runs (objects 1, scalars and enums 0, connections 2 + page size × node cost,
mutations 10), charged to the shop's cost bucket, and the difference to the actual cost
(computed from the real page sizes) is given back. A query over 1000 points, or one
that does not fit the bucket, is refused with HTTP 200 and an error, as Shopify does.
"""

from tradewind.sandbox.shopify.graphql.endpoint import endpoint

__all__ = ["endpoint"]
