"""PNG boundary: read label images safely, write targets fast.

Label PNGs are checked before they are decoded: the header gives the size and
mode, so an oversized or wrongly typed file is refused without allocating its
pixels. Values are never rescaled: a 16-bit PNG gives ``uint16`` ids, a
palette PNG its palette *indices* (which are the ids in VOC and Vistas).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from unitax.errors import FormatError

__all__ = ["MAX_PIXELS", "image_shape", "read_label_png"]

MAX_PIXELS = 200_000_000
"""Largest label image read by default (about 14,000 x 14,000 pixels)."""

_ID_MODES = {
    "L": np.uint8,
    "P": np.uint8,
    "I;16": np.uint16,
    "I": np.int32,
    "1": np.uint8,
}


def image_shape(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(height, width)`` of an image, from its header only.

    Raises
    ------
    FormatError
        If the file is missing or not an image PIL can open.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, Image.DecompressionBombError) as err:
        raise FormatError(f"{path}: cannot read image header: {err}") from err
    return height, width


def read_label_png(
    path: str | os.PathLike[str],
    *,
    encoding: Literal["ids", "rgb"] = "ids",
    shape: tuple[int, int] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> NDArray[Any]:
    """Read a label PNG as an integer array of shape ``(H, W)``.

    Parameters
    ----------
    path
        The PNG file.
    encoding
        ``"ids"``: a single-channel image (L, P, I;16, I, 1); ``"rgb"``: an
        RGB image whose ids are ``R + 256 G + 256² B`` (returned as uint32).
    shape
        If given, the ``(height, width)`` the file must have.
    max_pixels
        Refuse larger images before decoding them.

    Raises
    ------
    FormatError
        If the file cannot be read, has the wrong mode or size, or is larger
        than ``max_pixels``; the message names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise FormatError(
                    f"{path}: image must have at most {max_pixels} pixels, "
                    f"got {width} x {height} = {width * height}"
                )
            if shape is not None and (height, width) != tuple(shape):
                raise FormatError(
                    f"{path}: expected an image of (height, width) {tuple(shape)}, "
                    f"got {(height, width)}"
                )
            if encoding == "rgb":
                if image.mode not in ("RGB", "RGBA"):
                    raise FormatError(
                        f"{path}: expected an RGB panoptic PNG, got mode {image.mode!r}"
                    )
                rgb: NDArray[np.uint32] = np.asarray(image.convert("RGB"), np.uint32)
                green, blue = (
                    rgb[..., 1] * np.uint32(256),
                    rgb[..., 2] * np.uint32(65536),
                )
                ids: NDArray[np.uint32] = rgb[..., 0] + green + blue
                return ids
            dtype = _ID_MODES.get(image.mode)
            if dtype is None:
                raise FormatError(
                    f"{path}: expected a single-channel label PNG (modes "
                    f"{sorted(_ID_MODES)}), got mode {image.mode!r}"
                )
            if image.mode == "I;16":
                return np.asarray(image, dtype=np.uint16)
            return np.asarray(image, dtype=dtype)
    except FormatError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise FormatError(f"{path}: cannot read PNG: {err}") from err
