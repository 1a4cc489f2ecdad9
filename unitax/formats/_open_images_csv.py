"""Reading the Open Images annotation CSVs into pending annotations per image.

Private to `unitax.formats.open_images`, whose docstring documents the
format. `_csv_rows` yields the wanted columns of each row; the image
description CSVs give images their split (`_read_descriptions`); `_Rows`
checks box, image-level label and segmentation rows and appends what they
say to each image's `_Image`, before image sizes are known. Turning those
into `Box`, `Tag` and `Mask` annotations happens in `read_open_images`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unitax.annotations import Tag
from unitax.errors import FormatError
from unitax.formats._common import Ledger

_SPLITS = ("train", "validation", "test")
_BOX = ("ImageID", "LabelName", "Confidence", "XMin", "XMax", "YMin", "YMax")
_LABEL = ("ImageID", "LabelName", "Confidence")
_MASK = ("MaskPath", "ImageID", "LabelName")
_DESCRIPTION = ("ImageID", "Subset")


@dataclass
class _Image:
    """What the CSVs say about one image, gathered before sizes are known."""

    split: str
    annotations: list[tuple[str, Any]] = field(default_factory=list)


def _split_of(name: str) -> str:
    tokens = name.split("-")
    if tokens[0].startswith("oidv"):
        tokens = tokens[1:]
    return tokens[0] if tokens and tokens[0] in _SPLITS else ""


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """``(line, [value of each column])`` per row; `FormatError` for the file."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            rows = csv.reader(file)
            header = next(rows, None)
            missing = [c for c in columns if header is None or c not in header]
            if header is None or missing:
                raise FormatError(
                    f"{path}:1: expected the columns {missing}, got {header}"
                )
            index = [header.index(c) for c in columns]
            width = len(header)
            for row in rows:
                if not row:
                    continue
                if len(row) != width:
                    yield rows.line_num, [f"\0{len(row)} fields, expected {width}"]
                    continue
                yield rows.line_num, [row[i] for i in index]
    except UnicodeDecodeError as err:
        raise FormatError(f"{path}: expected UTF-8 text, got {err.reason}") from err
    except csv.Error as err:
        raise FormatError(f"{path}: invalid CSV: {err}") from err
    except OSError as err:
        raise FormatError(f"{path}: cannot read file: {err.strerror}") from err


def _read_descriptions(path: Path, found: dict[str, _Image], ledger: Ledger) -> None:
    """Image description rows give each image its split; they hold no annotation."""
    for line, row in _csv_rows(path, _DESCRIPTION):
        if row[0].startswith("\0"):
            ledger.skip(f"{path}:{line}", f"malformed row: {row[0][1:]}", count=0)
            continue
        image_id, split = row
        if split not in _SPLITS:
            ledger.skip(
                f"{path}:{line}",
                f"Subset must be one of {_SPLITS}, got {split!r}",
                count=0,
            )
            continue
        found.setdefault(image_id, _Image(split))


class _Rows:
    """Turns annotation rows into pending annotations of their images."""

    def __init__(
        self, by_mid: dict[str, int], ledger: Ledger, found: dict[str, _Image]
    ) -> None:
        self.by_mid, self.ledger, self.found = by_mid, ledger, found

    def read(self, path: Path, columns: tuple[str, ...], handle: Any) -> None:
        split = _split_of(path.name)
        for line, row in _csv_rows(path, columns):
            self.ledger.found()
            where = f"{path}:{line}"
            try:
                if row[0].startswith("\0"):
                    raise FormatError(f"malformed row: {row[0][1:]}")
                image_id, label = self._ids(row, columns)
                pending = handle(row, label, f"{path.name}:{line}")
            except FormatError as err:
                self.ledger.skip(where, str(err))
                continue
            image = self.found.setdefault(image_id, _Image(split))
            if not image.split:
                image.split = split
            image.annotations.append((where, pending))

    def _ids(self, row: list[str], columns: tuple[str, ...]) -> tuple[str, int]:
        image_id = row[columns.index("ImageID")]
        mid = row[columns.index("LabelName")]
        if (
            not image_id
            or "/" in image_id
            or "\\" in image_id
            or image_id in (".", "..")
        ):
            raise FormatError(f"ImageID must be a plain name, got {image_id!r}")
        label = self.by_mid.get(mid)
        if label is None:
            raise FormatError(f"LabelName {mid!r} is not the MID of a label")
        return image_id, label

    @staticmethod
    def box(row: list[str], label: int, key: str) -> Any:
        confidence = _number(row[2], "Confidence")
        if not 0 <= confidence <= 1:
            raise FormatError(f"Confidence must be in 0..1, got {row[2]!r}")
        x0, x1, y0, y1 = (_number(v, c) for v, c in zip(row[3:], _BOX[3:], strict=True))
        if not (0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1):
            raise FormatError(
                "box fractions must satisfy 0 <= XMin <= XMax <= 1 and 0 <= YMin <= "
                f"YMax <= 1, got {row[3:]}"
            )
        return ("box", (x0, y0, x1, y1), label, key)

    @staticmethod
    def tag(row: list[str], label: int, key: str) -> Any:
        confidence = _number(row[2], "Confidence")
        if confidence not in (0, 1):
            raise FormatError(
                f"Confidence must be 1 (present) or 0 (verified absent), got {row[2]!r}"
            )
        return Tag(label, positive=confidence == 1, key=key)

    @staticmethod
    def mask(row: list[str], label: int, key: str) -> Any:
        name = row[0]
        if not name.endswith(".png") or "/" in name or "\\" in name:
            raise FormatError(f"MaskPath must be a PNG file name, got {name!r}")
        return ("mask", name, label, name)


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{column} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise FormatError(f"{column} must be finite, got {text!r}")
    return value
