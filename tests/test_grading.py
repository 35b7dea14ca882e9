"""Grading and the round trip's ways back: the parts of hlx_moe that need no model (so
they run where the [moe] extra is not installed)."""

from __future__ import annotations

from hlx_formats import translate
from hlx_moe import grade


def test_reverse_queries_lead_back_to_the_instruction_value() -> None:
    from hlx_moe.decoding.round_trip import reverse_queries

    assert reverse_queries("Convert to LC-R: {a:  1}", "◇a: 2◆") == [("Parse LC-R: ◇a: 2◆", "HLXL: {a:  1}")]
    assert reverse_queries("Parse LC-B: [0x01]", "HLXL: 1") == [("Convert to LC-B: 1", "[0x01]")]
    assert reverse_queries("Convert this to Runic glyphs: [1]", "🜃1🜄") == [("Convert this to text-safe format: 🜃1🜄", "[1]")]
    assert reverse_queries("Convert this to text-safe format: 🜃1🜄", "[1]") == [("Convert this to Runic glyphs: [1]", "🜃1🜄")]
    all_formats = "HLXL: [1]\nLC-R: 🜃1🜄\nLC-T: [1]\nLC-B: [[0x01]]"
    assert reverse_queries("Translate HLXL to all formats: [1]", all_formats) == [
        ("Parse LC-R: 🜃1🜄", "HLXL: [1]"), ("Parse LC-T: [1]", "HLXL: [1]"), ("Parse LC-B: [[0x01]]", "HLXL: [1]"),
    ]  # fmt: skip
    for no_way_back, answer in (
        ("Parse HLXL: [1]", "HLXL: [1]"),
        ("What is LC-R?", "A format."),
        ("Encode a search operation on x in LC-T", "{C:1}"),
    ):
        assert reverse_queries(no_way_back, answer) == []


def test_grade_any_model_output() -> None:
    assert grade("Convert to LC-T: [1, 2]", "[1,2]").exact
    spaced = grade("Convert to LC-T: [1, 2]", "[1, 2]")
    assert not spaced.exact and spaced.same_value and spaced.parses
    assert spaced.same_shape and not grade("Convert to LC-T: [1, 2]", "[1]").same_shape
    near = grade("Convert to LC-T: [1, 2]", "[1,3]")
    assert not near.same_value and near.same_shape and near.wrong_scalars == ("integer",)
    assert grade('Convert to LC-T: {a: "x", b: 1.5}', '{a:"y",b:2.5}').wrong_scalars == ("string", "float")
    assert not grade("Convert to LC-T: [1, 2]", '[1,"2"]').same_shape  # a string where an integer goes
    wrong = grade("Convert to LC-T: [1, 2]", "[1,")
    assert not wrong.parses and wrong.error
    assert grade("Translate HLXL to all formats: null", translate("Translate HLXL to all formats: null")).exact
    assert grade("What is contract 900?", "something").parses is None
    assert grade("not an instruction", "x").reference is None


def test_same_shape_compares_structure_and_scalar_kinds() -> None:
    from hlx_formats import Contract, Handle
    from hlx_moe.evaluation.grading import same_shape, wrong_scalars

    value = {"a": [1, "x", Handle("h")], "c": Contract(14, {0: 1.5, 3: b"\x00"})}
    assert same_shape(value, {"a": [9, "y", Handle("other")], "c": Contract(14, {0: -2.0, 3: b""})})
    assert not same_shape(value, {"b": [1, "x", Handle("h")], "c": Contract(14, {0: 1.5, 3: b"\x00"})})  # a key
    assert not same_shape(value, {"a": [1, "x", Handle("h")], "c": Contract(15, {0: 1.5, 3: b"\x00"})})  # an id
    assert not same_shape(value, {"a": [1, "x", Handle("h")], "c": Contract(14, {0: 1.5, 4: b"\x00"})})  # an index
    assert not same_shape(value, {"a": [1, "x"], "c": Contract(14, {0: 1.5, 3: b"\x00"})})  # a length
    assert not same_shape([1], [1.0]) and not same_shape([True], [1]) and same_shape([None, True], [None, False])
    assert wrong_scalars(value, {"a": [1, "y", Handle("h")], "c": Contract(14, {0: 1.5, 3: b""})}) == ["string", "bytes"]
    assert wrong_scalars(value, value) == [] and wrong_scalars([1], [1, 2]) is None


def test_grade_reads_requests_in_other_words() -> None:
    assert grade("Convert [1] to LC-T and LC-R", "LC-T: [1]\nLC-R: 🜃1🜄").exact
    lines = grade("Convert [1] to LC-T and LC-R", "LC-T: [1]\nLC-R: 🜃2🜄")
    assert lines.parses and lines.same_shape and lines.wrong_scalars == ("integer",)
    assert grade("Convert [1] to LC-T and LC-R", "LC-R: 🜃1🜄\nLC-T: [1]").parses is False  # the order asked
