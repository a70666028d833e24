"""`addresses_from_arrow` (NumPy byte arithmetic on Arrow buffers) against `ip_to_int`."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.intel import addr as addr_module
from slipcatch.intel.addr import MAPPED_FIRST, addresses_from_arrow, ip_to_int

MASK = (1 << 64) - 1


def reference(text: str | None) -> tuple[int, int, bool]:
    if text is None:
        return 0, 0, False
    try:
        v = ip_to_int(text)
    except ValueError:
        return 0, 0, False
    return v >> 64, v & MASK, True


octet = st.one_of(
    st.integers(0, 255).map(str),
    st.integers(0, 999).map(str),
    st.sampled_from(
        [
            "00",
            "01",
            "007",
            "0",
            "255",
            "256",
            "",
            "1a",
            "-1",
            "+1",
            # bytes just outside '0'..'9'
            "1:",
            ";",
            "?9",
            "/",
            "2>5",
            "=",
            "<",
        ]
    ),
)
quad = st.lists(octet, min_size=3, max_size=5).map(".".join)
text = st.one_of(
    quad,
    st.text(alphabet="0123456789.", max_size=17),
    st.text(alphabet="0123456789. :abcdef%", max_size=20),
    st.sampled_from(
        [
            "::ffff:1.2.3.4",
            "2001:db8::1",
            "fe80::1%eth0",
            " 1.2.3.4",
            "1.2.3.4 ",
            "1.2.3.4\n",
            "١.٢.٣.٤",
            "1.2.3.4.",
            ".1.2.3",
            "1..2.3",
            "255.255.255.255",
            "0.0.0.0",
            "100.200.250.255",
            "1.2.3.04",
        ]
    ),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(text, max_size=60),
    chunk=st.integers(1, 9),
    skip=st.integers(0, 3),
    large=st.booleans(),
)
def test_matches_ip_to_int(texts: list[str | None], chunk: int, skip: int, large: bool) -> None:
    arr = pa.array(["9.9.9.9"] * skip + texts, pa.large_string() if large else pa.string())
    arr = arr.slice(skip)  # a non-zero Arrow offset
    saved = addr_module._CHUNK
    try:
        addr_module._CHUNK = chunk
        hi, lo, valid = addresses_from_arrow(arr)
    finally:
        addr_module._CHUNK = saved
    got = list(zip(hi.tolist(), lo.tolist(), valid.tolist(), strict=True))
    assert got == [reference(t) for t in texts]


def test_specific_rows_and_chunked_arrays() -> None:
    rows = [
        "175.45.176.27",
        "010.1.1.1",
        "1.2.3.256",
        "::ffff:10.0.0.1",
        "2001:db8::1",
        None,
        "1.2.3",
        "255.255.255.255",
        "1.2.3.4 ",
        "1.2.3.:",
        "1/.2.3.4",
    ]
    arr = pa.chunked_array([pa.array(rows[:4]), pa.array(rows[4:])])
    hi, lo, valid = addresses_from_arrow(arr)
    assert valid.tolist() == [
        True,
        False,
        False,
        True,
        True,
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert lo.tolist()[:4] == [MAPPED_FIRST + 0xAF2DB01B, 0, 0, MAPPED_FIRST + 0x0A000001]
    assert (hi[4], lo[4]) == (0x20010DB8 << 32, 1)
    assert lo[7] == MAPPED_FIRST + 0xFFFFFFFF and lo[8] == MAPPED_FIRST + 0x01020304
    assert hi[[0, 1, 2, 3, 5, 6, 7, 8, 9, 10]].tolist() == [0] * 10
    assert lo[9:].tolist() == [0, 0]


def test_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        addresses_from_arrow(pa.array([1, 2]))
