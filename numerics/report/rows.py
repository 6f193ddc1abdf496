"""A report row, and the context every report entry receives."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Context:
    """What an entry may vary: ``quick`` or full sizes, the base seed, the torch device."""

    full: bool = False
    seed: int = 0
    device: str = "cpu"


@dataclass
class Row:
    """One verdict: what theory predicts, what was measured, the worst error or trend.

    verdict: "holds", "fails" or "not run". ``series`` keeps the full measured data for the
    JSON file and the figures (plain lists and floats only).
    """

    claim: str
    network: str
    setting: str
    predicted: str
    measured: str
    worst: float
    verdict: str
    seconds: float = 0.0
    series: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return asdict(self)


def verdict(ok: bool) -> str:
    return "holds" if ok else "fails"
