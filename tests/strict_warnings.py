"""A context in which every warning raises, torch's once-per-process warnings included (not a test module)."""
import contextlib
import warnings

import torch


@contextlib.contextmanager
def every_warning_raises():
    """warnings.simplefilter("error") with torch.set_warn_always(True): torch issues some warnings (a
    non-writable numpy array given to torch.from_numpy, for one) only the first time in a process, so
    without it a test that runs after another that already drew the warning would see nothing."""
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
    finally:
        torch.set_warn_always(always)
