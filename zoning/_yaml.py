"""Read a YAML file into plain data, turning every failure into one line of the caller's error."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ZoningError, clip, quote

#: Largest YAML file read (bytes): a catalog, rules or targets file is a few hundred kB at most.
MAX_YAML_BYTES = 5_000_000
#: Most nodes a YAML document may hold once its aliases are expanded ("billion laughs" guard).
MAX_YAML_NODES = 1_000_000
#: Deepest nesting of collections a YAML document may have (a catalog or rules file needs ~10).
#: Held by both parsers alike: libyaml stops at 1,000 levels, PyYAML's pure-Python composer at
#: Python's recursion limit (a few hundred).
MAX_YAML_DEPTH = 200


class _UniqueKeyLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key written twice in one mapping.

    PyYAML silently keeps the last of two equal keys, so a rule with ``verdict: prohibited``
    and, further down, ``verdict: permitted`` would load as permitted, and a catalog entry with
    two ``source:`` lines would read the second file without a word.
    """


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    first: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            seen = first.get(key)
        except TypeError:  # an unhashable key: let the base constructor report it
            continue
        if seen is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {quote(key)} is written twice in one mapping (first on line {seen + 1}); "
                "YAML would silently keep the last",
                key_node.start_mark,
            )
        first[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


class _AliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond :data:`MAX_YAML_NODES` nodes, or refer to
    themselves."""


class _TooDeep(yaml.YAMLError):
    """A document nested deeper than :data:`MAX_YAML_DEPTH` levels."""


class _Bounded:
    """Mixin for a loader: refuse a document whose aliases expand too far, or too deep.

    PyYAML shares the object an alias points to, so loading a "billion laughs" document is
    cheap, but anything that walks the loaded data (validation, a message quoting it) walks
    the expanded tree.  The composed node graph is measured before anything is constructed.
    """

    def get_single_node(self):
        node = super().get_single_node()  # type: ignore[misc]
        if node is not None:
            _check_expansion(node, MAX_YAML_NODES, MAX_YAML_DEPTH)
        return node


class _BoundedLoader(_Bounded, _UniqueKeyLoader):
    """:class:`_UniqueKeyLoader` (pure Python) with the limits of :class:`_Bounded`."""


if getattr(yaml, "__with_libyaml__", False):

    class _CBoundedLoader(_Bounded, yaml.CSafeLoader):
        """:class:`_BoundedLoader` on libyaml's parser (PyYAML's C extension), ~5x faster.

        Only scanning, parsing and composing the nodes run in C; resolving tags (the same
        YAML 1.1 resolver as ``SafeLoader``: ``no`` is False, ``010`` octal, ``1:20``
        sexagesimal) and constructing objects (the same ``SafeConstructor``, the same refusal
        of a key written twice) stay PyYAML's Python code, and the composed nodes are measured
        by the same :func:`_check_expansion`, so both loaders give the same data and refusals.
        """

    _CBoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
    #: The loader :func:`load_yaml` uses: libyaml's parser when PyYAML was built with it.
    _LOADER: type = _CBoundedLoader
else:  # pragma: no cover - a PyYAML without libyaml
    _LOADER = _BoundedLoader


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, limit: int, depth: int = MAX_YAML_DEPTH) -> None:
    """Raise :class:`_AliasBomb` when ``root`` expands to more than ``limit`` nodes, and
    :class:`_TooDeep` when it nests more than ``depth`` levels.

    Depth-first without recursion; each distinct node is measured once (its expanded size and
    height are memoised), so the cost is linear in the composed graph, not in its expansion.
    """
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            children = _children(node)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), limit + 1)
            heights[key] = 1 + max((heights[id(c)] for c in children), default=0)
            if sizes[key] > limit:
                line = node.start_mark.line + 1
                raise _AliasBomb(f"its aliases expand to more than {limit:,} nodes (line {line})")
            if heights[key] > depth:
                raise _TooDeep(f"nested more than {depth} levels deep")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise _AliasBomb(f"an alias refers to itself (line {node.start_mark.line + 1})")
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise _AliasBomb(f"an alias refers to itself (line {child.start_mark.line + 1})")
            if id(child) not in sizes:
                stack.append((child, False))


def load_yaml(path: Path, error: type[ZoningError], label: str) -> object:
    """Safe-load ``path`` (a key written twice is an error); failures raise ``error``.

    Parameters
    ----------
    path : Path
        The YAML file, read as UTF-8.
    error : type of ZoningError
        The exception class raised on every failure (e.g. ``CatalogError``).
    label : str
        What the file is, for the messages (``"catalog"``, ``"rules file"``, ...).

    Returns
    -------
    object
        The loaded data as plain Python objects (``None`` for an empty file).

    Raises
    ------
    ZoningError
        An instance of ``error``, with one line: the file is missing, cannot be read or
        decoded, is larger than :data:`MAX_YAML_BYTES`, is not valid YAML (with the line number
        when PyYAML gives one), writes a key twice in one mapping, nests too deeply, or has
        aliases that expand beyond :data:`MAX_YAML_NODES` nodes.
    """
    try:
        with open(path, "rb") as fh:  # at most one byte past the cap, whatever the file is
            raw = fh.read(MAX_YAML_BYTES + 1)
        text = raw.decode("utf-8") if len(raw) <= MAX_YAML_BYTES else None
    except FileNotFoundError:
        raise error(f"{label} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(
            f"cannot read {label} {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if text is None:
        raise error(f"{path}: {label} larger than {MAX_YAML_BYTES:,} bytes (the limit); not read")
    try:
        return yaml.load(text, Loader=_LOADER)  # SafeLoader's resolver and constructor
    except _AliasBomb as exc:
        raise error(f"{path}: {label} refused: {exc}") from None
    except (_TooDeep, RecursionError):
        raise error(f"{path}: {label} refused: nested too deeply") from None
    except ValueError as exc:  # a constructor's own error, e.g. an integer of 5000 digits
        raise error(
            f"{path}: not valid YAML: {clip(str(exc).splitlines()[0] if str(exc) else '')}"
        ) from None
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own limit
            raise error(f"{path}: {label} refused: nested too deeply") from None
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise error(f"{path}: not valid YAML{at}" + (f": {problem}" if problem else "")) from None
