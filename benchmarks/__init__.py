"""Benchmarks printed by ``make bench`` as one JSON object per line (DESIGN §6)."""
