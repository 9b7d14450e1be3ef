"""DataDictionary: loading QuickFIX's XML and each reject reason, on hand-built messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from venue.gateways.fix.dictionary import DataDictionary, SessionReject

FIX44 = DataDictionary.for_version("FIX.4.4")
FIX42 = DataDictionary.for_version("FIX.4.2")
NOW = b"20240102-03:04:05"
Fields = list[tuple[int, bytes]]


def message(msg_type: str, *body: tuple[int, bytes], header: Fields | None = None,
            begin_string: bytes = b"FIX.4.4") -> Fields:
    """A framed message: the usual header, ``body`` as given, CheckSum last."""
    if header is None:
        header = [(34, b"2"), (49, b"TW44"), (52, NOW), (56, b"ISLD")]
    return [(8, begin_string), (9, b"0"), (35, msg_type.encode()), *header, *body,
            (10, b"000")]


ORDER = [(11, b"ID"), (21, b"1"), (38, b"100"), (40, b"1"), (54, b"1"), (55, b"INTC"),
         (60, NOW)]


def order(*replace: tuple[int, bytes], extra: Fields = ()) -> Fields:
    """A valid NewOrderSingle with some fields' values replaced and ``extra`` appended."""
    values = dict(ORDER) | dict(replace)
    return message("D", *values.items(), *extra)


def problem(reason: int, ref_tag: int | None, text: str) -> SessionReject:
    return SessionReject(reason, ref_tag, text)


def test_lookups_name_type_header_trailer_admin() -> None:
    assert FIX44.begin_string == "FIX.4.4"
    assert (FIX44.field_name(11), FIX44.field_type(52)) == ("ClOrdID", "UTCTIMESTAMP")
    assert FIX44.field_name(999) is None and FIX44.field_type(5000) is None
    assert FIX44.is_header_field(49) and FIX44.is_header_field(627)
    assert not FIX44.is_header_field(55)
    assert FIX44.is_trailer_field(10) and FIX44.is_trailer_field(93)
    assert not FIX44.is_trailer_field(52)
    assert FIX44.is_msg_type("D") and not FIX44.is_msg_type("*")
    assert FIX44.is_admin("0") and FIX44.is_admin("5") and not FIX44.is_admin("D")
    assert FIX44.message_name("d") == "SecurityDefinition"
    assert FIX44.field_values(54) is not None and b"1" in FIX44.field_values(54)


def test_valid_messages_give_none() -> None:
    assert FIX44.validate(message("A", (98, b"0"), (108, b"30"))) is None
    assert FIX44.validate(order()) is None
    assert FIX44.validate([pair for pair in order() if pair[0] != 38]) is None
    assert FIX44.validate(message("2", (7, b"1"), (16, b"0"))) is None
    assert FIX44.validate(message("4", (36, b"5"), (123, b"Y"))) is None


def test_invalid_tag_number_for_unknown_zero_negative_and_user_defined_tags() -> None:
    for tag in (999, 0, -1, 5000):
        assert FIX44.validate(message("0", (tag, b"HI"))) == problem(0, tag,
                                                                     "Invalid tag number")


def test_required_tag_missing_in_header_body_and_group_entry() -> None:
    no_target = message("0", header=[(34, b"2"), (49, b"TW44"), (52, NOW)])
    assert FIX44.validate(no_target) == problem(1, 56, "Required tag missing")
    no_sender = message("0", header=[(34, b"2"), (52, NOW), (56, b"ISLD")])
    assert FIX44.validate(no_sender) == problem(1, 49, "Required tag missing")
    without_clordid = [pair for pair in order() if pair[0] != 11]
    assert FIX44.validate(without_clordid) == problem(1, 11, "Required tag missing")
    # Logon's NoMsgTypes group is optional, so its entries' fields are not required; a
    # required group (ResendRequest has none) is checked below with a custom dictionary.
    assert FIX44.validate(message("A", (98, b"0"), (108, b"30"), (384, b"1"),
                                  (372, b"D"))) is None


def test_tag_not_defined_for_this_message_type() -> None:
    assert FIX44.validate(message("0", (55, b"MSFT"))) == problem(
        2, 55, "Tag not defined for this message type")
    # A group member outside its group is a body field the message does not define.
    assert FIX44.validate(order(extra=[(336, b"X")])) == problem(
        2, 336, "Tag not defined for this message type")


def test_tag_specified_without_a_value_in_header_and_body() -> None:
    empty_target = message("0", header=[(34, b"2"), (49, b"TW44"), (52, NOW), (56, b"")])
    assert FIX44.validate(empty_target) == problem(4, 56, "Tag specified without a value")
    assert FIX44.validate(order((55, b""))) == problem(4, 55, "Tag specified without a value")


def test_value_out_of_range_for_enums_and_multiple_value_strings() -> None:
    text = "Value is incorrect (out of range) for this tag"
    assert FIX44.validate(order((21, b"4"))) == problem(5, 21, text)
    assert FIX44.validate(order((40, b"w"))) == problem(5, 40, text)
    assert FIX44.validate(order(extra=[(167, b"CS")])) is None
    assert FIX44.validate(order(extra=[(167, b"BOO")])) == problem(5, 167, text)
    assert FIX44.field_type(18) == "MULTIPLEVALUESTRING"
    assert FIX44.validate(order(extra=[(18, b"1 G")])) is None
    assert FIX44.validate(order(extra=[(18, b"1 ?")])) == problem(5, 18, text)
    assert FIX44.validate(order(extra=[(18, b"1  G")])) == problem(5, 18, text)


@pytest.mark.parametrize(("tag", "good", "bad"), [
    (38, [b"100", b"-1.5", b"1.", b".5", b"002000.00"], [b"+200.00", b"1e5", b".", b"-", b"1.2.3"]),
    (44, [b"10.25"], [b"10,25", b"abc"]),
    (226, [b"0", b"-3", b"0012"], [b"+3", b"3.0", b"x", b"-"]),  # RepurchaseTerm, INT
    (99, [b"1.5"], [b"1..5"]),                            # StopPx, PRICE
    (126, [b"20240102-03:04:05", b"20240102-03:04:05.123", b"20240102-23:59:60.123456"],
     [b"20040415", b"20241302-03:04:05", b"20240132-03:04:05", b"20240102-24:00:00",
      b"20240102-03:60:00", b"20240102-03:04:05,123", b"2024010-03:04:05"]),
    (432, [b"20240102"], [b"2024-01-02", b"20240002", b"202401021"]),  # ExpireDate LOCALMKTDATE
    (114, [b"Y", b"N"], [b"y", b"YES"]),                  # LocateReqd BOOLEAN
])
def test_incorrect_data_format(tag: int, good: list[bytes], bad: list[bytes]) -> None:
    kind = FIX44.field_type(tag)
    for value in good:
        assert FIX44.validate(order((tag, value))) is None, (kind, value)
    for value in bad:
        if kind == "LOCALMKTDATE":  # QuickFIX does not check LOCALMKTDATE's format
            assert FIX44.validate(order((tag, value))) is None, (kind, value)
            continue
        expected = problem(6, tag, "Incorrect data format for value")
        assert FIX44.validate(order((tag, value))) == expected, (kind, value)


def test_formats_of_int_char_seqnum_and_time_only_fields() -> None:
    assert FIX44.validate(message("0", (112, b"x"))) is None
    logon = [(98, b"0")]
    assert FIX44.validate(message("A", *logon, (108, b"x30"))) == problem(
        6, 108, "Incorrect data format for value")
    sequence_reset = message("4", (36, b"+5"))
    assert FIX44.validate(sequence_reset) == problem(6, 36, "Incorrect data format for value")
    header = [(34, b"two"), (49, b"TW44"), (52, NOW), (56, b"ISLD")]
    assert FIX44.validate(message("0", header=header)) == problem(
        6, 34, "Incorrect data format for value")
    assert FIX44.validate(order((54, b"12"))) == problem(6, 54, "Incorrect data format for value")


def test_tag_appears_more_than_once_but_not_across_group_entries() -> None:
    text = "Tag appears more than once"
    assert FIX44.validate(order(extra=[(40, b"2")])) == problem(13, 40, text)
    twice_in_header = message("0", header=[(34, b"2"), (49, b"TW44"), (49, b"TW44"),
                                           (52, NOW), (56, b"ISLD")])
    assert FIX44.validate(twice_in_header) == problem(13, 49, text)
    sessions = [(386, b"2"), (336, b"PRE-OPEN"), (336, b"AFTER-HOURS")]
    assert FIX44.validate(order(extra=sessions)) is None


def test_fields_out_of_required_order() -> None:
    text = "Tag specified out of required order"
    header_after_body = message("D", *ORDER[:3], (34, b"2"), *ORDER[3:], header=[
        (49, b"TW44"), (52, NOW), (56, b"ISLD")])
    assert FIX44.validate(header_after_body) == problem(14, 34, text)
    body_after_trailer = message("D", *ORDER[:3], (93, b"1"), (89, b"x"), *ORDER[3:])
    assert FIX44.validate(body_after_trailer) == problem(14, ORDER[3][0], text)
    # The structure is judged before the message type, required fields and values.
    unknown_type = message("*", (55, b""), (34, b"3"), header=[(49, b"A"), (56, b"B")])
    assert FIX44.validate(unknown_type) == problem(14, 34, text)


def test_header_and_body_fields_in_any_order_within_their_section() -> None:
    shuffled = message("D", *reversed(ORDER), header=[(56, b"ISLD"), (52, NOW),
                                                       (34, b"2"), (49, b"TW44")])
    assert FIX44.validate(shuffled) is None


def test_invalid_msg_type_has_no_ref_tag() -> None:
    assert FIX44.validate(message("*")) == problem(11, None, "Invalid MsgType")
    assert FIX44.validate(message("ZZ", (999, b""))) == problem(11, None, "Invalid MsgType")


def test_group_count_must_equal_the_entries_found() -> None:
    text = "Incorrect NumInGroup count for repeating group"
    two = [(336, b"A"), (336, b"B")]
    assert FIX44.validate(order(extra=[(386, b"3"), *two])) == problem(16, 386, text)
    assert FIX44.validate(order(extra=[(386, b"1"), *two])) == problem(16, 386, text)
    assert FIX44.validate(order(extra=[(386, b"0"), *two])) == problem(16, 386, text)
    assert FIX44.validate(order(extra=[(386, b"2")])) == problem(16, 386, text)
    assert FIX44.validate(order(extra=[(386, b"0")])) is None
    assert FIX44.validate(order(extra=[(386, b"x")])) == problem(
        6, 386, "Incorrect data format for value")


def test_group_entries_start_at_the_delimiter_or_at_a_field_already_in_the_entry() -> None:
    # 625 before the delimiter 336 still opens an entry; 336 always opens the next one.
    out_of_order = [(386, b"2"), (625, b"X"), (336, b"A"), (625, b"Y")]
    assert FIX44.validate(order(extra=out_of_order)) is None
    assert FIX44.groups("D", order(extra=out_of_order))[386] == [
        {625: b"X"}, {336: b"A", 625: b"Y"}]
    # A field already set in the entry opens another one, so this is three entries, not two.
    three = [(386, b"2"), (336, b"A"), (625, b"X"), (625, b"Y"), (336, b"B")]
    assert FIX44.groups("D", order(extra=three))[386] == [
        {336: b"A", 625: b"X"}, {625: b"Y"}, {336: b"B"}]
    assert FIX44.validate(order(extra=three)) == problem(
        16, 386, "Incorrect NumInGroup count for repeating group")


def test_nested_groups_are_read_inside_their_entry() -> None:
    parties = [(453, b"2"), (448, b"P1"), (447, b"D"), (452, b"1"), (802, b"2"),
               (523, b"S1"), (803, b"1"), (523, b"S2"), (448, b"P2")]
    assert FIX44.validate(order(extra=parties)) is None
    assert FIX44.groups("D", order(extra=parties)) == {453: [
        {448: b"P1", 447: b"D", 452: b"1", 802: [{523: b"S1", 803: b"1"}, {523: b"S2"}]},
        {448: b"P2"}]}
    # The nested count is not checked (QuickFIX validates top-level groups only) ...
    wrong_nested = [*parties[:4], (802, b"5"), *parties[5:]]
    assert FIX44.validate(order(extra=wrong_nested)) is None
    # ... but the outer count is, and a nested field outside its entry ends the group.
    assert FIX44.validate(order(extra=[(453, b"1"), (448, b"P1"), (523, b"S1")])) == problem(
        2, 523, "Tag not defined for this message type")


def test_required_fields_of_a_required_group_entry() -> None:
    news = [(148, b"Headline")]
    assert FIX44.validate(message("B", *news, (33, b"1"), (58, b"line"))) is None
    assert FIX44.validate(message("B", *news, (33, b"1"), (354, b"1"), (355, b"x"))) == problem(
        1, 58, "Required tag missing")
    assert FIX44.validate(message("B", (33, b"1"), (58, b"line"))) == problem(
        1, 148, "Required tag missing")


def test_checks_run_in_quickfix_order() -> None:
    # Required before any value check; header before body; body sorted by tag.
    assert FIX44.validate([pair for pair in order((40, b"w")) if pair[0] != 11]) == problem(
        1, 11, "Required tag missing")
    empty_route = order((40, b"w"), extra=[])
    empty_route[3:3] = [(145, b"")]
    assert FIX44.validate(empty_route) == problem(4, 145, "Tag specified without a value")
    assert FIX44.validate(order((54, b"x"), (21, b"9"))) == problem(
        5, 21, "Value is incorrect (out of range) for this tag")
    assert FIX44.validate(order(extra=[(5000, b"x"), (58, b"")])) == problem(
        4, 58, "Tag specified without a value")


def test_fix42_dictionary_loads_and_validates() -> None:
    assert FIX42.begin_string == "FIX.4.2"
    assert FIX42.field_name(21) == "HandlInst" and FIX42.field_type(386) == "INT"
    assert FIX42.is_msg_type("D") and not FIX42.is_msg_type("AE")
    header = [(34, b"2"), (49, b"TW42"), (52, NOW), (56, b"ISLD")]
    good = message("D", *ORDER, header=header, begin_string=b"FIX.4.2")
    assert FIX42.validate(good) is None
    missing_handling = [pair for pair in good if pair[0] != 21]
    assert FIX42.validate(missing_handling) == problem(1, 21, "Required tag missing")
    assert FIX42.validate(message("AE", header=header, begin_string=b"FIX.4.2")) == problem(
        11, None, "Invalid MsgType")


def test_load_reads_a_custom_dictionary(tmp_path: Path) -> None:
    """Formats no FIX 4.4 message uses, and QuickFIX's rules for required components."""
    path = tmp_path / "custom.xml"
    path.write_text(CUSTOM_XML)
    custom = DataDictionary.load(path)
    assert custom.begin_string == "FIX.4.4"
    base = [(1, b"ACC")]
    assert custom.validate(message("U1", *base, (3, b"2"))) == problem(
        1, 2, "Required tag missing")  # a required component's required field
    # A required component nested in an optional one still adds its required field.
    assert custom.validate(message("U1", *base, (2, b"x"))) == problem(
        1, 3, "Required tag missing")
    fine = [*base, (2, b"x"), (3, b"y")]
    assert custom.validate(message("U1", *fine)) is None
    for tag, good, bad in ((6, b"12:30:00.5", b"24:00:00"), (6, b"23:59:60", b"12:30"),
                           (7, b"20240229", b"2024022"), (7, b"20241231", b"20241301"),
                           (11, b"Y", b"T")):
        assert custom.validate(message("U1", *fine, (tag, good))) is None
        assert custom.validate(message("U1", *fine, (tag, bad))) == problem(
            6, tag, "Incorrect data format for value")


CUSTOM_XML = """<fix type='FIX' major='4' minor='4'>
 <header>
  <field name='BeginString' required='Y'/><field name='BodyLength' required='Y'/>
  <field name='MsgType' required='Y'/><field name='SenderCompID' required='Y'/>
  <field name='TargetCompID' required='Y'/><field name='MsgSeqNum' required='Y'/>
  <field name='SendingTime' required='Y'/>
 </header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Custom' msgtype='U1' msgcat='app'>
   <field name='Account' required='Y'/>
   <component name='Outer' required='Y'/>
   <component name='Optional' required='N'/>
   <field name='TimeOnly' required='N'/><field name='DateOnly' required='N'/>
   <field name='Flag' required='N'/>
  </message>
 </messages>
 <components>
  <component name='Outer'><field name='First' required='Y'/>
   <component name='Inner' required='N'/></component>
  <component name='Optional'><component name='Inner' required='Y'/></component>
  <component name='Inner'><field name='Second' required='Y'/></component>
 </components>
 <fields>
  <field number='1' name='Account' type='STRING'/>
  <field number='2' name='First' type='STRING'/>
  <field number='3' name='Second' type='STRING'/>
  <field number='6' name='TimeOnly' type='UTCTIMEONLY'/>
  <field number='7' name='DateOnly' type='UTCDATEONLY'/>
  <field number='11' name='Flag' type='BOOLEAN'/>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='9' name='BodyLength' type='LENGTH'/>
  <field number='35' name='MsgType' type='STRING'/>
  <field number='49' name='SenderCompID' type='STRING'/>
  <field number='56' name='TargetCompID' type='STRING'/>
  <field number='34' name='MsgSeqNum' type='SEQNUM'/>
  <field number='52' name='SendingTime' type='UTCTIMESTAMP'/>
  <field number='10' name='CheckSum' type='STRING'/>
 </fields>
</fix>
"""
