"""Read a YAML file into plain data, turning every failure into one line of the caller's error."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ZoningError


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
                f"key {key!r} is written twice in one mapping (first on line {seen + 1}); "
                "YAML would silently keep the last",
                key_node.start_mark,
            )
        first[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


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
        decoded, is not valid YAML (with the line number when PyYAML gives one), or writes a
        key twice in one mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{label} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(
            f"cannot read {label} {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise error(f"{path}: not valid YAML{at}" + (f": {problem}" if problem else "")) from None
