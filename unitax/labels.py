"""Label spaces: the labels of one dataset.

A `LabelSpace` is what a dataset's annotations are written in: label ids (the
raw values in masks or ``category_id`` fields), names, colours, the dataset's
own grouping (``category``) and hierarchy (``parents``), the ids that mean
"not annotated" (``void``), and whether every instance of every label is
annotated (``exhaustive``).

Conventions
-----------
* Names are unique within a space, ids are unique, and void ids are not label
  ids. Label names are free text; space names are plain keys (lowercase
  letters, digits, ``_ . -``) because references read ``space/label``.
* ``parents`` name other labels of the same space that a label is a subset of
  (Open Images' "Car" is a "Land vehicle"). Labels of one space are disjoint
  unless this in-space hierarchy relates them.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from unitax._files import load_document, validate_document
from unitax.errors import LabelSpaceError, UnitaxError, did_you_mean

__all__ = ["Label", "LabelSpace", "read_label_space", "write_label_space"]

_SPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as err:
            raise _unwrap(err) from None


def _unwrap(err: pydantic.ValidationError) -> Exception:
    """Return the unitax error a validator raised, else the pydantic error."""
    for error in err.errors():
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, UnitaxError):
            return cause
    return err


class Label(_Frozen):
    """One entry of a dataset's label set.

    Parameters
    ----------
    id
        The raw value in the dataset's annotations (pixel value or
        ``category_id``), an int of 64 bits.
    name
        Unique within its space, without surrounding white space.
    color
        ``(r, g, b)`` used by the dataset's colour maps, if any.
    category
        The dataset's own grouping (Cityscapes category, COCO supercategory).
    parents
        Names of labels of the same space that this label is a subset of.
    synonyms
        Other names the dataset gives the label (ADE20K's synonym lists).
    code
        An external identifier, such as an Open Images MID.

    Examples
    --------
    >>> ux.Label(id=7, name="road", color=(128, 64, 128))
    Label(id=7, name='road', color=(128, 64, 128), category=None, parents=(), synonyms=(), code=None)
    """  # noqa: E501

    id: int = Field(ge=-(1 << 63), lt=1 << 63)  # ids become int64 arrays
    name: str = Field(min_length=1)
    color: tuple[int, int, int] | None = None
    category: str | None = None
    parents: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    code: str | None = None

    @field_validator("name")
    @classmethod
    def _stripped(cls, name: str) -> str:
        if name != name.strip():
            raise LabelSpaceError(
                f"label name must not start or end with white space, got {name!r}"
            )
        return name

    @field_validator("color")
    @classmethod
    def _rgb(cls, color: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if color is not None and not all(0 <= c <= 255 for c in color):
            raise LabelSpaceError(f"color must be 3 ints in 0..255, got {color!r}")
        return color


class LabelSpace(_Frozen):
    """The labels of one dataset.

    Parameters
    ----------
    name
        A plain key such as ``"cityscapes"``.
    labels
        The labels, in any order.
    void
        Label ids meaning "not annotated". They are not labels.
    exhaustive
        Whether every instance of every label is annotated, so that pixels
        outside all annotations are known to be none of these labels.

    Raises
    ------
    LabelSpaceError
        On duplicate ids or names, void ids that are also label ids, or a
        parent that names no label of the space, or a cycle among parents.

    Examples
    --------
    >>> space = ux.LabelSpace.from_names("toy", ["road", "car"], void=[255])
    >>> space.by_name("car")
    Label(id=1, name='car', color=None, category=None, parents=(), synonyms=(), code=None)
    >>> space.ids
    (0, 1)
    """  # noqa: E501

    name: str
    labels: tuple[Label, ...]
    void: frozenset[int] = frozenset()
    exhaustive: bool = True

    _names: dict[str, Label] = PrivateAttr(default_factory=dict)
    _ids: dict[int, Label] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Index the labels by name and by id (the model is frozen)."""
        self._names.update((label.name, label) for label in self.labels)
        self._ids.update((label.id, label) for label in self.labels)

    @field_validator("name")
    @classmethod
    def _plain_key(cls, name: str) -> str:
        if not _SPACE_NAME.match(name):
            raise LabelSpaceError(
                "label space name must be lowercase letters, digits, '_', '.' or "
                f"'-' (it is used in references 'space/label'), got {name!r}"
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> LabelSpace:
        _check_unique(self.name, "id", [label.id for label in self.labels])
        _check_unique(self.name, "name", [label.name for label in self.labels])
        clash = sorted(self.void & {label.id for label in self.labels})
        if clash:
            raise LabelSpaceError(
                f"label space {self.name!r}: void ids must not be label ids, "
                f"got {clash} in both"
            )
        names = {label.name for label in self.labels}
        for label in self.labels:
            for parent in label.parents:
                if parent not in names:
                    raise LabelSpaceError(
                        f"label space {self.name!r}: label {label.name!r} has parent "
                        f"{parent!r}, which is not a label of the space"
                        + did_you_mean(parent, names)
                    )
        if any(label.parents for label in self.labels):
            graph = nx.DiGraph(
                (parent, label.name)
                for label in self.labels
                for parent in label.parents
            )
            if not nx.is_directed_acyclic_graph(graph):
                cycle = " -> ".join(edge[0] for edge in nx.find_cycle(graph))
                raise LabelSpaceError(
                    f"label space {self.name!r}: parents must form a DAG, "
                    f"got the cycle {cycle}"
                )
        return self

    @classmethod
    def from_names(
        cls,
        name: str,
        labels: Iterable[str],
        *,
        void: Iterable[int] = (),
        exhaustive: bool = True,
    ) -> LabelSpace:
        """Build a space whose label ids are the positions of ``labels``.

        >>> ux.LabelSpace.from_names("toy", ["sky"]).labels
        (Label(id=0, name='sky', color=None, category=None, parents=(), synonyms=(), code=None),)
        """  # noqa: E501
        return cls(
            name=name,
            labels=tuple(Label(id=i, name=n) for i, n in enumerate(labels)),
            void=frozenset(void),
            exhaustive=exhaustive,
        )

    @property
    def ids(self) -> tuple[int, ...]:
        """Label ids in the order of `labels`."""
        return tuple(label.id for label in self.labels)

    @property
    def names(self) -> tuple[str, ...]:
        """Label names in the order of `labels`."""
        return tuple(label.name for label in self.labels)

    def by_name(self, name: str) -> Label:
        """Return the label called ``name``.

        Raises
        ------
        LabelSpaceError
            If there is none; the message suggests a close name.
        """
        label = self._by_name().get(name)
        if label is None:
            raise LabelSpaceError(
                f"label space {self.name!r} has no label {name!r}"
                + did_you_mean(name, self._by_name())
            )
        return label

    def by_id(self, label_id: int) -> Label:
        """Return the label with id ``label_id``.

        Raises
        ------
        LabelSpaceError
            If there is none (void ids are not labels).
        """
        label = self._by_id().get(label_id)
        if label is None:
            kind = "a void id" if label_id in self.void else "not a label id"
            raise LabelSpaceError(
                f"label space {self.name!r}: {label_id!r} is {kind}; "
                f"label ids are {_span(self.ids)}"
            )
        return label

    def _by_name(self) -> Mapping[str, Label]:
        return self._names

    def _by_id(self) -> Mapping[int, Label]:
        return self._ids

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        kind = "exhaustive" if self.exhaustive else "not exhaustive"
        return (
            f"LabelSpace({self.name!r}, {len(self.labels)} labels, "
            f"void={sorted(self.void)}, {kind})"
        )


def _check_unique(space: str, what: str, values: list[Any]) -> None:
    counts = Counter(values)
    duplicates = sorted((v for v, n in counts.items() if n > 1), key=str)
    if duplicates:
        raise LabelSpaceError(
            f"label space {space!r}: label {what}s must be unique, "
            f"got duplicates {duplicates[:10]}"
        )


def _span(ids: tuple[int, ...]) -> str:
    if not ids:
        return "none"
    return f"{min(ids)}..{max(ids)} ({len(ids)} labels)"


class LabelSpaceFile(LabelSpace):
    """A label space as stored in a JSON/YAML file, with its provenance."""

    schema_version: Literal[1] = 1
    origin: str = ""
    license: str = ""
    notes: str = ""


def read_label_space(path: str | os.PathLike[str]) -> LabelSpace:
    """Read a label space from a JSON or YAML file.

    The file holds the fields of `LabelSpace` plus ``schema_version`` and the
    optional provenance fields ``origin``, ``license`` and ``notes``.

    Raises
    ------
    FormatError
        If the file is not valid JSON/YAML or not a label space; the message
        names the file and the line.
    """
    data, locate = load_document(path)
    stored = validate_document(LabelSpaceFile, data, path, locate)
    return LabelSpace(
        name=stored.name,
        labels=stored.labels,
        void=stored.void,
        exhaustive=stored.exhaustive,
    )


def write_label_space(
    space: LabelSpace, path: str | os.PathLike[str], *, origin: str = ""
) -> Path:
    """Write ``space`` as JSON that `read_label_space` reads back.

    >>> import tempfile, pathlib
    >>> space = ux.LabelSpace.from_names("toy", ["road", "car"])
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> read_label_space(write_label_space(space, folder / "toy.json")) == space
    True
    """
    stored = LabelSpaceFile(
        name=space.name,
        labels=space.labels,
        void=space.void,
        exhaustive=space.exhaustive,
        origin=origin,
    )
    path = Path(path)
    text = stored.model_dump_json(indent=1, exclude_defaults=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
