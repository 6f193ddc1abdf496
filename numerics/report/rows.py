"""A report row, and the context every report entry receives."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from numerics.checks import Check


@dataclass(frozen=True)
class Context:
    """What an entry may vary: ``quick`` or full sizes, the base seed, the torch device."""

    full: bool = False
    seed: int = 0
    device: str = "cpu"


@dataclass
class Row:
    """One verdict: what theory predicts, what was measured, and the pass rule's Check.

    arch: the architecture key ("linear", "relu", "resnet18"; the figures' style), network: its
    human name. verdict: "holds" exactly when the claim's pass rules (numerics.checks) hold,
    "fails" otherwise, "not run" when the entry raised. worst: the rules' distance from the
    prediction. ``series`` keeps the full measured data for the JSON file and the figures (plain
    lists and floats only). entry: the report entry that made the row ("<module>.<function>", set by
    numerics.report.run), the key ``--compare`` matches rows on.
    """

    claim: str
    arch: str
    network: str
    setting: str
    predicted: str
    measured: str
    worst: float
    verdict: str
    rule: str = ""
    seconds: float = 0.0
    series: dict = field(default_factory=dict)
    entry: str = ""

    @classmethod
    def judged(cls, claim: str, arch: str, network: str, setting: str, predicted: str, measured: str,
               check: Check, series: dict | None = None) -> Row:
        """The row whose verdict and worst are those of ``check`` (the same rule the tests assert)."""
        return cls(claim, arch, network, setting, predicted, measured, check.worst,
                   "holds" if check.ok else "fails", check.detail, series=series or {})

    def as_json(self) -> dict:
        """The row's fields, plus ``theory``: the claim's section of docs/theory.md."""
        return {**asdict(self), "theory": f"docs/theory.md#{self.claim}"}
