"""The shape every benchmark reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``floor`` is the physical or contractual limit where one
    exists; ``target`` is what an issue asks for."""

    bench: str
    metric: str
    value: float
    unit: str
    floor: float | None = None
    target: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["note"]:
            del data["note"]
        return data
