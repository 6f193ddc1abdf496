"""numerics/seeds.py: the seed normaliser, and its lazy form that builds a Generator only when drawn.

Expected draws come from numpy's own ``np.random.default_rng`` (the library, not the code under
test); the lazy form is checked for building at most once, on first use, and for refusing a bad seed
before anything is drawn, with numpy_generator's own messages.
"""
import numpy as np
import pytest

from numerics import seeds


def counting_default_rng(monkeypatch) -> list:
    """Patch np.random.default_rng to record each seed it builds a Generator from."""
    built, real = [], np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng", lambda seed: built.append(seed) or real(seed))
    return built


@pytest.mark.parametrize("seed, default, drawn_as", [(7, None, 7), (None, 3, 3), (0, 5, 0)])
def test_the_lazy_generator_is_built_on_first_use_once_and_draws_as_numpy_does(monkeypatch, seed, default, drawn_as):
    expected = np.random.default_rng(drawn_as).standard_normal(6)
    built = counting_default_rng(monkeypatch)
    get = seeds.lazy_numpy_generator(seed, default=default)
    assert built == []                                  # nothing built before the first draw
    rng = get()
    assert get() is rng and built == [drawn_as]         # built once, the same Generator after
    assert np.array_equal(rng.standard_normal(6), expected)


def test_a_generator_passed_in_is_returned_as_is_by_both_forms():
    rng = np.random.default_rng(11)
    assert seeds.numpy_generator(rng) is rng and seeds.lazy_numpy_generator(rng)() is rng


@pytest.mark.parametrize("seed, default, error, message", [
    (-1, 0, ValueError, "seed must be an int >= 0, None or a numpy Generator, got -1"),
    ("a", 0, TypeError, "seed must be an int >= 0, None or a numpy Generator, got str"),
    (True, 0, TypeError, "seed must be an int >= 0, None or a numpy Generator, got bool"),
    (None, None, TypeError, "seed must be an int >= 0 or a numpy Generator, got NoneType"),
    (2.0, None, TypeError, "seed must be an int >= 0 or a numpy Generator, got float"),
])
def test_a_bad_seed_is_refused_at_once_with_numpy_generators_message(seed, default, error, message):
    """The lazy form refuses when it is made, not at the first draw (a route that never draws would
    otherwise accept any seed), with the same error as numpy_generator."""
    for make in (seeds.numpy_generator, seeds.lazy_numpy_generator):
        with pytest.raises(error, match=f"^{message}$"):
            make(seed, default=default)
