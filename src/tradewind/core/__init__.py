"""The commerce core of record: catalog, inventory, customers, orders, shipments, returns,
channels and plugins. Pure rules and SQLAlchemy models; no HTTP, no connector imports."""
