"""Hypothesis strategies that damage a valid file, and the settings the parsers' property tests share.

``damaged = data.draw(mutated(valid_bytes))``: one to three edits (truncation, bit flip, overwritten, inserted or
deleted bytes), each at a drawn position; ``mutated(valid_bytes, start=16, edits=IN_PLACE_EDITS)`` damages only
what follows a 16-byte header, keeping its length. ``@PARSER_PROPERTY`` bounds and seeds every such test.
"""

import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The same examples on every run (CI reproduces a failure exactly) and no example database left in the
# checkout; bounded so a parser's property tests take seconds. The deadline fails an input that makes a
# parser crawl (its examples take milliseconds; the margin is for a loaded CI machine).
PARSER_PROPERTY = settings(max_examples=60, deadline=datetime.timedelta(seconds=30), derandomize=True,
                           database=None, suppress_health_check=[HealthCheck.too_slow])
MAX_EDIT_BYTES = 8


def _truncate(draw, data, position):
    del data[position:]


def _flip_bit(draw, data, position):
    if position < len(data):
        data[position] ^= 1 << draw(st.integers(0, 7))


def _overwrite(draw, data, position):
    chunk = draw(st.binary(min_size=1, max_size=MAX_EDIT_BYTES))
    data[position:position + len(chunk)] = chunk


def _insert(draw, data, position):
    data[position:position] = draw(st.binary(min_size=1, max_size=MAX_EDIT_BYTES))


def _delete(draw, data, position):
    del data[position:position + draw(st.integers(1, MAX_EDIT_BYTES))]


EDITS = (_truncate, _flip_bit, _overwrite, _insert, _delete)
# Edits that keep the file's length: damage to a payload a header cannot notice.
IN_PLACE_EDITS = (_flip_bit, _overwrite)


@st.composite
def mutated(draw, valid, start=0, edits=EDITS, max_edits=3):
    """``valid`` (bytes) after one to ``max_edits`` of ``edits``, each at a drawn position from ``start`` on."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, max_edits))):
        edit = draw(st.sampled_from(edits))
        edit(draw, data, draw(st.integers(min(start, len(data)), len(data))))
    return bytes(data)
