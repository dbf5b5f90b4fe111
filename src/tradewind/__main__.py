"""``python -m tradewind`` is the ``tradewind`` command."""

from tradewind.cli import main

main()
