"""Mapillary Vistas v1.2 and v2.0: labels, instances, panoptic and polygons.

Layout (as distributed; ``{split}`` is ``training``, ``validation``, ...)::

    root/config_v1.2.json, root/config_v2.0.json     # the label lists
    root/{split}/images/{key}.jpg
    root/{split}/{version}/labels/{key}.png          # 8-bit palette: label id
    root/{split}/{version}/instances/{key}.png       # 16-bit: id * 256 + k
    root/{split}/{version}/panoptic/{key}.png        # RGB segment ids
    root/{split}/{version}/panoptic/panoptic_2018.json   # v1.2 (2020: v2.0)
    root/{split}/{version}/polygons/{key}.json       # v2.0 only

Splits are the folders of ``root`` that hold a ``{version}`` folder. A root
without split folders but with ``root/images`` and ``root/{version}`` is read
as one unnamed split (``split=""``); there, label PNGs may lie directly in
``root/{version}`` (the layout of MMSegmentation's test data).

Label space: a config file given, else ``root/config_{version}.json`` if
present, else the built-in ``vistas-v1.2`` / ``vistas-v2.0``. A config's
labels get their position as id (that is how Vistas PNGs use them), and
``void--unlabeled`` is void, as in the built-in spaces. A config whose label
names equal the built-in space's gives the built-in space; any other config
gives a space named ``vistas-{version}-config``, so that it is never mistaken
for the built-in one.

Annotations:

* ``labels``: ``Mask(path)``; ``instances``: ``Mask(path, divisor=256)``;
* ``panoptic``: ``Mask(path, encoding="rgb", segments={segment id: label id})``
  from the panoptic JSON (COCO panoptic style). A category is matched to a
  label by its ``supercategory`` or ``name``: the real files put the full
  label name (``animal--bird``) in ``supercategory`` and the readable name
  in ``name``; datumaro's exports put the full name in ``name``. ``iscrowd``
  is not kept (`Mask` has no field for it).
* ``polygons`` (v2.0): ``{"width", "height", "objects": [{"label",
  "polygon": [[x, y], ...]}]}``, the format that code reading the real
  files uses (the format is not published; datumaro's test files, which
  spell ``heigth`` and store flat coordinate lists, are refused with a
  message saying so). One ``"pil"`` `Polygon` per object in file order,
  ``key`` = object index. Whether Mapillary's own rasteriser matches PIL
  and file order is not established.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from unitax._files import load_document
from unitax.annotations import Dataset, Mask, Sample
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError, LabelSpaceError
from unitax.formats._common import Errors, Ledger, inside
from unitax.formats._dense import (
    ID8,
    ID16,
    RGB,
    Pair,
    check_choice,
    read_pairs,
    relative,
    show,
    skip_orphans,
)
from unitax.formats._polygon_json import name_resolver, read_polygon_samples
from unitax.labels import Label, LabelSpace

__all__ = ["read_vistas"]

Version = Literal["v1.2", "v2.0"]
Source = Literal["labels", "instances", "panoptic", "polygons"]

_PANOPTIC = {"v1.2": "panoptic_2018.json", "v2.0": "panoptic_2020.json"}
_VOID = "void--unlabeled"


def read_vistas(
    root: str | os.PathLike[str],
    *,
    version: Version = "v1.2",
    split: str | None = None,
    source: Source = "labels",
    config: str | os.PathLike[str] | None = None,
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read a Mapillary Vistas dataset.

    Parameters
    ----------
    root
        The folder holding the split folders and ``config_*.json``.
    version
        ``"v1.2"`` (66 labels) or ``"v2.0"`` (124 labels).
    split
        One split folder (``"training"``, ``"validation"``); default: every
        folder of ``root`` that holds a ``{version}`` folder.
    source
        ``"labels"``, ``"instances"``, ``"panoptic"`` or ``"polygons"``
        (v2.0 only); see the module docstring.
    config
        A Vistas ``config_*.json`` defining the labels (default: the one in
        ``root``, else the built-in space).
    check_ids
        Also decode every PNG and check its ids against the label space (one
        full decode per file). Without it, PNGs are checked from their headers.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        One sample per image with its mask or polygons.

    Raises
    ------
    FormatError
        Missing folders, an unreadable config or panoptic JSON; in strict
        mode any problem with an annotation: a missing file, a PNG of the
        wrong size or mode (8-bit for labels, 16-bit for instances, RGB for
        panoptic), a file name leading outside ``root``, a category or label
        name not in the label space, a bad polygon (with file, line, object).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("training/images", "training/v1.2/labels"):
    ...     (root / folder).mkdir(parents=True)
    >>> Image.new("RGB", (3, 2)).save(root / "training/images/a.jpg")
    >>> Image.new("P", (3, 2), 13).save(root / "training/v1.2/labels/a.png")
    >>> dataset = read_vistas(root)
    >>> dataset.label_space.name, dataset.samples[0].key, dataset.samples[0].shape
    ('vistas-v1.2', 'training/a', (2, 3))
    """
    check_choice("version", version, Version)
    check_choice("source", source, Source)
    if source == "polygons" and version != "v2.0":
        raise ValueError("source 'polygons' needs version 'v2.0' (v1.2 has none)")
    root = Path(root)
    space = _label_space(root, version, config)
    ledger = Ledger(errors)
    samples: list[Sample] = []
    for name, folder in _splits(root, version, split):
        samples += _read_split(
            root,
            folder,
            name,
            version=version,
            source=source,
            space=space,
            ledger=ledger,
            check_ids=check_ids,
        )
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _splits(root: Path, version: str, split: str | None) -> list[tuple[str, Path]]:
    if split is not None:
        if not (root / split / version).is_dir():
            raise FormatError(
                f"{root / split}: expected a {version} folder for split {split!r}"
            )
        return [(split, root / split)]
    if not root.is_dir():
        raise FormatError(f"{root}: expected the Vistas root folder")
    found = sorted(p for p in root.iterdir() if (p / version).is_dir())
    if found:
        return [(p.name, p) for p in found]
    if (root / version).is_dir() and (root / "images").is_dir():
        return [("", root)]
    raise FormatError(
        f"{root}: expected split folders holding images/ and {version}/ "
        f"(Vistas layout), or images/ and {version}/ in the root itself"
    )


def _read_split(
    root: Path,
    folder: Path,
    split: str,
    *,
    version: str,
    source: str,
    space: LabelSpace,
    ledger: Ledger,
    check_ids: bool,
) -> list[Sample]:
    annotations = folder / version / source
    if source == "labels" and not annotations.is_dir():
        annotations = folder / version  # MMSegmentation's flat test layout
    if not annotations.is_dir():
        raise FormatError(f"{annotations}: expected the {source} folder")
    images = folder / "images"
    if not images.is_dir():
        raise FormatError(f"{images}: expected the images of split {split!r}")
    suffix = ".json" if source == "polygons" else ".png"
    pairs = [
        Pair(
            split,
            f"{split}/{image.stem}" if split else image.stem,
            image,
            annotations / f"{image.stem}{suffix}",
        )
        for image in sorted(images.glob("*.jpg"))
    ]
    used = {pair.annotation for pair in pairs}
    candidates = list(annotations.glob(f"*{suffix}"))
    if source == "polygons":
        resolve = name_resolver(space, void_names=_void_names(space), strip_group=False)
        samples = read_polygon_samples(
            pairs,
            root=root,
            space=space,
            ledger=ledger,
            resolve=resolve,
            size_keys=("height", "width"),
        )
    elif source == "panoptic":
        index_path = annotations / _PANOPTIC[version]
        segments = _panoptic_index(index_path, annotations, space, ledger)
        candidates += list(segments)
        samples = read_pairs(
            pairs,
            root=root,
            space=space,
            ledger=ledger,
            what="panoptic PNG",
            modes=RGB,
            check_ids=check_ids,
            make_mask=_panoptic_mask(root, segments, index_path.name),
        )
    else:
        samples = read_pairs(
            pairs,
            root=root,
            space=space,
            ledger=ledger,
            what=f"{source} PNG",
            modes=ID8 if source == "labels" else ID16,
            check_ids=check_ids,
            make_mask=None if source == "labels" else _instance_mask(root),
        )
    skip_orphans(
        candidates,
        used,
        ledger=ledger,
        what=f"{source} file",
        count=0 if source == "polygons" else 1,
    )
    return samples


def _void_names(space: LabelSpace) -> dict[str, int]:
    return {_VOID: max(space.void)} if space.void else {}


def _instance_mask(root: Path) -> Callable[[Pair, tuple[int, int]], Mask | str]:
    def make(pair: Pair, shape: tuple[int, int]) -> Mask | str:
        return Mask(pair.annotation, divisor=256, key=relative(root, pair.annotation))

    return make


Segments = dict[Path, "dict[int, int] | str"]


def _panoptic_mask(
    root: Path, index: Segments, index_name: str
) -> Callable[[Pair, tuple[int, int]], Mask | str]:
    def make(pair: Pair, shape: tuple[int, int]) -> Mask | str:
        segments = index.get(pair.annotation)
        if segments is None:
            return f"expected an entry for this PNG in {index_name}, found none"
        if isinstance(segments, str):
            return f"{index_name}: {segments}"
        return Mask(
            pair.annotation,
            encoding="rgb",
            segments=segments,
            key=relative(root, pair.annotation),
        )

    return make


def _panoptic_index(
    path: Path, folder: Path, space: LabelSpace, ledger: Ledger
) -> Segments:
    """Panoptic PNG path -> {segment id: label id}, or why that entry is unusable.

    Entries whose file name leads outside the folder are counted and skipped
    here. An unreadable index file is an error in both modes.
    """
    data, locate = load_document(path)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise FormatError(f"{path}: expected a JSON object with an 'annotations' list")
    labels = _category_labels(path, data.get("categories"), space, locate)
    index: Segments = {}
    for number, entry in enumerate(data["annotations"]):
        name = entry.get("file_name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            problem = f"expected 'file_name' to be a string, got {name!r}"
        else:
            try:
                png = inside(folder, name, where="")
                problem = f"duplicate entry for {name!r}" if png in index else ""
            except FormatError as err:
                problem = str(err).removeprefix(": ")
        if problem:
            line = locate(("annotations", number))
            ledger.found()
            ledger.skip(f"{show(path)}:{line}: annotation {number}", problem)
            continue
        index[png] = _segments(entry, labels)
    return index


def _category_labels(
    path: Path, categories: Any, space: LabelSpace, locate: Callable[..., int | None]
) -> dict[int, int | str]:
    """Category id -> label id (or why the category names no label)."""
    if not isinstance(categories, list):
        raise FormatError(f"{path}: expected a 'categories' list")
    ids = {label.name: label.id for label in space.labels} | _void_names(space)
    labels: dict[int, int | str] = {}
    for number, category in enumerate(categories):
        if not isinstance(category, dict) or not isinstance(category.get("id"), int):
            line = locate(("categories", number))
            raise FormatError(
                f"{path}:{line}: categories[{number}]: expected an object with an "
                f"integer 'id', got {category!r}"
            )
        names = [category.get("supercategory"), category.get("name")]
        found = [ids[n] for n in names if isinstance(n, str) and n in ids]
        labels[category["id"]] = (
            found[0]
            if found
            else f"category {category['id']} ({category.get('name')!r}) names no "
            f"label of {space.name!r}"
        )
    return labels


def _segments(
    entry: dict[str, Any], labels: dict[int, int | str]
) -> dict[int, int] | str:
    infos = entry.get("segments_info")
    if not isinstance(infos, list):
        return f"expected 'segments_info' to be a list, got {type(infos).__name__}"
    segments: dict[int, int] = {}
    for number, info in enumerate(infos):
        segment = info.get("id") if isinstance(info, dict) else None
        category = info.get("category_id") if isinstance(info, dict) else None
        if not isinstance(segment, int) or not isinstance(category, int):
            return (
                f"segments_info[{number}]: expected integer 'id' and 'category_id', "
                f"got {info!r}"
            )
        label = labels.get(category, f"category_id {category} is not a category")
        if isinstance(label, str):
            return f"segments_info[{number}] (segment {segment}): {label}"
        if segment in segments:
            return f"segments_info[{number}]: duplicate segment id {segment}"
        segments[segment] = label
    return segments


def _label_space(
    root: Path, version: str, config: str | os.PathLike[str] | None
) -> LabelSpace:
    builtin = builtin_label_space(f"vistas-{version}")
    path = Path(config) if config is not None else root / f"config_{version}.json"
    if config is None and not path.is_file():
        return builtin
    data, locate = load_document(path)
    entries = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FormatError(f"{path}: expected a JSON object with a 'labels' list")
    labels, void = [], set()
    for number, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            line = locate(("labels", number))
            raise FormatError(
                f"{path}:{line}: labels[{number}]: expected an object with a "
                f"string 'name', got {entry!r}"
            )
        if name == _VOID:
            void.add(number)
            continue
        labels.append((number, name, entry.get("readable"), entry.get("color")))
    names = tuple(name for _, name, _, _ in labels)
    if names == builtin.names and void == set(builtin.void):
        return builtin
    try:
        return LabelSpace(
            name=f"vistas-{version}-config",
            labels=tuple(_label(*fields) for fields in labels),
            void=frozenset(void),
        )
    except (LabelSpaceError, ValidationError) as err:
        raise FormatError(f"{path}: not a valid label list: {err}") from err


def _label(label_id: int, name: str, readable: object, color: object) -> Label:
    return Label(
        id=label_id,
        name=name,
        color=tuple(color) if isinstance(color, list) and len(color) == 3 else None,
        category=name.rsplit("--", 1)[0] if "--" in name else None,
        synonyms=(readable,) if isinstance(readable, str) and readable != name else (),
    )
