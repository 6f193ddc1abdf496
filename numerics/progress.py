"""The one progress-bar switch: tqdm bars on long work, shown when asked, or by default when stderr
is a terminal (never in CI logs or captured test output)."""
from __future__ import annotations

import sys

from tqdm.auto import tqdm


def show(progress: bool | None) -> bool:
    """``progress`` if given, else whether stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def bar(iterable=None, *, progress: bool | None, desc: str, **kwargs):
    """tqdm over ``iterable``, disabled unless ``show(progress)``; transient (leave=False) by default."""
    kwargs.setdefault("leave", False)
    return tqdm(iterable, disable=not show(progress), desc=desc, **kwargs)
