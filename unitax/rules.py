"""Rules: statements that align the labels of different label spaces.

A *reference* names what a rule talks about: ``"space/label"`` is a label of
a label space (split at the first ``/``), and a name without ``/`` is a
universal *concept* declared by a `Concept` rule or named by an `Overlap`.

=========== =================================================================
rule        meaning (as sets of pixels in the world)
=========== =================================================================
`Same`      all references are one concept; ``name`` names the node
`IsA`       ``child`` is a subset of ``parent``; the parent gets a remainder
            leaf ``"<parent> (other)"`` for what its children leave out
`Split`     ``whole`` is the disjoint union of ``parts``: no remainder
`Overlap`   the two labels share a part, ``name``, and each has more
`Ignore`    the label carries no supervision
`Concept`   declares a universal node that no dataset names
=========== =================================================================

Rules files are JSON or YAML (``{"schema_version": 1, "rules": [...]}``),
with each rule an object tagged by ``kind``; the schema is
``schemas/rules.schema.json``.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from unitax._files import load_document, validate_document
from unitax.labels import LabelSpace

__all__ = [
    "Concept",
    "Ignore",
    "IsA",
    "Overlap",
    "Rule",
    "RulesFile",
    "Same",
    "Split",
    "describe",
    "normalize_name",
    "parse_reference",
    "read_rules",
    "same_names",
    "write_rules",
]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    reason: str = ""
    _where: str | None = PrivateAttr(default=None)

    @property
    def references(self) -> tuple[str, ...]:
        """The references this rule relates, in the order written."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return describe(self)  # type: ignore[arg-type]

    # Equality is by content: where a rule was read from does not matter.
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))


def _nonempty(ref: str) -> str:
    if not ref or ref != ref.strip():
        raise ValueError(f"a reference must be a non-empty trimmed string, got {ref!r}")
    return ref


class Same(_Rule):
    """All ``labels`` are one concept.

    Examples
    --------
    >>> Same(labels=("cityscapes/car", "vistas-v1.2/object--vehicle--car"), name="car")
    Same(labels=('cityscapes/car', 'vistas-v1.2/object--vehicle--car'), name='car')
    """

    kind: Literal["same"] = "same"
    labels: tuple[str, ...] = Field(min_length=1)
    name: str | None = None

    @field_validator("labels")
    @classmethod
    def _trimmed(cls, refs: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_nonempty(ref) for ref in refs)

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return self.labels


class IsA(_Rule):
    """``child`` is a subset of ``parent``."""

    kind: Literal["is_a"] = "is_a"
    child: str
    parent: str

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return (self.child, self.parent)


class Split(_Rule):
    """``whole`` is the disjoint union of ``parts``."""

    kind: Literal["split"] = "split"
    whole: str
    parts: tuple[str, ...] = Field(min_length=2)

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return (self.whole, *self.parts)


class Overlap(_Rule):
    """The two ``labels`` overlap partially; their intersection is ``name``."""

    kind: Literal["overlap"] = "overlap"
    labels: tuple[str, str]
    name: str

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return self.labels


class Ignore(_Rule):
    """``label`` carries no supervision: its pixels become ignore."""

    kind: Literal["ignore"] = "ignore"
    label: str

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return (self.label,)


class Concept(_Rule):
    """Declares the universal node ``name``, which no dataset names."""

    kind: Literal["concept"] = "concept"
    name: str

    @field_validator("name")
    @classmethod
    def _no_slash(cls, name: str) -> str:
        if "/" in name or not name or name != name.strip():
            raise ValueError(
                "a concept name must be trimmed, non-empty and without '/', "
                f"got {name!r}"
            )
        return name

    @property
    def references(self) -> tuple[str, ...]:  # noqa: D102
        return ()


Rule: TypeAlias = Annotated[
    Same | IsA | Split | Overlap | Ignore | Concept, Field(discriminator="kind")
]
_RULE_TYPES = (Same, IsA, Split, Overlap, Ignore, Concept)


class RulesFile(BaseModel):
    """A rules file: ``{"schema_version": 1, "description": ..., "rules": [...]}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: Literal[1] = 1
    description: str = ""
    rules: tuple[Rule, ...] = ()


def describe(rule: Same | IsA | Split | Overlap | Ignore | Concept) -> str:
    """A one-line description of ``rule``, with its file and line if known.

    >>> describe(IsA(child="cityscapes/rider", parent="person"))
    "IsA(child='cityscapes/rider', parent='person')"
    """
    fields = rule.model_dump(exclude={"kind", "reason"}, exclude_defaults=True)
    if isinstance(rule, IsA):  # required fields, always shown
        fields = {"child": rule.child, "parent": rule.parent}
    text = ", ".join(f"{key}={_tuple(value)!r}" for key, value in fields.items())
    where = f" at {rule._where}" if rule._where else ""
    return f"{type(rule).__name__}({text}){where}"


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def read_rules(path: str | os.PathLike[str]) -> tuple[Rule, ...]:
    """Read rules from a JSON or YAML file.

    Each rule remembers its file and line, which error messages quote.

    Raises
    ------
    FormatError
        If the file is not valid JSON/YAML or breaks the rules schema; the
        message names the file, the line and the rule.
    """
    data, locate = load_document(path)
    stored = validate_document(RulesFile, data, path, locate)
    for position, rule in enumerate(stored.rules):
        line = locate(["rules", position])
        rule._where = f"{Path(path).name}:{line}" if line else f"{Path(path).name}"
    return stored.rules


def write_rules(
    rules: Iterable[Rule], path: str | os.PathLike[str], *, description: str = ""
) -> Path:
    """Write ``rules`` as YAML (``.yaml``/``.yml``) or JSON, readable by `read_rules`.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rules.yaml"
    >>> rules = (IsA(child="a/x", parent="b/y", reason="x is a kind of y"),)
    >>> read_rules(write_rules(rules, path)) == rules
    True
    """
    path = Path(path)
    stored = RulesFile(description=description, rules=tuple(rules))
    data: dict[str, Any] = {"schema_version": 1}
    if description:
        data["description"] = description
    data["rules"] = [
        {"kind": rule.kind, **rule.model_dump(mode="json", exclude_defaults=True)}
        for rule in stored.rules
    ]
    if path.suffix.lower() in {".yaml", ".yml"}:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


_SEPARATORS = re.compile(r"[\s_\-./]+")


def normalize_name(name: str) -> str:
    """Fold case, separators, hierarchical prefixes and plurals of a label name.

    Used to find labels that look the same across datasets.

    >>> normalize_name("construction--flat--road")
    'road'
    >>> normalize_name("Traffic_Signs")
    'traffic sign'
    >>> normalize_name("buses")
    'bus'
    """
    name = name.rsplit("--", 1)[-1]
    words = _SEPARATORS.sub(" ", name.lower()).split()
    return " ".join(_singular(word) for word in words)


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us")):
        return word
    endings = (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"),
               ("xes", "x"), ("ses", "s"), ("s", ""))  # fmt: skip
    for plural, singular in endings:
        if word.endswith(plural):
            return word[: len(word) - len(plural)] + singular
    return word


def same_names(label_spaces: Iterable[LabelSpace]) -> tuple[Same, ...]:
    """Generate `Same` rules for labels whose normalised names are equal.

    Nothing in unitax merges by name on its own: this helper writes the rules
    out so that a person can review them (`write_rules`) before use. Groups
    with two labels of one space are left out (they would contradict the
    space's disjointness).

    >>> a = ux.LabelSpace.from_names("a", ["car", "road"])
    >>> b = ux.LabelSpace.from_names("b", ["Cars", "sky"])
    >>> same_names([a, b])
    (Same(labels=('a/car', 'b/Cars'), name='car'),)
    """
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for space in sorted(label_spaces, key=lambda s: s.name):
        for label in space.labels:
            groups[normalize_name(label.name)].append((space.name, label.name))
    rules = []
    for key in sorted(groups):
        members = groups[key]
        spaces = [space for space, _ in members]
        if len(members) > 1 and len(set(spaces)) == len(spaces):
            refs = tuple(f"{space}/{label}" for space, label in members)
            rules.append(Same(labels=refs, name=key, reason="same normalised name"))
    return tuple(rules)


def parse_reference(reference: str) -> tuple[str | None, str]:
    """Split a reference into ``(space, label)``; a concept has space ``None``.

    >>> parse_reference("cityscapes/traffic sign")
    ('cityscapes', 'traffic sign')
    >>> parse_reference("driveable")
    (None, 'driveable')
    """
    space, slash, label = reference.partition("/")
    return (space, label) if slash else (None, reference)
