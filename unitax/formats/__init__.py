"""Readers (and writers) of annotation formats: one module per format.

Each ``read_<format>`` turns a dataset on disk into a `unitax.annotations.Dataset`:
its label space and its samples, in the annotation types of
`unitax.annotations`. ``READERS`` maps format names to readers; it is a plain
dict literal, not a plugin registry.
"""

from __future__ import annotations

__all__: list[str] = []
