"""The schema-driven plugin settings form: a connector's settings JSON Schema as form
fields, and the posted form back as setting values."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from tradewind.core.plugins.schemas import secret_fields
from tradewind.errors import Invalid


def form_fields(spec_settings: Any) -> list[dict[str, Any]]:
    """Form fields from a connector's settings schema."""
    schema = spec_settings.model_json_schema()
    required = set(schema.get("required", []))
    secrets = secret_fields(spec_settings)
    found = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf") or [prop]
        kinds = [o.get("type") for o in options if o.get("type") and o.get("type") != "null"]
        enum = next((o.get("enum") for o in options if o.get("enum")), None)
        if enum is None and "$ref" in prop:
            ref = schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {})
            enum = ref.get("enum")
        found.append(
            {
                "name": name,
                "label": prop.get("title", name.replace("_", " ").title()),
                "kind": "secret" if name in secrets else (kinds[0] if kinds else "string"),
                "enum": enum,
                "required": name in required,
                "default": prop.get("default"),
                "description": prop.get("description", ""),
                "pattern": prop.get("pattern"),
            }
        )
    return found


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
