"""Run report entries, print the claims table, write claims.json (the main job's engine)."""
from __future__ import annotations

import json
import platform
import time
from importlib import import_module

import numpy as np
import sympy
import torch

from numerics.progress import bar
from numerics.report.rows import Context, Row
from numerics.threads import one_thread
from theory.claims import CLAIMS

#: Architecture -> module of report entries (each module has ENTRIES = [(claim, arch, fn)]).
ARCHITECTURES = {"linear": "numerics.report.linear", "relu": "numerics.report.relu", "resnet18": "numerics.report.resnet",
                 "margins": "numerics.report.margins", "general": "numerics.report.general"}


def entries(archs=None, claims=None):
    """The selected (claim, arch, fn) triples, in CLAIMS order then architecture order."""
    archs = list(ARCHITECTURES) if archs is None else archs
    for a in archs:
        if a not in ARCHITECTURES:
            raise ValueError(f"--arch must be among {sorted(ARCHITECTURES)}, got {a!r}")
    for c in claims or []:
        if c not in CLAIMS:
            raise ValueError(f"--claims must be among {sorted(CLAIMS)}, got {c!r}")
    selected = [e for a in archs for e in import_module(ARCHITECTURES[a]).ENTRIES]
    order = {c: i for i, c in enumerate(CLAIMS)}
    return sorted((e for e in selected if claims is None or e[0] in claims), key=lambda e: order[e[0]])


def entry_id(fn) -> str:
    """"<architecture key>.<function name>" of a report entry: unique per entry, and the same whether the entry
    held, failed or raised (numerics.report.compare matches rows on it)."""
    modules = {module: key for key, module in ARCHITECTURES.items()}
    return f"{modules.get(fn.__module__, fn.__module__)}.{fn.__name__}"


def run(ctx: Context, archs=None, claims=None, progress: bool | None = None) -> list[Row]:
    """Run every selected entry; an entry that raises becomes a "not run" row with the error."""
    rows = []
    for claim, arch, fn in bar(entries(archs, claims), progress=progress, desc="claims", leave=True):
        start = time.perf_counter()
        try:
            with one_thread():
                row = fn(ctx)
        except Exception as error:  # noqa: BLE001 - a report shows a broken entry, it does not die
            row = Row(claim, arch, arch, "", "", f"error: {type(error).__name__}: {error}", float("nan"), "not run")
        row.seconds = round(time.perf_counter() - start, 2)
        row.entry = entry_id(fn)
        rows.append(row)
    return rows


def versions() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "sympy": sympy.__version__,
            "torch": torch.__version__}


def to_json(rows: list[Row], ctx: Context, archs=None, claims=None) -> dict:
    """The claims.json document: rows with their series, plus versions, seed, device, mode and the
    --arch/--claims selection (None: all)."""
    return {"versions": versions(), "mode": "full" if ctx.full else "quick", "seed": ctx.seed,
            "device": ctx.device, "selection": {"arch": archs, "claims": claims}, "rows": [r.as_json() for r in rows]}


def write_json(document: dict, path) -> None:
    with open(path, "w") as fh:
        json.dump(document, fh, indent=2, sort_keys=True, default=float)
