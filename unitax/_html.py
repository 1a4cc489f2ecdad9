"""HTML rendering of a taxonomy for Jupyter (`Taxonomy._repr_html_`).

Self-contained: inline styles only, no scripts, so it renders the same in
Jupyter, VS Code and static HTML exports. Every name is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

from unitax.taxonomy import Taxonomy

__all__ = ["taxonomy_html"]

_BADGE_COLORS = {
    "concept": "#1f6feb",
    "remainder": "#6e7781",
    "intersection": "#d97706",
}
_BADGE = (
    '<span style="background:{color};color:#fff;border-radius:3px;'
    'padding:0 4px;margin-left:4px;font-size:0.8em">{text}</span>'
)
_NOTE = '<span style="color:#6e7781;margin-left:4px;font-size:0.85em">{text}</span>'
_UL = '<ul style="list-style:none;margin:0;padding-left:1.2em">'
_OPEN_BELOW = 100  # taxonomies this small render fully expanded


def taxonomy_html(taxonomy: Taxonomy, *, max_items: int = 2000) -> str:
    """Render ``taxonomy`` as nested, collapsible HTML lists.

    A summary line (nodes, leaves, depth, roots, multi-parent nodes) comes
    first, then the DAG from its roots: inner nodes are ``<details>``, leaves
    plain items. Node kinds other than ``"label"`` get a coloured badge. A
    node with several parents is marked, and its subtree is shown under its
    first parent only ("see above" elsewhere).

    Parameters
    ----------
    taxonomy
        The taxonomy to draw.
    max_items
        Render at most this many list items, then say how many nodes were
        left out.

    Returns
    -------
    str
        An HTML fragment.

    Examples
    --------
    >>> taxonomy = ux.Taxonomy([("vehicle", "car"), ("vehicle", "bus")])
    >>> text = taxonomy_html(taxonomy)
    >>> "3 nodes" in text and "2 leaves" in text and "<details" in text
    True
    >>> "car" in taxonomy_html(ux.Taxonomy([("a", "<car>")]))
    True
    >>> "<car>" in taxonomy_html(ux.Taxonomy([("a", "<car>")]))
    False
    """
    if max_items < 0:
        raise ValueError(f"max_items must be >= 0, got {max_items!r}")
    depth = _depths(taxonomy)
    multi = sum(len(taxonomy.parents(name)) > 1 for name in taxonomy.names)
    roots = taxonomy.roots()
    summary = (
        f"<b>Taxonomy</b>: {len(taxonomy)} nodes · {len(taxonomy.leaves)} leaves · "
        f"depth {max(depth.values(), default=0)} · {len(roots)} roots · "
        f"{multi} multi-parent nodes"
    )
    body = "".join(_tree(taxonomy, roots, max_items))
    return (
        '<div style="font-family:sans-serif;font-size:13px;line-height:1.4">'
        f"<div>{summary}</div>{_UL}{body}</ul></div>"
    )


def _depths(taxonomy: Taxonomy) -> dict[str, int]:
    """Longest path from a root, in one pass over the topological order."""
    depth: dict[str, int] = {}
    for name in taxonomy.names:
        depth[name] = max((depth[p] + 1 for p in taxonomy.parents(name)), default=0)
    return depth


def _label(taxonomy: Taxonomy, name: str) -> str:
    text = html.escape(name)
    kind = taxonomy.kind(name)
    if kind in _BADGE_COLORS:
        text += _BADGE.format(color=_BADGE_COLORS[kind], text=kind)
    parents = taxonomy.parents(name)
    if len(parents) > 1:
        text += _NOTE.format(text=f"⋔ {len(parents)} parents")
    if not taxonomy.is_leaf(name):
        count = len(taxonomy.leaves_of(name))
        text += _NOTE.format(text=f"{count} {'leaf' if count == 1 else 'leaves'}")
    return text


def _tree(taxonomy: Taxonomy, roots: tuple[str, ...], max_items: int) -> Iterator[str]:
    """Yield the HTML of the list items, depth first, without recursion."""
    opened = " open" if len(taxonomy) <= _OPEN_BELOW else ""
    shown: set[str] = set()
    items = 0
    # A stack of either node names to render or closing tags to emit.
    stack: list[tuple[str, str]] = [("node", root) for root in reversed(roots)]
    while stack:
        what, value = stack.pop()
        if what == "close":
            yield value
            continue
        if items >= max_items:
            left = len(taxonomy) - len(shown)
            yield f"<li>{_NOTE.format(text=f'… {left} more nodes not shown')}</li>"
            # close the lists still open, skip the rest
            yield from (value for what, value in reversed(stack) if what == "close")
            return
        items += 1
        if value in shown:
            see_above = _NOTE.format(text="(see above)")
            yield f"<li>{_label(taxonomy, value)}{see_above}</li>"
            continue
        shown.add(value)
        children = taxonomy.children(value)
        if not children:
            yield f"<li>{_label(taxonomy, value)}</li>"
            continue
        yield f"<li><details{opened}><summary>{_label(taxonomy, value)}</summary>{_UL}"
        stack.append(("close", "</ul></details></li>"))
        stack.extend(("node", child) for child in reversed(children))
