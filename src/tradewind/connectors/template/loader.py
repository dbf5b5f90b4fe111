"""Reading a template: YAML in, a checked ``Template`` out, or every problem with its
line, column and path, worded so that a person can fix it.

Two passes: the structure (the models of ``format.py``: unknown keys, wrong types,
missing fields) and the meaning (``checks.py``: expressions compile, the steps, settings
and records they name exist, secrets stay in ``auth``). Nothing is built from a file
that uses YAML anchors or aliases (a few lines of them can expand to gigabytes), nor
from one over ``MAX_BYTES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from tradewind.connectors.template.format import Template

MAX_BYTES = 256 * 1024

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """YAML 1.2's booleans: only true and false. (YAML 1.1 also reads on, off, yes and
    no as booleans, so a hook's `on:` key would become `True`.)"""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Problem:
    path: str  # "hooks.get_rates.steps[1].request.path"; "" for the file itself
    message: str
    line: int | None = None  # 1-based
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}{self.path + ': ' if self.path else ''}{self.message}"


class TemplateInvalid(ValueError):
    """A template that cannot be used, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Positions:
    """Where each path of a YAML document starts (1-based line and column)."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._at: dict[Path, tuple[int, int]] = {}
        self.duplicates: list[tuple[Path, int, int]] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: Path) -> None:
        self._at.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                at = (key.start_mark.line + 1, key.start_mark.column + 1)
                if name in seen:
                    self.duplicates.append(((*path, name), *at))
                seen.add(name)
                self._at[(*path, name)] = at  # a key points at itself, not at its value
                self._walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def of(self, path: Path) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor in the file."""
        for length in range(len(path), -1, -1):
            found = self._at.get(tuple(path[:length]))
            if found is not None:
                return found
        return None, None


def parse_yaml(text: str) -> tuple[Any, Positions]:
    """The document's data and positions; refuses what could harm the reader."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TemplateInvalid([Problem("", f"the template is larger than {MAX_BYTES // 1024} KiB")])
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line, column = _mark(event.start_mark)
                refused = "YAML anchors and aliases are not allowed in a template"
                raise TemplateInvalid([Problem("", refused, line, column)])
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        line, column = _mark(exc.problem_mark)
        raise TemplateInvalid(
            [Problem("", f"not valid YAML: {exc.problem}", line, column)]
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateInvalid([Problem("", f"not valid YAML: {exc}")]) from None
    return data, Positions(root)


def _mark(mark: Any) -> tuple[int | None, int | None]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def load_template(text: str) -> Template:
    """The template in ``text``, checked; ``TemplateInvalid`` lists what is wrong."""
    from tradewind.connectors.template.checks import check  # the meaning, once the shape holds

    data, positions = parse_yaml(text)
    problems = [
        Problem(dotted(path), "this key appears twice", line, column)
        for path, line, column in positions.duplicates
    ]
    if not isinstance(data, dict):
        raise TemplateInvalid([*problems, Problem("", "a template is a mapping of keys")])
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise TemplateInvalid([*problems, *shape_problems(exc, positions)]) from None
    problems.extend(
        Problem(dotted(path), message, *positions.of(path)) for path, message in check(template)
    )
    if problems:
        raise TemplateInvalid(problems)
    return template


def shape_problems(exc: ValidationError, positions: Positions) -> Iterator[Problem]:
    for error in exc.errors():
        # A tagged union puts the tag in the path ("auth.api_key.inject"): not a key.
        path = tuple(
            part
            for index, part in enumerate(error["loc"])
            if not (index > 0 and error["loc"][index - 1] == "auth" and isinstance(part, str))
        )
        if error["type"] == "extra_forbidden":
            message = f"unknown key {path[-1]!r}"
        elif error["type"] == "missing":
            message = "is required"
        else:
            message = error["msg"]
        yield Problem(dotted(path), message, *positions.of(path))
