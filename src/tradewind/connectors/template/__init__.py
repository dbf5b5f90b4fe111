"""Integration templates: connectors defined in YAML (``tradewind-template/v1``) and run
by the engine here. ``docs/templates.md`` is the reference of the format.

* ``format.py`` — the format's models (and so its JSON Schema);
* ``loader.py`` + ``checks.py`` — reading a template, every problem with its line;
* ``expressions.py`` — JSONata, bounded, over JSON only;
* ``runtime.py`` — requests, error rules, hooks and pulls;
* ``auth.py`` — each auth kind, and the tokens of OAuth 2 and sessions;
* ``connector.py`` — a template as a connector type.
"""

from __future__ import annotations

from tradewind.connectors.template.connector import TemplateConnector, connector_class
from tradewind.connectors.template.format import Template
from tradewind.connectors.template.loader import Problem, TemplateInvalid, load_template
from tradewind.connectors.template.sources import find_templates, shipped_templates

__all__ = [
    "Problem",
    "Template",
    "TemplateConnector",
    "TemplateInvalid",
    "connector_class",
    "find_templates",
    "load_template",
    "shipped_templates",
]
