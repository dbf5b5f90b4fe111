"""Run every ``benchmarks/bench_*.py`` (or those named on the command line) and print one
JSON line per figure: ``{"bench", "metric", "value", "unit", "floor", "target"}``.

Each module exposes ``run() -> Iterable[Figure]``.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import sys
import time
from pathlib import Path

import structlog


def main(argv: list[str]) -> int:
    # Stdout is the figures: the engine's own log lines (debug and info by default when
    # nothing configures structlog) stay out of it.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    here = Path(__file__).parent
    names = sorted(
        module.name
        for module in pkgutil.iter_modules([str(here)])
        if module.name.startswith("bench_")
    )
    wanted = [name for name in names if not argv or any(arg in name for arg in argv)]
    failed = 0
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        try:
            for figure in module.run():
                print(json.dumps(figure.as_dict()), flush=True)
        except Exception as exc:  # report and go on: one broken bench must not hide the rest
            failed += 1
            print(json.dumps({"bench": name, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        print(f"# {name} took {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
