"""What a running service holds: the catalog's layers read and indexed once, and the rules."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger("zoning.service")


def _sha256(path: Path | None) -> str | None:
    """The SHA-256 of a file, or None (the bundled defaults are hashed by their own paths)."""
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class ServiceState:
    """The layers and rules a service screens against, loaded and indexed once.

    Build it with :meth:`load`.  :meth:`screen` is safe to call from several threads: the
    screening itself runs one at a time in a process (it is CPU-bound and the indexes are
    shared); run more processes (``zoning serve --workers N``) for more throughput.

    Attributes
    ----------
    layers : zoning.layerset.LayerSet
        The catalog as in force on the day the service started (other days share its layers).
    rules : zoning.rules.RuleSet
        The whole rule set (every version; :meth:`rules_at` gives a day's).
    catalog_path, rules_path : str, optional
        What was given (None: the bundled demonstration data).
    load_seconds : float
        How long reading and indexing took at start.
    """

    layers: Any
    rules: Any
    catalog_path: str | None = None
    rules_path: str | None = None
    load_seconds: float = 0.0
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _days: dict[date, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        catalog: str | Path | None = None,
        rules: str | Path | None = None,
        *,
        warm: bool = True,
    ) -> ServiceState:
        """Read the catalog's layers and the rules, and build the layers' indexes.

        Parameters
        ----------
        catalog, rules : path, optional
            Default: the bundled demonstration catalog and rule set.
        warm : bool
            Build every layer's overlay index now (a first request then costs no more than
            any other).

        Returns
        -------
        ServiceState

        Raises
        ------
        CatalogError, LayerReadError, RulesError
            As :func:`zoning.load_catalog` and :func:`zoning.load_rules`.
        """
        from ..layerset import load_catalog
        from ..rules import load_rules

        t0 = time.perf_counter()
        layers = load_catalog(str(catalog) if catalog is not None else None)
        rule_set = load_rules(str(rules) if rules is not None else None)
        state = cls(
            layers=layers,
            rules=rule_set,
            catalog_path=str(catalog) if catalog is not None else None,
            rules_path=str(rules) if rules is not None else None,
        )
        if warm:
            state.warm()
        state.load_seconds = time.perf_counter() - t0
        log.info("layers loaded and indexed in %.1f s (%d layers)", state.load_seconds, len(layers))
        return state

    def warm(self) -> None:
        """Screen one point so that every layer is read and its indexes are built."""
        from ..screening import screen

        with self._lock:
            screen(
                points=[(121.47, 31.23)],
                crs="EPSG:4326",
                layers=self.layers,
                rules=self.rules.in_force(self.layers.as_of),
                as_of=self.layers.as_of,
            )

    @property
    def is_demonstration(self) -> bool:
        """Whether the layers or the rules are the demonstration data."""
        return bool(self.layers.is_demonstration or self.rules.is_demonstration)

    def layers_at(self, day: date) -> Any:
        """The catalog as in force on ``day``, sharing the loaded layers and indexes."""
        with self._lock:
            if day not in self._days:
                self._days[day] = self.layers.at(day)
            return self._days[day]

    def rules_at(self, day: date) -> Any:
        """The rules in force on ``day`` (:meth:`zoning.rules.RuleSet.in_force`)."""
        return self.rules.in_force(day)

    def screen(self, sites: Any, *, as_of: object = None, **options: Mapping[str, Any]):
        """Screen ``sites`` as ``zoning screen`` would, against the warm layers.

        Parameters
        ----------
        sites : zoning.sites.Sites or anything :func:`zoning.screen` takes
            The sites, already read (attributes included).
        as_of : date, datetime or ``"YYYY-MM-DD"``, optional
            Default: today in Asia/Shanghai.
        **options
            Passed to :func:`zoning.screen` (``search_radius_m``, ``pieces``, ``rings``,
            ``progress`` ...).

        Returns
        -------
        zoning.ScreeningResult
        """
        from ..dates import as_of_date
        from ..screening import screen

        day = as_of_date(as_of, what="as_of")
        layers = self.layers_at(day)
        rule_set = self.rules_at(day)
        with self._lock:
            return screen(sites, layers, rules=rule_set, as_of=day, **options)
