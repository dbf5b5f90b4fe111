"""Where templates come from: the ones shipped inside the package
(``integrations/templates/``) and a directory of the merchant's own
(``TRADEWIND_TEMPLATES_DIR``), each maybe with its recorded cases beside it
(``<name>.cases.yaml``, not a template). A template that cannot be read is reported with its
problems, like a connector that fails to load; it never stops the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

from tradewind.connectors.template.format import Template
from tradewind.connectors.template.loader import MAX_BYTES, TemplateInvalid, load_template


@dataclass
class Found:
    templates: list[Template] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # id → "shipped" or a file path
    broken: dict[str, str] = field(default_factory=dict)  # id or file name → why


@cache
def shipped_templates() -> list[Template]:
    """The templates that come with Tradewind (``integrations/templates/``), read once."""
    folder = files("tradewind.integrations").joinpath("templates")
    return [
        load_template(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".yaml") and not is_cases_file(entry.name)
    ]


def find_templates(directory: Path | None) -> Found:
    """The shipped templates, then the merchant's (``*.yaml`` / ``*.yml`` in
    ``directory``). An id seen twice keeps the first and reports the second."""
    found = Found()
    for template in shipped_templates():
        _add(found, template, "shipped")
    if directory is None:
        return found
    if not directory.is_dir():
        found.broken[str(directory)] = "TRADEWIND_TEMPLATES_DIR is not a directory"
        return found
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        if is_cases_file(path.name):
            continue
        if path.stat().st_size > MAX_BYTES:
            found.broken[path.name] = f"larger than {MAX_BYTES // 1024} KiB"
            continue
        try:
            template = load_template(path.read_text(encoding="utf-8"))
        except (TemplateInvalid, UnicodeDecodeError) as exc:
            found.broken[path.name] = str(exc)
            continue
        _add(found, template, str(path))
    return found


CASES_SUFFIX = ".cases.yaml"


def is_cases_file(name: str) -> bool:
    """A template's recorded cases (``cases.py``), which sit next to it: not a template."""
    return name.endswith((CASES_SUFFIX, ".cases.yml"))


def _add(found: Found, template: Template, origin: str) -> None:
    if template.id in found.origins:
        found.broken[f"{template.id} ({origin})"] = (
            f"the template id {template.id!r} is already taken by {found.origins[template.id]}"
        )
        return
    found.templates.append(template)
    found.origins[template.id] = origin
