"""The terminal claims table."""
from __future__ import annotations

import textwrap

from numerics.report.rows import Row
from theory.claims import CLAIMS

COLUMNS = (("claim", 5), ("statement", 20), ("network", 14), ("setting", 24), ("theory predicts", 28),
           ("measured", 32), ("worst", 7), ("verdict", 7), ("s", 5))


def _cells(row: Row) -> list[str]:
    return [row.claim, CLAIMS[row.claim].short, row.network, row.setting, row.predicted, row.measured,
            f"{row.worst:.2g}", row.verdict, f"{row.seconds:.1f}"]


def format_table(rows: list[Row]) -> str:
    """Rows as a wrapped, fixed-width text table (cells wrap inside their column)."""
    lines = [" | ".join(name.ljust(w) for name, w in COLUMNS), "-+-".join("-" * w for _, w in COLUMNS)]
    for row in rows:
        wrapped = [textwrap.wrap(cell, w) or [""] for cell, (_, w) in zip(_cells(row), COLUMNS)]
        for k in range(max(map(len, wrapped))):
            lines.append(" | ".join((cell[k] if k < len(cell) else "").ljust(w)
                                    for cell, (_, w) in zip(wrapped, COLUMNS)).rstrip())
        lines.append("")
    held = sum(r.verdict == "holds" for r in rows)
    failed = sum(r.verdict == "fails" for r in rows)
    lines.append(f"{held} holds, {failed} fails, {len(rows) - held - failed} not run")
    lines.append("Each claim's statement, derivation and the regimes where it does not hold: docs/theory.md#<claim>; "
                 "each row's pass rule in full: claims.json, field 'rule'.")
    return "\n".join(lines)
