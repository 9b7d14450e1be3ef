"""The fast path of validation (a plan for a message shape already found valid) gives the
same answer as the full check, for any values in that shape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from venue.gateways.fix.dictionary import DataDictionary
from venue.gateways.fix.validate import first_problem, split_message

HEADER = [(8, b"FIX.4.4"), (9, b"100"), (35, b"D"), (34, b"2"), (49, b"TW44"),
          (52, b"20260101-00:00:00.000"), (56, b"ISLD")]
BASES = [
    [*HEADER, (11, b"ID"), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10.5"), (54, b"1"),
     (55, b"INTC"), (59, b"0"), (60, b"20260101-00:00:00"), (10, b"000")],
    [*HEADER, (11, b"ID"), (21, b"1"), (40, b"1"), (54, b"1"), (55, b"INTC"), (386, b"2"),
     (336, b"A"), (336, b"B"), (60, b"20260101-00:00:00"), (10, b"000")],
    [(8, b"FIX.4.4"), (9, b"100"), (35, b"V"), (34, b"2"), (49, b"TW44"),
     (52, b"20260101-00:00:00.000"), (56, b"ISLD"), (262, b"r1"), (263, b"1"),
     (264, b"0"), (267, b"2"), (269, b"0"), (269, b"1"), (146, b"1"), (55, b"INTC"),
     (10, b"000")],
]
VALUES = st.sampled_from([b"", b"x", b"-1", b"0", b"1", b"2", b"3", b"Y", b"N", b"10.5",
                          b"1e5", b"20260101-00:00:00", b"20261301-00:00:00", b"A B", b"6"])


def fresh() -> DataDictionary:
    """A dictionary with no plans yet (the loaded tables shared)."""
    return DataDictionary(DataDictionary.for_version("FIX.4.4")._tables)


def full(dictionary: DataDictionary, fields):
    tables, rules = dictionary._tables, dictionary._rules
    return first_problem(tables, rules, split_message(tables, fields))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(BASES))),
       st.lists(st.tuples(st.integers(3, 40), VALUES), min_size=1, max_size=3))
def test_the_plan_answers_as_the_full_check(base_index: int, changes) -> None:
    base = BASES[base_index]
    dictionary = fresh()
    assert dictionary.validate(base) is None  # the shape passes: its plan is kept
    fields = list(base)
    for position, value in changes:
        position = 3 + position % (len(fields) - 4)  # a value after 35, before 10
        fields[position] = (fields[position][0], value)
    assert dictionary.validate(fields) == full(dictionary, fields)


def test_a_valid_shape_is_planned_and_its_bad_values_still_rejected() -> None:
    dictionary = fresh()
    assert dictionary.validate(BASES[0]) is None
    assert len(dictionary._plans) == 1
    bad_side = [(54, b"Z") if tag == 54 else (tag, value) for tag, value in BASES[0]]
    rejected = dictionary.validate(bad_side)
    assert rejected is not None and (rejected.reason, rejected.ref_tag) == (5, 54)
    wrong_count = [(386, b"3") if tag == 386 else (tag, value) for tag, value in BASES[1]]
    assert dictionary.validate(BASES[1]) is None
    counted = dictionary.validate(wrong_count)
    assert counted is not None and (counted.reason, counted.ref_tag) == (16, 386)
