"""detect_format, convert and translate (the instruction phrasings of the corpora)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings

import hlx_formats
from hlx_formats import (
    BackendUnavailable,
    Contract,
    Handle,
    HLXError,
    ParseError,
    convert,
    detect_format,
    normalize_format,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    translate,
)
from hlx_formats.strategies import examples, values

# --- detect_format ---------------------------------------------------------------------------

DETECTED = [
    # canonical in HLXL (the first format)
    ("42", "hlxl"),
    ('"hi"', "hlxl"),
    ("[1, 2, 3]", "hlxl"),
    ("1.5", "hlxl"),
    ("[]", "hlxl"),
    ("{}", "hlxl"),
    ("{a: 1}", "hlxl"),
    ("&h_x", "hlxl"),
    ("{14: {@0: 42}}", "hlxl"),
    ("[[]]", "hlxl"),  # also LC-B text of [], but HLXL comes first
    ('["a"]', "hlxl"),  # also LC-B text of "a"
    ("[42]", "hlxl"),  # LC-B text too, but not canonical there
    (" 42 \n", "hlxl"),  # surrounding whitespace does not count
    # canonical in LC-T (and parses in HLXL too, for [1,2,3])
    ("[1,2,3]", "lc-t"),
    ("NULL", "lc-t"),
    ("TRUE", "lc-t"),
    ("{a:1}", "lc-t"),
    ("#00ff", "lc-t"),
    ("@x", "lc-t"),
    ("{C:14,0=42}", "lc-t"),
    # canonical in LC-R
    ("🜃1🜄", "lc-r"),
    ("∅", "lc-r"),
    ("◇◆", "lc-r"),
    ("🜊14🜁0 42🜂", "lc-r"),
    # canonical in LC-B text
    ("[[0x01]]", "lc-b"),
    ("[_]", "lc-b"),
    ("[T]", "lc-b"),
    ("[0x2a]", "lc-b"),
    ("[14|0:0x2a]", "lc-b"),
    # canonical nowhere: the first format in which it parses
    ("[1,2, 3]", "hlxl"),
    ("[1,\n2]", "hlxl"),
    ("{C:14, 0=42}", "lc-t"),
    ("[ NULL ]", "lc-t"),
    ("🐃1, 2🐄", "lc-r"),
    ("🜃1,2🜄", "lc-r"),
    ("[[14|0:0x2a]]", "lc-b"),
    ("[ 0x01 ]", "lc-b"),
    ("[0x2]", "lc-b"),
]


@pytest.mark.parametrize("text, fmt", DETECTED)
def test_detect_format(text, fmt):
    assert detect_format(text) == fmt


@pytest.mark.parametrize("data", [b"\x10\x2a", b"\x00", to_lcb([1, "x"]), bytearray(b"\x01"), memoryview(b"\x02")])
def test_bytes_are_lcb_binary(data):
    assert detect_format(data) == "lc-b"


def test_bytes_that_are_not_lcb_binary():
    # Bytes are UTF-8 text first when they read as a value (issue 30); bytes no text holds are binary.
    assert detect_format(b"42") == "hlxl"
    with pytest.raises(ParseError) as info:
        detect_format(b"\x10")
    assert info.value.format == "lc-b"


@pytest.mark.parametrize(
    "text, fmt, offset",
    [
        ("garbage!", None, None),
        ("", None, None),
        ("   ", None, None),
        ("[1, 2", "hlxl", 5),  # every format fails at the end; the first that read that far
        ("🜃1, 2", "lc-r", 5),  # only LC-R reads past the first glyph
        ("[[0x01,", "lc-b", 7),
        ("{C:14,0=", "lc-t", 8),
    ],
)
def test_detect_format_of_invalid_text(text, fmt, offset):
    with pytest.raises(ParseError) as info:
        detect_format(text)
    error = info.value
    assert "not valid HLXL, LC-T, LC-R or LC-B" in error.reason
    assert error.format in hlx_formats.FORMATS
    if fmt is not None:
        assert (error.format, error.offset) == (fmt, offset)


@pytest.mark.parametrize("data", [42, None, ["[1]"], 1.5])
def test_detect_format_of_other_types(data):
    with pytest.raises(HLXError):
        detect_format(data)


# --- convert -----------------------------------------------------------------------------------


def test_convert_detects_the_source():
    assert convert("[1, 2, 3]", to="lc-b") == "[[0x01,0x02,0x03]]"
    assert convert("{C:14,0=42}", to="lc-r") == "🜊14🜁0 42🜂"
    assert convert("🜊14🜁0 42🜂", to="hlxl") == "{14: {@0: 42}}"
    assert convert("[14|0:0x2a]", to="lc-t") == "{C:14,0=42}"
    assert convert(bytes.fromhex("500e000100102a"), to="hlxl") == "{14: {@0: 42}}"
    assert convert("🐊14🐁0 42🐂", to="lc-r") == "🜊14🜁0 42🜂"


def test_convert_with_a_source():
    assert convert("[1, 2]", to="LC-B", frm="hlxl") == "[[0x01,0x02]]"
    # "[[]]" is detected as HLXL (an array in an array) but is LC-B text of an empty array.
    assert convert("[[]]", to="hlxl") == "[[]]"
    assert convert("[[]]", to="hlxl", frm="lc-b") == "[]"
    assert convert('["a"]', to="lc-r", frm="lc-b") == '"a"'
    with pytest.raises(ParseError) as info:
        convert("[1, 2]", to="lc-t", frm="lc-r")
    assert info.value.format == "lc-r"
    # frm="lc-b" with bytes is the binary format
    assert convert(b"\x10\x2a", to="lc-t", frm="lc-b") == "42"


@pytest.mark.parametrize(
    "alias, name",
    [
        ("hlxl", "hlxl"), ("HLXL", "hlxl"), (" HlXl ", "hlxl"),
        ("lc-t", "lc-t"), ("LC-T", "lc-t"), ("lct", "lc-t"), ("LCT", "lc-t"), ("lc_t", "lc-t"), ("ascii", "lc-t"),
        ("lc-r", "lc-r"), ("LC-R", "lc-r"), ("lcr", "lc-r"), ("runic", "lc-r"),
        ("lc-b", "lc-b"), ("LC-B", "lc-b"), ("lcb", "lc-b"), ("lc_b", "lc-b"),
    ],
)  # fmt: skip
def test_format_aliases(alias, name):
    assert normalize_format(alias) == name
    expected = {"hlxl": "[1, 2]", "lc-t": "[1,2]", "lc-r": "🜃1, 2🜄", "lc-b": "[[0x01,0x02]]"}[name]
    assert convert("[1, 2]", to=alias) == expected
    assert convert(expected, to="hlxl", frm=alias) == "[1, 2]"


@pytest.mark.parametrize("name", ["json", "", "lc", "lc-x", "hlx", None, 42])
def test_unknown_format_is_an_hlx_error(name):
    with pytest.raises(HLXError, match="unknown format"):
        convert("[1, 2]", to=name)
    if name is not None:  # (frm=None means: detect the source)
        with pytest.raises(HLXError, match="unknown format"):
            convert("[1, 2]", to="lc-t", frm=name)
    with pytest.raises(HLXError):
        normalize_format(name)


# --- translate ---------------------------------------------------------------------------------

SEARCH_HLXL = '{1000: {@0: "search", @1: &h_documents}}'

INSTRUCTIONS = [
    (f"Convert to LC-R: {SEARCH_HLXL}", '🜊1000🜁0 "search"🜁1 ⟁documents🜂'),
    ("Translate HLXL to LC-R: [1, 2, 3]", "🜃1, 2, 3🜄"),
    ("Convert to LC-T: null", "NULL"),
    ('Translate HLXL to LC-T: {user: {name: "Bob", age: 30}}', '{user:{name:"Bob",age:30}}'),
    ("Convert to LC-B: {14: {@0: 42}}", "[14|0:0x2a]"),
    ('Translate HLXL to LC-B: [true, 42, "hello", null]', '[[T,0x2a,"hello",_]]'),
    ("Parse LC-T: {C:14,0=42}", "HLXL: {14: {@0: 42}}"),
    ('Parse LC-R: 🜃⊤, 42, "hello", ∅🜄', 'HLXL: [true, 42, "hello", null]'),
    ('Parse LC-B: [1000|0:"search"|1:&documents]', f"HLXL: {SEARCH_HLXL}"),
    ("Convert this to Runic glyphs: [TRUE,NULL]", "🜃⊤, ∅🜄"),
    ("Convert this to text-safe format: 🜊14🜁0 42🜂", "{C:14,0=42}"),
    (
        "Translate HLXL to all formats: [1, 2, 3]",
        "HLXL: [1, 2, 3]\nLC-R: 🜃1, 2, 3🜄\nLC-T: [1,2,3]\nLC-B: [[0x01,0x02,0x03]]",
    ),
    (
        f"Translate HLXL to all formats: {SEARCH_HLXL}",
        f"HLXL: {SEARCH_HLXL}\n"
        'LC-R: 🜊1000🜁0 "search"🜁1 ⟁documents🜂\n'
        'LC-T: {C:1000,0="search",1=@documents}\n'
        'LC-B: [1000|0:"search"|1:&documents]',
    ),
    # The value part may be any lenient spelling of its format; the answer is canonical.
    ("Convert to LC-T:   [1,2,\n3]  ", "[1,2,3]"),
    ("Convert to LC-R: {14:{@0:42}}", "🜊14🜁0 42🜂"),
    ('Parse LC-T: {C:1000, 0="test", 1=@x}', 'HLXL: {1000: {@0: "test", @1: &h_x}}'),
    ("Parse LC-R: 🐊14🐁0 42🐂", "HLXL: {14: {@0: 42}}"),
    ('Parse LC-R: 🜊1000 🜁0 "test" 🜁1 ⟁x🜂', 'HLXL: {1000: {@0: "test", @1: &h_x}}'),
    ("Parse LC-B: [[14|0:0x2a]]", "HLXL: {14: {@0: 42}}"),
    ("Parse LC-B: [42]", "HLXL: 42"),
    ('Convert this to Runic glyphs: { "name" : "x" }', '◇name: "x"◆'),
    ("Convert this to text-safe format: 🐃1,2🐄", "[1,2]"),
    ('Convert this to text-safe format: "café"', '"caf\\u00e9"'),
    # The instruction words are matched case-insensitively.
    ("convert to lc-r: [1]", "🜃1🜄"),
    ("PARSE LC-T: NULL", "HLXL: null"),
    # The corpus prompt wrapper.
    ("### Instruction:\nConvert to LC-T: [1, 2]\n\n### Response:\n", "[1,2]"),
    ("### Instruction:\nParse LC-R: ∅\n\n### Response:", "HLXL: null"),
    ("### Instruction:\nTranslate HLXL to LC-B: -42\n\n### Response:\n", "[-0x2a]"),
]


@pytest.mark.parametrize("instruction, answer", INSTRUCTIONS)
def test_translate_instructions(instruction, answer):
    assert translate(instruction) == answer
    assert translate(instruction, backend="reference") == answer


@settings(max_examples=examples(60))
@given(value=values())
def test_translate_instructions_for_any_value(value):
    hlxl, lct, lcr, lcbt = to_hlxl(value), to_lct(value), to_lcr(value), to_lcb_text(value)
    assert translate(f"Convert to LC-R: {hlxl}") == lcr
    assert translate(f"Translate HLXL to LC-T: {hlxl}") == lct
    assert translate(f"Convert to LC-B: {hlxl}") == lcbt
    assert translate(f"Parse LC-T: {lct}") == f"HLXL: {hlxl}"
    assert translate(f"Parse LC-R: {lcr}") == f"HLXL: {hlxl}"
    assert translate(f"Parse LC-B: {lcbt}") == f"HLXL: {hlxl}"
    assert translate(f"Convert this to Runic glyphs: {lct}") == lcr
    assert translate(f"Convert this to text-safe format: {lcr}") == lct
    assert translate(f"Translate HLXL to all formats: {hlxl}") == (f"HLXL: {hlxl}\nLC-R: {lcr}\nLC-T: {lct}\nLC-B: {lcbt}")
    assert translate(f"### Instruction:\nConvert to LC-T: {hlxl}\n\n### Response:\n") == lct


@settings(max_examples=examples(60))
@given(value=values())
def test_instruction_for_each_pair_of_formats_is_answered_by_translate(value):
    """instruction_for gives the one corpus instruction between two formats, which translate
    answers with the value in the target format (with its "HLXL: " prefix), or None."""
    from hlx_formats.instructions import instruction_for

    texts = {"hlxl": to_hlxl(value), "lc-t": to_lct(value), "lc-r": to_lcr(value), "lc-b": to_lcb_text(value)}
    for source, text in texts.items():
        for target, expected in texts.items():
            instruction = instruction_for(source, target, text)
            if instruction is None:
                assert "hlxl" not in (source, target) and (source == target or "lc-b" in (source, target))
                continue
            assert translate(instruction) == ("HLXL: " if target == "hlxl" else "") + expected


def test_instruction_for_phrasings_and_bad_formats():
    from hlx_formats.instructions import instruction_for

    assert instruction_for("hlxl", "LC-R", "[1]") == "Convert to LC-R: [1]"
    assert instruction_for("lcb", "hlxl", "[0x01]") == "Parse LC-B: [0x01]"
    assert instruction_for("lc-t", "lc-r", "[1]") == "Convert this to Runic glyphs: [1]"
    assert instruction_for("lc-r", "lc-t", "🜃1🜄") == "Convert this to text-safe format: 🜃1🜄"
    assert instruction_for("lc-b", "lc-r", "[0x01]") is None
    with pytest.raises(HLXError, match="unknown format"):
        instruction_for("json", "hlxl", "[1]")


@settings(max_examples=examples(60))
@given(value=values())
def test_translate_to_is_convert(value):
    for source in (to_hlxl(value), to_lct(value), to_lcr(value), to_lcb_text(value)):
        for target in ("hlxl", "lc-t", "LC-R", "lcb"):
            assert translate(source, to=target) == convert(source, to=target)


@pytest.mark.parametrize(
    "instruction",
    [
        "Convert to JSON: [1]",
        "Convert [1, 2]",
        "",
        "[1, 2, 3]",
        "Make me a sandwich",
        "### Instruction:\nSing this: [1]\n\n### Response:\n",
    ],
)
def test_unknown_instruction_is_an_hlx_error(instruction):
    with pytest.raises(HLXError) as info:
        translate(instruction)
    assert not isinstance(info.value, ParseError)
    assert "did you mean `" in str(info.value)  # the closest canonical phrasing (tests/test_requests.py)


@pytest.mark.parametrize(
    "instruction, fmt",
    [
        ("Convert to LC-T: [1,", "hlxl"),
        ("Convert to LC-R: [1,2,3]x", "hlxl"),
        ("Parse LC-T: [1, 2] [3]", "lc-t"),
        ("Parse LC-R: [1, 2]", "lc-r"),
        ("Convert this to Runic glyphs: 🜃1🜄", "lc-t"),
        ("Convert this to text-safe format: [1,2]", "lc-r"),
    ],
)
def test_invalid_value_part_is_a_parse_error(instruction, fmt):
    with pytest.raises(ParseError) as info:
        translate(instruction)
    assert info.value.format == fmt


@pytest.mark.parametrize("instruction", [42, None, ["Convert to LC-T: null"]])
def test_translate_refuses_non_str(instruction):
    with pytest.raises(HLXError, match="must be str"):
        translate(instruction)


def test_translate_bytes_instruction():
    # Not a str: either read as UTF-8 or refused as an HLXError, never another exception.
    try:
        assert translate(b"Convert to LC-T: null") == "NULL"
    except HLXError:
        pass


def test_moe_backend_unavailable_without_adapters(monkeypatch, tmp_path):
    monkeypatch.setenv("HLX_MOE_ADAPTERS", str(tmp_path))  # an empty folder: no trained experts
    with pytest.raises(BackendUnavailable) as info:
        translate("Convert to LC-T: null", backend="moe")
    assert isinstance(info.value, HLXError)


def test_moe_backend_unavailable_without_torch():
    # As if the [moe] extra were not installed: importing torch fails.
    code = textwrap.dedent(
        """
        import sys
        sys.modules['torch'] = None  # makes 'import torch' raise ImportError
        import hlx_formats
        try:
            hlx_formats.translate('Convert to LC-T: null', backend='moe')
        except hlx_formats.BackendUnavailable as error:
            assert isinstance(error, hlx_formats.HLXError)
            print('unavailable:', error)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unavailable: ")


@pytest.mark.parametrize("backend", ["", "gpu", "MOE", "Reference", None])
def test_unknown_backend_is_an_hlx_error(backend):
    with pytest.raises(HLXError) as info:
        translate("Convert to LC-T: null", backend=backend)
    assert not isinstance(info.value, BackendUnavailable)
    assert "backend" in str(info.value)


def test_reference_translation_never_imports_the_model_stack(tmp_path):
    # Stand-ins for the heavy packages, first on the path: importing any of them, even inside
    # a try/except, puts it in sys.modules, whether or not the real one is installed.
    for name in ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "llguidance"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    code = textwrap.dedent(
        """
        import sys
        import hlx_formats
        assert hlx_formats.translate('Convert to LC-T: null') == 'NULL'
        assert hlx_formats.translate('[1, 2]', to='lc-r') == '🜃1, 2🜄'
        hlx_formats.to_lcb(hlx_formats.from_lct('{C:14,0=42}'))
        loaded = sorted(m for m in ('torch', 'transformers', 'peft', 'accelerate', 'bitsandbytes', 'llguidance')
                        if m in sys.modules)
        assert not loaded, loaded
        assert 'hypothesis' not in sys.modules
        print('ok')
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_stand_in_modules_would_be_seen(tmp_path):
    # The check above can fail: a module that imports torch is caught by it.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("")
    code = "import sys, torch; assert 'torch' in sys.modules; print(torch.__file__)"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert str(tmp_path) in result.stdout


def test_public_names():
    for name in hlx_formats.__all__:
        assert hasattr(hlx_formats, name), name
    assert Handle is hlx_formats.Handle and Contract is hlx_formats.Contract
    assert issubclass(ParseError, HLXError) and issubclass(BackendUnavailable, HLXError)
    assert issubclass(HLXError, ValueError)
