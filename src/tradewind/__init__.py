"""Tradewind: a self-hosted multichannel commerce integration hub."""

__version__ = "0.1.0"
