"""The schema-driven plugin settings form: a connector's settings JSON Schema as form
fields, and the posted form back as setting values."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from tradewind.app.configure import setting_keys
from tradewind.errors import Invalid


def form_fields(spec_settings: Any) -> list[dict[str, Any]]:
    """Form fields from a connector's settings schema."""
    return [
        {
            "name": key.name,
            "label": key.label,
            "kind": key.kind,
            "enum": list(key.choices) if key.choices else None,
            "required": key.required,
            "default": key.default,
            "description": key.description,
            "pattern": key.pattern,
        }
        for key in setting_keys(spec_settings)
    ]


def settings_from_form(
    form: FormData, fields: list[dict[str, Any]], *, for_update: bool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        raw = form.get(f"setting_{name}")
        text = raw.strip() if isinstance(raw, str) else ""
        if field["kind"] == "boolean":
            values[name] = text == "on"
            continue
        if field["kind"] == "secret" and for_update and form.get(f"clear_{name}") == "on":
            values[name] = None  # the secret's Clear box
            continue
        if not text:
            if field["kind"] == "secret" and for_update:
                continue  # write-only: blank keeps the stored secret
            if not field["required"]:
                continue
        if field["kind"] == "integer" and text:
            try:
                values[name] = int(text)
            except ValueError:
                raise Invalid(f"{field['label']}: a whole number is needed") from None
        elif field["kind"] == "number" and text:
            try:
                values[name] = float(text)
            except ValueError:
                raise Invalid(f"{field['label']}: a number is needed") from None
        else:
            values[name] = text
    return values
