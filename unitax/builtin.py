"""Built-in label spaces and rules, shipped as data files in ``unitax/data``.

Label spaces live in ``data/label_spaces/<name>.json`` and rules in
``data/rules/<name>.yaml``; ``data/README.md`` records where each fact comes
from. Reading is on demand: importing unitax reads no file.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from unitax.errors import LabelSpaceError, did_you_mean
from unitax.labels import LabelSpace, read_label_space
from unitax.rules import Rule, read_rules

__all__ = [
    "COLLECTIONS",
    "builtin_label_space",
    "builtin_rules",
    "collection",
    "label_space_names",
    "rules_names",
]

COLLECTIONS: dict[str, tuple[str, ...]] = {
    "iv2018": ("cityscapes", "vistas-v1.2", "gtsdb"),
    "street": (
        "cityscapes",
        "kitti",
        "wilddash-v1",
        "wilddash-2",
        "bdd100k",
        "idd",
        "vistas-v1.2",
        "vistas-v2.0",
        "gtsdb",
    ),
    "all": (
        "cityscapes",
        "kitti",
        "wilddash-v1",
        "wilddash-2",
        "bdd100k",
        "idd",
        "vistas-v1.2",
        "vistas-v2.0",
        "gtsdb",
        "coco-panoptic",
        "ade20k-150",
        "pascal-context-59",
        "pascal-voc",
        "openimages",
    ),
}
"""The label spaces each built-in rules file is written for.

``street`` and ``all`` are generated from fragments by ``tools/build_rules.py``
(see ``data/README.md``); each extends the one before it.
"""


def _data(folder: str) -> Traversable:
    return resources.files("unitax").joinpath("data", folder)


def label_space_names() -> tuple[str, ...]:
    """Names of the built-in label spaces, sorted.

    >>> "cityscapes" in label_space_names()
    True
    """
    return tuple(sorted(p.name[:-5] for p in _data("label_spaces").iterdir()
                        if p.name.endswith(".json")))  # fmt: skip


def rules_names() -> tuple[str, ...]:
    """Names of the built-in rules files, sorted.

    >>> "iv2018" in rules_names()
    True
    """
    return tuple(sorted(p.name[:-5] for p in _data("rules").iterdir()
                        if p.name.endswith(".yaml")))  # fmt: skip


def builtin_label_space(name: str) -> LabelSpace:
    """Load a built-in label space by name.

    Raises
    ------
    LabelSpaceError
        If there is no such built-in space; the message lists them.

    Examples
    --------
    >>> space = ux.builtin_label_space("cityscapes")
    >>> len(space), space.by_name("rider").id
    (34, 25)
    """
    names = label_space_names()
    if name not in names:
        raise LabelSpaceError(
            f"no built-in label space {name!r}{did_you_mean(name, names)}; "
            f"choose from {list(names)}"
        )
    with resources.as_file(_data("label_spaces").joinpath(f"{name}.json")) as path:
        return read_label_space(path)


def builtin_rules(name: str) -> tuple[Rule, ...]:
    """Load a built-in rules file by name (see `rules_names`).

    >>> rules = ux.builtin_rules("iv2018")
    >>> sum(rule.kind == "is_a" for rule in rules)
    43
    """
    names = rules_names()
    if name not in names:
        raise LabelSpaceError(
            f"no built-in rules {name!r}{did_you_mean(name, names)}; "
            f"choose from {list(names)}"
        )
    with resources.as_file(_data("rules").joinpath(f"{name}.yaml")) as path:
        return read_rules(path)


def collection(name: str) -> tuple[tuple[LabelSpace, ...], tuple[Rule, ...]]:
    """Load a built-in rules file together with the label spaces it is for.

    >>> spaces, rules = collection("iv2018")
    >>> [space.name for space in spaces]
    ['cityscapes', 'vistas-v1.2', 'gtsdb']
    """
    if name not in COLLECTIONS:
        raise LabelSpaceError(
            f"no built-in collection {name!r}{did_you_mean(name, COLLECTIONS)}; "
            f"choose from {sorted(COLLECTIONS)}"
        )
    spaces = tuple(builtin_label_space(space) for space in COLLECTIONS[name])
    return spaces, builtin_rules(name)
