"""Build schedule TOML from Python data, so each test states only what it changes."""

from __future__ import annotations

import copy
import json
from datetime import date, time
from decimal import Decimal
from pathlib import Path

BASE: dict = {
    "timezone": "Europe/Berlin",
    "profile": {"age": 62, "sex": "female", "dietary_calcium_mg": 700},
    "meals": [
        {"name": "breakfast", "at": "07:30", "late_minutes": 90, "contains_fat": False},
        {"name": "lunch", "at": "12:30", "late_minutes": 120, "contains_fat": True},
        {"name": "dinner", "at": "18:30", "late_minutes": 120, "contains_fat": True},
    ],
    "compartments": [
        {
            "id": "d3",
            "hopper": 0,
            "supplement": "vitamin-d3",
            "strength": 2000,
            "unit": "IU",
            "capacity": 90,
            "low_stock": 10,
        },
        {
            "id": "k2",
            "hopper": 1,
            "supplement": "vitamin-k2",
            "form": "MK-7",
            "strength": 100,
            "unit": "µg",
            "capacity": 90,
            "low_stock": 10,
        },
        {
            "id": "ca",
            "hopper": 2,
            "supplement": "calcium",
            "form": "carbonate",
            "strength": 250,
            "unit": "mg",
            "capacity": 120,
            "low_stock": 14,
        },
    ],
    "doses": [
        {"id": "ca-breakfast", "compartment": "ca", "pills": 1, "meal": "breakfast"},
        {"id": "d3-lunch", "compartment": "d3", "pills": 1, "meal": "lunch"},
        {"id": "k2-lunch", "compartment": "k2", "pills": 1, "meal": "lunch"},
        {"id": "ca-dinner", "compartment": "ca", "pills": 1, "meal": "dinner"},
    ],
}
"""The bone-health schedule: clean, no findings."""


def base() -> dict:
    return copy.deepcopy(BASE)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal) and not value.is_finite():
        return "nan" if value.is_nan() else "-inf" if value < 0 else "inf"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(entry) for entry in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string for plain text


def _is_table_array(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(document: dict, prefix: str = "") -> str:
    lines = [
        f"{key} = {_value(value)}"
        for key, value in document.items()
        if not isinstance(value, dict) and not _is_table_array(value)
    ]
    for key, value in document.items():
        if isinstance(value, dict):
            lines += ["", f"[{prefix}{key}]", to_toml(value, f"{prefix}{key}.")]
        elif _is_table_array(value):
            for entry in value:
                lines += ["", f"[[{prefix}{key}]]", to_toml(entry, f"{prefix}{key}.")]
    return "\n".join(lines)


def write(tmp_path: Path, document: dict, name: str = "schedule") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(document) + "\n", encoding="utf-8")
    return path


def compartment(document: dict, ident: str) -> dict:
    return next(comp for comp in document["compartments"] if comp["id"] == ident)


def dose(document: dict, ident: str) -> dict:
    return next(entry for entry in document["doses"] if entry["id"] == ident)
