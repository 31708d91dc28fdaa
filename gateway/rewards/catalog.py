"""What points buy: items of ``kind: catalog`` files (DESIGN §5), checked with line numbers.

.. code-block:: yaml

    kind: catalog
    id: rewards
    items:
      - {id: air50, label: {en: "KES 50 airtime", sw: "Salio KES 50"}, points: 100,
         airtime: {amount: 50, currency: KES}}
      - {id: coffee, label: "Coffee voucher", points: 40,
         voucher: {codes: coffee-codes.txt}}       # one code per line, beside this file

Item ids are unique across every catalog of the folder (a claim). An airtime item's currency
must be one Jumbe knows, its amount at least AT's minimum (KES 5) and at most the default
maximum; at redemption the currency must match the number's country.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.menu.findings import Finding
from gateway.menu.yamlsource import Locations, PathKey
from gateway.rewards.amounts import amount_problem

TOP_LEVEL = ("kind", "id", "description", "items")
ITEM_FIELDS = ("id", "label", "points", "airtime", "voucher")
ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MAX_CODES = 100_000
MAX_CODE = 64


@dataclass(frozen=True, slots=True)
class Airtime:
    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class Voucher:
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    catalog: str
    labels: dict[str, str]
    points: int
    fulfilment: Airtime | Voucher

    @property
    def kind(self) -> str:
        return "airtime" if isinstance(self.fulfilment, Airtime) else "voucher"

    def label(self, language: str) -> str:
        """The label in ``language``, else English, else the first one written."""
        found = self.labels.get(language) or self.labels.get("en")
        return found or next(iter(self.labels.values()))


@dataclass(frozen=True, slots=True)
class Catalog:
    id: str
    items: tuple[Item, ...]


def parse_catalog(
    path: str, data: dict[str, Any], locations: Locations
) -> tuple[Catalog | None, list[Finding], list[tuple[PathKey, str]]]:
    """Check one catalog file: (the catalog or ``None`` on errors, findings, item ids with where
    they are written, for the claims)."""
    findings: list[Finding] = []

    def error(key: PathKey, message: str) -> None:
        findings.append(locations.finding(key, message))

    for name in data:
        if name not in TOP_LEVEL:
            error((name,), f"unknown field {name!r} (allowed: {', '.join(TOP_LEVEL)})")
    catalog_id = data.get("id")
    if not isinstance(catalog_id, str) or not ID.match(catalog_id):
        error(("id",) if "id" in data else ("kind",), "a catalog needs an id (letters, digits, "
              "_ . -)")  # fmt: skip
        catalog_id = ""
    raw_items = data.get("items")
    items: list[Item] = []
    ids: list[tuple[PathKey, str]] = []
    if not isinstance(raw_items, list) or not raw_items:
        error(("items",) if "items" in data else ("kind",), "a catalog needs a list of items")
        raw_items = []
    for i, raw in enumerate(raw_items):
        key: PathKey = ("items", i)
        item = _item(path, key, raw, catalog_id, error)
        if item is not None:
            items.append(item)
            ids.append(((*key, "id"), item.id))
    if any(f.severity == "error" for f in findings):
        return None, sorted(findings), ids
    return Catalog(catalog_id, tuple(items)), sorted(findings), ids


def _item(path: str, key: PathKey, raw: Any, catalog: str, error: Any) -> Item | None:
    if not isinstance(raw, dict):
        error(key, "expected {id, label, points, airtime | voucher}")
        return None
    for name in raw:
        if name not in ITEM_FIELDS:
            error((*key, name), f"unknown field {name!r} (allowed: {', '.join(ITEM_FIELDS)})")
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not ID.match(item_id):
        error((*key, "id") if "id" in raw else key, "an item needs an id (letters, digits, _ . -)")
        return None
    labels = _labels((*key, "label"), raw.get("label"), error) if "label" in raw else None
    if "label" not in raw:
        error(key, f"item {item_id!r} needs a label")
    points = raw.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        error((*key, "points") if "points" in raw else key,
              f"item {item_id!r}: points must be a positive whole number")  # fmt: skip
        points = None
    ways = [name for name in ("airtime", "voucher") if name in raw]
    if len(ways) != 1:
        error(key, f"item {item_id!r} needs exactly one of airtime or voucher")
        return None
    if ways == ["airtime"]:
        fulfilment: Airtime | Voucher | None = _airtime((*key, "airtime"), raw["airtime"], error)
    else:
        fulfilment = _voucher(path, (*key, "voucher"), raw["voucher"], error)
    if not labels or points is None or fulfilment is None:
        return None
    return Item(item_id, catalog, labels, points, fulfilment)


def _labels(key: PathKey, raw: Any, error: Any) -> dict[str, str] | None:
    if isinstance(raw, str) and raw.strip():
        return {"en": raw}
    if isinstance(raw, dict) and raw:
        labels = {}
        for language, text in raw.items():
            if not isinstance(language, str) or not LANGUAGE.match(language):
                error((*key, language), f"{language!r} is not a language code (en, sw…)")
            elif not isinstance(text, str) or not text.strip():
                error((*key, language), "expected text")
            else:
                labels[language] = text
        return labels or None
    error(key, "expected text, or {language: text}")
    return None


def _airtime(key: PathKey, raw: Any, error: Any) -> Airtime | None:
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        error(key, "airtime: expected {amount: 50, currency: KES}")
        return None
    amount, currency = raw["amount"], raw["currency"]
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        error((*key, "amount"), "amount: expected a number")
        return None
    if not isinstance(currency, str):
        error((*key, "currency"), "currency: expected a code such as KES")
        return None
    problem = amount_problem(float(amount), currency)
    if problem is not None:
        error((*key, "currency") if "currency" in problem else (*key, "amount"), problem)
        return None
    return Airtime(float(amount), currency)


def _voucher(path: str, key: PathKey, raw: Any, error: Any) -> Voucher | None:
    if not isinstance(raw, dict) or set(raw) != {"codes"} or not isinstance(raw["codes"], str):
        error(key, "voucher: expected {codes: <file of codes, one per line>}")
        return None
    where = Path(path).parent / raw["codes"]
    try:
        lines = where.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        error((*key, "codes"), f"cannot read {where}: {type(exc).__name__}")
        return None
    codes = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not codes:
        error((*key, "codes"), f"{where} holds no codes")
        return None
    if len(codes) > MAX_CODES or any(len(c) > MAX_CODE or "\n" in c for c in codes):
        error((*key, "codes"), f"{where}: at most {MAX_CODES} codes of {MAX_CODE} characters")
        return None
    if len(set(codes)) != len(codes):
        error((*key, "codes"), f"{where} lists a code twice (each code is given out once)")
        return None
    return Voucher(tuple(codes))


class Catalogs:
    """The catalogs being served (swapped as a whole on every reload of the content folder)."""

    def __init__(self, catalogs: list[Catalog] | None = None) -> None:
        self.catalogs: dict[str, Catalog] = {}
        self.items: dict[str, Item] = {}
        self.replace(catalogs or [])

    def replace(self, catalogs: list[Catalog]) -> None:
        by_id = {c.id: c for c in catalogs}
        self.catalogs, self.items = by_id, {i.id: i for c in catalogs for i in c.items}

    def item(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def listing(self, catalog_id: str | None = None) -> list[Item]:
        """Items of one catalog (or of all), in file order."""
        if catalog_id is not None:
            found = self.catalogs.get(catalog_id)
            return list(found.items) if found else []
        return list(self.items.values())
