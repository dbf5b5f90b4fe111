"""Connector discovery through the ``tradewind.connectors`` entry-point group.

Built-in connectors are registered the same way as third-party ones. A connector that
fails to load or describes itself wrongly is reported as broken; it never stops the hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from pydantic import BaseModel

from tradewind.connectors.base import ConnectorClass, ConnectorInfo

GROUP = "tradewind.connectors"


class UnknownConnector(LookupError):
    pass


@dataclass(frozen=True)
class ConnectorRegistry:
    connectors: Mapping[str, ConnectorClass] = field(default_factory=dict)
    broken: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def discover(cls, found: Iterable[EntryPoint] | None = None) -> ConnectorRegistry:
        loaded: dict[str, ConnectorClass] = {}
        broken: dict[str, str] = {}
        for entry in found if found is not None else entry_points(group=GROUP):
            try:
                connector = _validate(entry.name, entry.load())
            except Exception as exc:  # one bad connector must not take the hub down
                broken[entry.name] = f"{type(exc).__name__}: {exc}"
                continue
            if entry.name in loaded:
                broken[entry.name] = f"registered twice ({entry.value})"
                continue
            loaded[entry.name] = connector
        return cls(connectors=loaded, broken=broken)

    @classmethod
    def of(cls, *connectors: ConnectorClass) -> ConnectorRegistry:
        """A registry of the given connector classes (tests, embedding)."""
        return cls(connectors={c.info.key: _validate(c.info.key, c) for c in connectors})

    def including(
        self, connectors: Iterable[ConnectorClass], broken: Mapping[str, str] | None = None
    ) -> ConnectorRegistry:
        """This registry and ``connectors`` (integration templates made connectors). A
        key already taken is reported broken, never replaces the connector that has it."""
        loaded = dict(self.connectors)
        failed = {**self.broken, **(broken or {})}
        for connector in connectors:
            key = connector.info.key
            if key in loaded:
                failed[key] = f"its id {key!r} is taken by the connector already installed"
                continue
            try:
                loaded[key] = _validate(key, connector)
            except (TypeError, ValueError) as exc:
                failed[key] = f"{type(exc).__name__}: {exc}"
        return ConnectorRegistry(connectors=loaded, broken=failed)

    def get(self, key: str) -> ConnectorClass:
        try:
            return self.connectors[key]
        except KeyError:
            known = ", ".join(sorted(self.connectors)) or "none installed"
            reason = f" (it failed to load: {self.broken[key]})" if key in self.broken else ""
            raise UnknownConnector(f"no connector {key!r}{reason}; available: {known}") from None

    def info(self, key: str) -> ConnectorInfo:
        return self.get(key).info

    def infos(self) -> list[ConnectorInfo]:
        return [self.info(key) for key in sorted(self.connectors)]


def _validate(name: str, connector: object) -> ConnectorClass:
    """``connector`` as a connector class, once its description checks out."""
    info = getattr(connector, "info", None)
    if not isinstance(info, ConnectorInfo):
        raise TypeError("the registered object has no ConnectorInfo in `info`")
    if info.key != name:
        raise ValueError(f"its info.key is {info.key!r} but it is registered as {name!r}")
    if not (isinstance(info.settings, type) and issubclass(info.settings, BaseModel)):
        raise TypeError("info.settings must be a pydantic model class")
    # The rest of the contract (the constructor, the capability protocols) is what the
    # conformance suite checks; an entry point cannot be proven a class here.
    return cast(ConnectorClass, connector)
