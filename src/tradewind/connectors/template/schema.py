"""The JSON Schema of ``tradewind-template/v1`` (Draft 2020-12), generated from the
format's models so that the two never disagree. Editors read the copy published at
``docs/template-v1.schema.json``; the API serves it too."""

from __future__ import annotations

import json
from typing import Any

from tradewind.connectors.template.format import Template

SCHEMA_ID = "https://tradewind.dev/schemas/template-v1.json"


def json_schema() -> dict[str, Any]:
    schema = Template.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tradewind integration template (tradewind-template/v1)",
        **schema,
    }


def published() -> str:
    """The schema as the published file holds it."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
