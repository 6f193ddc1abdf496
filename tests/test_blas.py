"""numerics/blas.py: the faster of the two BLAS libraries, measured once per process or pinned.

Every library's product is checked against an independent algorithm (numpy's longdouble matmul, a
plain loop with a 64-bit mantissa that calls no BLAS) within Higham's bound for dot products of
the inner length (numerics.tolerances.matmul_rounding); the choice against the rule it states
(numpy only when NUMPY_MARGIN times faster), with the probe's timings replaced by given ones; and
``self_gram`` (syrk through numpy) against the same long-double product of a with its transpose.
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strict_warnings import every_warning_raises

from numerics import blas, floor
from numerics.tolerances import matmul_rounding


def within_dot_product_bound(product, a, b) -> bool:
    """|product - a b| <= matmul_rounding(inner, eps) (|a| |b|) entrywise, a b and |a| |b| in long double."""
    exact = a.astype(np.longdouble) @ b.astype(np.longdouble)
    scale = np.abs(a).astype(np.longdouble) @ np.abs(b).astype(np.longdouble)
    return bool(np.all(np.abs(product - exact) <= matmul_rounding(a.shape[1], float(np.finfo(a.dtype).eps)) * scale))


def slowed(product):
    """``product`` made 1000x slower (a library the floor must not be held to)."""
    def call(a, b):
        for _ in range(1000):
            product(a, b)
        return product(a, b)
    return call


@given(library=st.sampled_from(sorted(blas.LIBRARIES)), dtype=st.sampled_from(["float32", "float64"]),
       shape=st.tuples(st.integers(1, 70), st.integers(1, 70), st.integers(1, 70)),
       orders=st.tuples(st.sampled_from("CF"), st.sampled_from("CF")), seed=st.integers(0, 2**32 - 1))
def test_each_library_multiplies_within_the_dot_product_bound(library, dtype, shape, orders, seed):
    m, k, n = shape
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal((m, k)), dtype=dtype, order=orders[0])
    b = np.asarray(rng.standard_normal((k, n)), dtype=dtype, order=orders[1])
    product = blas.LIBRARIES[library](a, b)
    assert product.shape == (m, n) and product.dtype == np.dtype(dtype)
    assert within_dot_product_bound(product, a, b)


@given(library=st.sampled_from(sorted(blas.LIBRARIES)), k=st.integers(1, 70), n=st.integers(1, 70),
       orders=st.tuples(st.sampled_from("CF"), st.sampled_from("CF")), seed=st.integers(0, 2**32 - 1))
def test_the_transposed_layout_is_a_transpose_b_and_the_symmetric_product_is_s_b(library, k, n, orders, seed):
    """TRANSPOSED[library](a, b) = a^T b for a square, non-symmetric a (so a layout that computed a b
    instead fails), and SYMMETRIC[library](s, b) = s b for an exactly symmetric s = a + a^T, each within
    the dot-product bound of an independent long-double product."""
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal((k, k)), order=orders[0])
    b = np.asarray(rng.standard_normal((k, n)), order=orders[1])
    s = np.asarray(a + a.T, order=orders[0])
    for product, left in ((blas.TRANSPOSED[library](a, b), a.T), (blas.SYMMETRIC[library](s, b), s)):
        assert product.shape == (k, n) and within_dot_product_bound(product, left, b)


@given(library=st.sampled_from(sorted(blas.LIBRARIES)), shape=st.tuples(st.integers(1, 70), st.integers(1, 70),
                                                                         st.integers(1, 70)),
       orders=st.tuples(st.sampled_from("CF"), st.sampled_from("CF")), seed=st.integers(0, 2**32 - 1))
def test_the_swapped_layout_is_a_b_for_any_shapes(library, shape, orders, seed):
    """SWAPPED[library](a, b) and swapped_matmul(a, b) = a b, an (m x n) result, within the dot-product
    bound of an independent long-double product, for any shapes and memory orders (a layout that
    dropped the final transpose would return b^T a^T, (n x m))."""
    m, k, n = shape
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal((m, k)), order=orders[0])
    b = np.asarray(rng.standard_normal((k, n)), order=orders[1])
    for product in (blas.SWAPPED[library](a, b), blas.swapped_matmul(a, b)):
        assert product.shape == (m, n) and within_dot_product_bound(product, a, b)


@pytest.mark.parametrize("seconds, chosen", [({"torch": 1.0, "numpy": 0.5}, "numpy"),
                                             ({"torch": 1.0, "numpy": 0.81}, "torch"),
                                             ({"torch": 0.5, "numpy": 1.0}, "torch")])
def test_numpy_is_chosen_only_when_faster_by_the_margin(monkeypatch, seconds, chosen):
    """numpy at 2x faster: numpy; at 1.23x (inside NUMPY_MARGIN = 1.25): torch, so that two close
    libraries cannot swap from one process to the next; torch faster: torch."""
    monkeypatch.delenv(blas.ENVIRONMENT, raising=False)
    monkeypatch.setattr(blas, "probe_seconds", lambda: seconds)
    blas._measured_library.cache_clear()
    try:
        assert blas.gemm_library() == chosen
    finally:
        blas._measured_library.cache_clear()


def test_the_environment_pins_the_library_and_a_bad_value_is_refused(monkeypatch):
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    for name in blas.LIBRARIES:
        monkeypatch.setenv(blas.ENVIRONMENT, name)
        assert blas.gemm_library() == name and np.array_equal(blas.matmul(a, b), a @ b)   # exact integers
        s = a @ a.T                                                   # exactly symmetric integers
        assert np.array_equal(blas.symmetric_matmul(s, b[:2, :]), s @ b[:2, :])
    monkeypatch.setenv(blas.ENVIRONMENT, "mkl")
    with pytest.raises(ValueError, match=r"SHORTCUT_NTK_BLAS must be one of \['numpy', 'torch'\], got 'mkl'"):
        blas.matmul(a, b)


def test_the_probe_times_both_libraries_and_the_choice_is_one_of_them():
    seconds = blas.probe_seconds()
    assert sorted(seconds) == sorted(blas.LIBRARIES) and all(0 < s < float("inf") for s in seconds.values())
    assert blas._measured_library() in blas.LIBRARIES


def test_read_only_operands_multiply_without_a_warning():
    a = np.arange(6.0).reshape(2, 3)
    a.flags.writeable = False
    with every_warning_raises():
        for product in blas.LIBRARIES.values():
            assert np.array_equal(product(a, a.T), a @ a.T)


def slow_down(monkeypatch, layouts, names) -> None:
    """Make each named library 1000x slower in each of the given layouts (dicts of numerics.blas)."""
    for layout in layouts:
        for name in names:
            monkeypatch.setitem(layout, name, slowed(layout[name]))


def test_the_floor_takes_the_faster_library(monkeypatch):
    """gemm_rate is the best of the libraries: one library made 1000x slower in every layout does not
    move it (a non-square shape, which the transposed layout cannot compute)."""
    rate = floor.gemm_rate(64, 32, 8)
    slow_down(monkeypatch, (blas.LIBRARIES, blas.SWAPPED, blas.TRANSPOSED), ["torch"])
    floor._fastest_gemm.cache_clear()
    try:
        assert floor.gemm_rate(64, 32, 8) >= rate / 4
    finally:
        floor._fastest_gemm.cache_clear()


def test_the_floor_of_a_square_product_takes_the_faster_layout(monkeypatch):
    """For a square first factor gemm_rate also times the transposed layout (numerics.blas.TRANSPOSED,
    what a symmetric A's products may use): both libraries made 1000x slower in the plain and swapped
    layouts do not move it."""
    rate = floor.gemm_rate(64, 64, 8)
    slow_down(monkeypatch, (blas.LIBRARIES, blas.SWAPPED), list(blas.LIBRARIES))
    floor._fastest_gemm.cache_clear()
    try:
        assert floor.gemm_rate(64, 64, 8) >= rate / 4
    finally:
        floor._fastest_gemm.cache_clear()


def test_the_floor_of_a_thin_product_takes_the_swapped_layout(monkeypatch):
    """For any shape gemm_rate also times the swapped layout (numerics.blas.SWAPPED, what the eigensolver's
    thin products use, e.g. the low-rank route's (n x r)(r x 11)): both plain layouts made 1000x slower
    do not move it for a non-square shape, which the transposed layout cannot compute."""
    rate = floor.gemm_rate(256, 16, 11)
    slow_down(monkeypatch, (blas.LIBRARIES,), list(blas.LIBRARIES))
    floor._fastest_gemm.cache_clear()
    try:
        assert floor.gemm_rate(256, 16, 11) >= rate / 4
    finally:
        floor._fastest_gemm.cache_clear()


@given(dtype=st.sampled_from([torch.float32, torch.float64]), rows=st.integers(1, 70), inner=st.integers(1, 70),
       strided=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_self_gram_is_a_times_its_transpose(dtype, rows, inner, strided, seed):
    """self_gram(a) = a a^T within the dot-product bound, for a C-ordered a and for a column-strided view
    (which numpy's syrk path needs copied C-ordered); a square result of a's dtype, exactly symmetric
    (syrk mirrors one triangle). Negative control: for a square a the other Gram, a^T a, is outside the
    bound."""
    rng = np.random.default_rng(seed)
    full = torch.from_numpy(rng.standard_normal((rows, 2 * inner))).to(dtype)
    a = full[:, ::2] if strided else full[:, :inner]
    gram = blas.self_gram(a)
    assert gram.shape == (rows, rows) and gram.dtype == dtype and torch.equal(gram, gram.T)
    x = a.numpy()
    assert within_dot_product_bound(gram.numpy(), x, x.T)
    if rows == inner > 1:
        assert not within_dot_product_bound(x.T @ x, x, x.T)


def test_self_gram_of_a_dtype_numpy_lacks_and_of_a_non_matrix():
    """bfloat16 goes through torch (exact here: small integers); a 1-D tensor is refused."""
    a = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], dtype=torch.bfloat16)
    assert torch.equal(blas.self_gram(a), torch.tensor([[14.0, 10.0], [10.0, 17.0]], dtype=torch.bfloat16))
    with pytest.raises(ValueError, match="2-D"):
        blas.self_gram(torch.ones(3))
