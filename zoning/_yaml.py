"""Read a YAML file into plain data, turning every failure into one line of the caller's error."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ZoningError


def load_yaml(path: Path, error: type[ZoningError], label: str) -> object:
    """``yaml.safe_load`` of ``path``; a missing, unreadable or invalid file raises ``error``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{label} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(
            f"cannot read {label} {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise error(f"{path}: not valid YAML{at}" + (f": {problem}" if problem else "")) from None
