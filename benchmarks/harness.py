"""The shape every benchmark reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``floor`` is the physical or contractual limit where one
    exists, or the same work done by the least program that can do it, measured in the
    same run; ``target`` is what an issue asks for."""

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


@dataclass(frozen=True)
class Unmeasured:
    """A figure that could not be measured in this run, and why: printed in its place, so
    that a loaded run never silently loses a figure."""

    bench: str
    metric: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Reported = Figure | Unmeasured


def measured(
    bench: str, metrics: Sequence[str], produce: Callable[[], Iterable[Figure]]
) -> Iterator[Reported]:
    """The figures ``produce`` yields; when it fails, an ``Unmeasured`` line for each of
    ``metrics`` it had not yielded yet, with the reason, and the next bench runs."""
    seen: set[str] = set()
    try:
        for figure in produce():
            seen.add(figure.metric)
            yield figure
    except Exception as exc:  # reported in the figure's place
        reason = f"{type(exc).__name__}: {exc}"
        for metric in metrics:
            if metric not in seen:
                yield Unmeasured(bench, metric, reason)
