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

from ..io.postgis import redact_text

log = logging.getLogger("zoning.service")

#: Days whose layer and rule views are kept (cleared beyond; the layers themselves stay read).
_DAYS_KEPT = 64


def _sha256(path: Path | None) -> str | None:
    """The SHA-256 of a file, or None (the bundled defaults are hashed by their own paths)."""
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _within(day: date, start: str | None, end: str | None) -> bool:
    """``start <= day <= end`` on ``YYYY-MM-DD`` texts (None: open)."""
    text = day.isoformat()
    return (start is None or start <= text) and (end is None or text <= end)


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
    _rule_days: dict[date, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        catalog: str | Path | None = None,
        rules: str | Path | None = None,
        *,
        warm: bool = True,
        index_cache: Any = None,
    ) -> ServiceState:
        """Read the catalog's layers and the rules, and build the layers' indexes.

        Parameters
        ----------
        catalog, rules : path, optional
            Default: the bundled demonstration catalog and rule set.
        warm : bool
            Build every layer's overlay index now (a first request then costs no more than
            any other).
        index_cache : IndexCache, path, True or None
            Where prepared layers and indexes persist (see :class:`zoning.layerset.LayerSet`):
            a warm cache makes the start fast; None: none.

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
        layers = load_catalog(
            str(catalog) if catalog is not None else None, index_cache=index_cache
        )
        rule_set = load_rules(str(rules) if rules is not None else None)
        state = cls(
            layers=layers,
            rules=rule_set,
            catalog_path=str(catalog) if catalog is not None else None,
            rules_path=str(rules) if rules is not None else None,
        )
        state.read_all_vintages()
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

    def read_all_vintages(self) -> None:
        """Read every layer of the catalog, also those not in force today (other ``as_of``
        days then read no file during a request)."""
        for entry in self.layers.all_catalog.layers:
            day = entry.valid_from or entry.valid_to or self.layers.as_of
            with self._lock:
                self.layers.at(day)[entry.id]

    def layer_report(self, entry: Any) -> Any:
        """The load report of a catalog layer (read at start), or None.

        Parameters
        ----------
        entry : zoning.catalog.LayerEntry

        Returns
        -------
        zoning.io.LoadReport or None
            None when the layer could not be read.
        """
        day = entry.valid_from or entry.valid_to or self.layers.as_of
        try:
            return self.layers_at(day)[entry.id].report
        except Exception:  # a layer that failed to read: the catalog view says so
            return None

    def layers_info(self, day: date) -> dict[str, Any]:
        """What ``GET /layers`` answers: the catalog, each layer's provenance and validity.

        Parameters
        ----------
        day : datetime.date
            The day whose layers are marked ``in_force``.

        Returns
        -------
        dict
        """
        from .serialize import demonstration_members

        catalog = self.layers.all_catalog
        rows = []
        for entry in catalog.layers:
            report = self.layer_report(entry)
            prov = entry.provenance
            rows.append(
                {
                    "id": entry.id,
                    "kind": entry.kind,
                    "title_zh": entry.title("zh"),
                    "title_en": entry.title("en"),
                    "status": prov.status if prov else "unknown",
                    "demonstration": entry.is_demonstration,
                    "vintage": prov.vintage if prov else None,
                    "source": redact_text(entry.source),
                    "provenance_source": prov.source if prov else None,
                    "licence": prov.licence if prov else None,
                    "valid_from": _iso(entry.valid_from),
                    "valid_to": _iso(entry.valid_to),
                    "in_force": entry.in_force_on(day),
                    "positional_tolerance_m": entry.positional_tolerance_m,
                    "sha256": getattr(report, "sha256", None),
                    "features": getattr(report, "features", None),
                    "input_crs": getattr(report, "input_crs", None),
                }
            )
        return {
            **demonstration_members(any(e.is_demonstration for e in catalog.layers)),
            "as_of": day.isoformat(),
            "catalog": {
                "title": getattr(catalog, "title", None),
                "version": getattr(catalog, "version", None),
                "sha256": _sha256(catalog.path) if catalog.path else None,
            },
            "layers": rows,
        }

    def rules_info(self, day: date) -> dict[str, Any]:
        """What ``GET /rules`` answers: the rule set, its documents and rules with their days.

        Parameters
        ----------
        day : datetime.date
            The day whose documents and rules are marked ``in_force``.

        Returns
        -------
        dict
        """
        from .serialize import demonstration_members

        whole = self.rules.origin
        law = whole.law()
        try:
            not_in_force = set(whole.in_force(day).law()["not_in_force"])
        except Exception:  # no rule in force that day
            not_in_force = {r["id"] for r in law["rules"]}
        lists = {r.id: None for r in whole.rules}
        for access_list in whole.lists:
            lists.update({r.id: access_list.id for r in access_list.rules})
        documents = []
        for doc in law["documents"]:
            full = whole.documents[doc["id"]]
            documents.append(
                {
                    **doc,
                    "title": full.title,
                    "title_en": full.title_en,
                    "number": full.number,
                    "issuer": full.issuer,
                    "date": full.date,
                    "url": full.url,
                    "in_force": _within(day, doc["in_force_from"], doc["in_force_to"]),
                }
            )
        rules = [
            {**r, "list": lists.get(r["id"]), "in_force": r["id"] not in not_in_force}
            for r in law["rules"]
        ]
        return {
            **demonstration_members(whole.is_demonstration),
            "as_of": day.isoformat(),
            "rule_set": {
                "id": whole.id,
                "version": whole.version,
                "title": whole.title,
                "status": whole.status,
                "hash": whole.hash,
                "note": whole.note,
            },
            "rules_in_force": len(rules) - len(not_in_force),
            "documents": documents,
            "lists": [
                {"id": a.id, "parent": a.parent, "title_zh": a.title_zh, "title_en": a.title_en}
                for a in whole.lists
            ],
            "rules": rules,
        }

    @property
    def is_demonstration(self) -> bool:
        """Whether the layers or the rules are the demonstration data."""
        return bool(self.layers.is_demonstration or self.rules.is_demonstration)

    def layers_at(self, day: date) -> Any:
        """The catalog as in force on ``day``, sharing the loaded layers and indexes.

        Parameters
        ----------
        day : datetime.date

        Returns
        -------
        zoning.layerset.LayerSet
        """
        with self._lock:
            if day not in self._days:
                if len(self._days) >= _DAYS_KEPT:  # clients may ask for any day: bounded
                    self._days.clear()
                self._days[day] = self.layers.at(day)
            return self._days[day]

    def rules_at(self, day: date) -> Any:
        """The rules in force on ``day`` (:meth:`zoning.rules.RuleSet.in_force`), kept.

        Parameters
        ----------
        day : datetime.date

        Returns
        -------
        zoning.rules.RuleSet
        """
        with self._lock:
            if day not in self._rule_days:
                if len(self._rule_days) >= _DAYS_KEPT:
                    self._rule_days.clear()
                self._rule_days[day] = self.rules.in_force(day)
            return self._rule_days[day]

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
