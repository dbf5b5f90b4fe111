"""The operations of a shop, one module per Shopify resource, composed by
``tradewind.sandbox.shopify.service.ShopOps``."""
