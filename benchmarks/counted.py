"""``python -m benchmarks.counted OUT ARGS…``: the ``tradewind`` command with every SQL
statement its process sends counted, the count written to OUT (JSON, replaced whole) a
few times a second and at exit, so that a benchmark can read statements per item between
two moments without touching the product's code."""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_COUNT = [0]
_LOCK = threading.Lock()


def _count(*_: Any) -> None:
    with _LOCK:
        _COUNT[0] += 1


def _write(path: str) -> None:
    with _LOCK:
        count = _COUNT[0]
    partial = f"{path}.part"
    with open(partial, "w") as out:
        json.dump({"statements": count}, out)
    os.replace(partial, path)


def _keep_writing(path: str) -> None:
    while True:
        _write(path)
        time.sleep(0.2)


def read(path: str) -> int:
    """The last count ``path`` holds (0 before the first write)."""
    try:
        with open(path) as found:
            return int(json.load(found)["statements"])
    except FileNotFoundError:
        return 0


def main(argv: list[str]) -> None:
    path, args = argv[0], argv[1:]
    event.listen(Engine, "before_cursor_execute", _count)
    atexit.register(_write, path)
    threading.Thread(target=_keep_writing, args=(path,), daemon=True).start()
    sys.argv = ["tradewind", *args]
    from tradewind.cli import main as tradewind

    tradewind()


if __name__ == "__main__":
    main(sys.argv[1:])
