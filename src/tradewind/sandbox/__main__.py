"""``python -m tradewind.sandbox shopify --port N``."""

from tradewind.sandbox.cli import app

app(prog_name="tradewind sandbox")
