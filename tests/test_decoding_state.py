"""The incremental reader of partial answers (``PartialScan``) and the decoding state built
on it: read piece by piece it holds what a whole-text read holds, and it finds a repeated
key or field index exactly where the codecs' own ``repeats_key`` does."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import Contract, repeats_key
from hlx_formats.api import ENCODERS
from hlx_formats.strategies import examples, values
from hlx_moe.decoding.source_literals import PartialScan, _scan

FORMATS = ("hlxl", "lc-t", "lc-r", "lc-b")


def _cuts(text: str, seed: int) -> list[int]:
    """Ends of the pieces ``text`` is fed in: one to six characters at a time."""
    rng = random.Random(seed)
    cuts, position = [], 0
    while position < len(text):
        position = min(len(text), position + rng.randint(1, 6))
        cuts.append(position)
    return cuts


def _fields(scan, reader=None):
    literals = (reader.literals if reader is not None else []) + scan.literals
    return (literals, scan.depth, scan.closed, scan.fields_in_order, scan.balanced, scan.repeated)


def _check_every_prefix(text: str, fmt: str, seed: int) -> None:
    scan, done = PartialScan(fmt), 0
    for cut in _cuts(text, seed):
        # judging a piece without committing it, then committing it, read what a whole read reads
        assert _fields(scan.peek(text[done:cut]), scan) == _fields(_scan(text[:cut], fmt)), text[:cut]
        scan.feed(text[done:cut])
        done = cut
        whole = _scan(text[:cut], fmt)
        assert _fields(scan.peek(), scan) == _fields(whole), text[:cut]
        assert whole.repeated == repeats_key(text[:cut], fmt), text[:cut]


@settings(max_examples=examples(200))
@given(value=values(), fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**16))
def test_read_piece_by_piece_as_a_whole_read(value, fmt, seed):
    _check_every_prefix(ENCODERS[fmt](value), fmt, seed)


_NAMES = st.text("abcdefgh", min_size=1, max_size=3)


@settings(max_examples=examples(200))
@given(
    keys=st.lists(_NAMES, min_size=2, max_size=5, unique=True),
    fields=st.lists(st.integers(0, 255), min_size=2, max_size=5, unique=True),
    fmt=st.sampled_from(FORMATS),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_a_repeated_key_or_field_is_found_where_repeats_key_finds_it(keys, fields, fmt, seed, data):
    """An object or contract with one key or field index written twice (an encoding with two
    distinct ones, the second respelled as the first): every prefix agrees with repeats_key."""
    fields = sorted(fields)
    inner = {key: index for index, key in enumerate(keys)}
    value = Contract(7, {index: inner if position == 0 else position for position, index in enumerate(fields)})
    text = ENCODERS[fmt](value)
    doubled = [text]
    first, second = keys[0], keys[-1]
    if text.count(f"{second}:") == 1 and not any(key != second and key.endswith(second) for key in keys):
        doubled.append(text.replace(f"{second}:", f"{first}:"))
    index_a, index_b = str(fields[0]), str(fields[-1])
    markers = {"hlxl": "@{}: ", "lc-t": ",{}=", "lc-r": "🜁{} ", "lc-b": "|{}:"}
    marker = markers[fmt]
    if text.count(marker.format(index_b)) == 1:
        doubled.append(text.replace(marker.format(index_b), marker.format(index_a)))
    chosen = data.draw(st.sampled_from(doubled))
    _check_every_prefix(chosen, fmt, seed)
    if chosen is not text:
        assert repeats_key(chosen, fmt)


@pytest.mark.parametrize(
    ("fmt", "text", "first_repeat"),
    [
        ("hlxl", "{a: 1, b: {7: {@0: 1, @0: 2}}, a: 3}", len("{a: 1, b: {7: {@0: 1, @0:")),
        ("lc-t", "{C:7,0=1,0=2}", len("{C:7,0=1,0=")),
        ("lc-t", '{a:1,"a":2}', len('{a:1,"a":')),
        ("lc-r", "🜊7🜁0 1🜁0 ", len("🜊7🜁0 1🜁0 ")),
        ("lc-b", "[7|0:1|0:2]", len("[7|0:1|0:")),
        ("lc-b", "[{a:1,a:2}]", len("[{a:1,a:")),
    ],
)
def test_a_repeat_counts_once_its_separator_is_written(fmt, text, first_repeat):
    scan, seen = PartialScan(fmt), []
    for end in range(1, len(text) + 1):
        scan.feed(text[end - 1])
        seen.append(scan.peek().repeated)
        assert seen[-1] == repeats_key(text[:end], fmt)
    assert seen.index(True) + 1 == first_repeat


def test_decoding_options_are_checked_when_made_and_replaced_field_by_field():
    from hlx_formats import HLXError
    from hlx_moe import DecodingOptions

    options = DecodingOptions()
    assert (options.num_beams, options.constrained, options.source_literals, options.literal_order) == (1, True, True, True)
    wider = options.replace(num_beams=4, round_trip=True, literal_order=None)
    assert (wider.num_beams, wider.round_trip, wider.literal_order) == (4, True, True) and options.num_beams == 1
    for bad, message in (
        (dict(num_beams=0), "num_beams must be an integer from 1 to 16"),
        (dict(num_beams=17), "num_beams must be an integer from 1 to 16"),
        (dict(round_trip=True), "needs num_beams of 2 or more"),
        (dict(source_literals="yes"), "source_literals must be True or False"),
        (dict(max_new_tokens=0), "max_new_tokens must be a positive integer"),
    ):
        with pytest.raises(HLXError, match=message):
            DecodingOptions(**bad)
    with pytest.raises(HLXError, match="unknown decoding option 'beams'"):
        options.replace(beams=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.num_beams = 2  # type: ignore[misc]  # assigning a frozen field is what is tested
