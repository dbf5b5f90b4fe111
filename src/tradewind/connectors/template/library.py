"""Every installed template version as a connector class: the shipped ones, the
merchant's directory and the uploaded ones (every version kept, so that a plugin stays
on the version it was made with). The catalogue offers the newest of each id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tradewind.connectors.template.connector import TemplateConnector, connector_class
from tradewind.connectors.template.loader import TemplateInvalid, load_template
from tradewind.connectors.template.sources import Found


def semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass
class TemplateLibrary:
    classes: dict[tuple[str, str], type[TemplateConnector]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # id → shipped, a path, uploaded
    broken: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, files: Found, uploaded: Iterable[tuple[str, str, str]] = ()) -> TemplateLibrary:
        """From the templates in files and the uploaded (id, version, source) rows."""
        library = cls(origins=dict(files.origins), broken=dict(files.broken))
        in_files = {template.id: template.version for template in files.templates}
        for template in files.templates:
            library.classes[(template.id, template.version)] = connector_class(template)
        for template_id, version, source in uploaded:
            where = f"{template_id} {version} (uploaded)"
            owner = library.origins.get(template_id, "uploaded")
            if owner != "uploaded" and semver(version) >= semver(in_files[template_id]):
                if (template_id, version) not in library.classes:
                    library.broken[where] = f"the template id {template_id!r} is taken by {owner}"
                continue  # or a copy kept of the file's version: the file serves it
            # An upload, or an older version of a file's template kept for the plugins
            # pinned to it (the file has moved on since).
            try:
                template = load_template(source)
            except TemplateInvalid as exc:  # stored by an older Tradewind, say
                library.broken[where] = str(exc)
                continue
            library.origins.setdefault(template_id, "uploaded")
            library.classes[(template.id, template.version)] = connector_class(template)
        return library

    def latest(self) -> list[type[TemplateConnector]]:
        """The newest version of each id."""
        newest: dict[str, type[TemplateConnector]] = {}
        for (template_id, version), connector in self.classes.items():
            held = newest.get(template_id)
            if held is None or semver(version) > semver(held.template.version):
                newest[template_id] = connector
        return [newest[key] for key in sorted(newest)]

    def version(self, template_id: str, version: str) -> type[TemplateConnector] | None:
        return self.classes.get((template_id, version))

    def versions(self, template_id: str) -> list[str]:
        return sorted((version for key, version in self.classes if key == template_id), key=semver)
