"""The ``hlx`` command line: conversion in every direction, input and output, detection,
checking, translation, the demo, help, and errors (exit statuses, no tracebacks).

Most tests call ``main([...])`` in process; a few run ``python -m hlx_formats.cli`` to
check real standard input and output, binary included.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hlx_formats
from hlx_formats import Contract, Handle, cli, demo, from_hlxl, to_lcb, values_equal
from hlx_formats.cli import main
from hlx_formats.errors import BackendUnavailable

FORMATS = ("hlxl", "lc-t", "lc-r", "lc-b")

# The worked examples of the spec: one value, four spellings.
WORKED = [
    ("null", "NULL", "∅", "[_]"),
    ("true", "TRUE", "⊤", "[T]"),
    ("[1, 2, 3]", "[1,2,3]", "🜃1, 2, 3🜄", "[[0x01,0x02,0x03]]"),
    ("{14: {@0: 42}}", "{C:14,0=42}", "🜊14🜁0 42🜂", "[14|0:0x2a]"),
    (
        '{1000: {@0: "search", @1: &h_documents}}',
        '{C:1000,0="search",1=@documents}',
        '🜊1000🜁0 "search"🜁1 ⟁documents🜂',
        '[1000|0:"search"|1:&documents]',
    ),
    (
        '{user: {name: "Bob", age: 30}}',
        '{user:{name:"Bob",age:30}}',
        '◇user: ◇name: "Bob", age: 30◆◆',
        '[{user:{name:"Bob",age:0x1e}}]',
    ),
    (
        '[true, 42, "hello", null]',
        '[TRUE,42,"hello",NULL]',
        '🜃⊤, 42, "hello", ∅🜄',
        '[[T,0x2a,"hello",_]]',
    ),
]
CONTRACT_14 = "{14: {@0: 42}}"
CONTRACT_14_BIN = bytes.fromhex("500e000100102a")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- convert -------------------------------------------------------------------------


@pytest.mark.parametrize("row", WORKED, ids=[row[0] for row in WORKED])
def test_convert_every_direction(capsys: pytest.CaptureFixture[str], row: tuple[str, ...]) -> None:
    spellings = dict(zip(FORMATS, row))
    for source, text in spellings.items():
        for target, expected in spellings.items():
            assert run(capsys, "convert", "--to", target, "--from", source, text) == (0, expected + "\n", "")
            # Without --from the source is detected; the value, so the output, is the same.
            assert run(capsys, "convert", "--to", target, text) == (0, expected + "\n", "")


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("LC-T", "{C:14,0=42}"), ("lct", "{C:14,0=42}"), ("ascii", "{C:14,0=42}"), ("runic", "🜊14🜁0 42🜂"),
     ("lc_r", "🜊14🜁0 42🜂"), ("LCB", "[14|0:0x2a]"), ("HLXL", CONTRACT_14), ("LC-B-HEX", "500e000100102a"),
     ("lcb_hex", "500e000100102a")],
)  # fmt: skip
def test_format_aliases(capsys: pytest.CaptureFixture[str], alias: str, expected: str) -> None:
    assert run(capsys, "convert", "-t", alias, "-f", "hlxl", CONTRACT_14) == (0, expected + "\n", "")


def test_convert_lenient_input_gives_canonical_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "lc-t", '{C:1000, 0="test", 1=@x}')[1] == '{C:1000,0="test",1=@x}\n'
    assert run(capsys, "convert", "--to", "hlxl", '🐊1000🐁0 "test"🐂')[1] == '{1000: {@0: "test"}}\n'
    assert run(capsys, "convert", "--to", "lc-t", "--", "-1e5")[1] == "-100000.0\n"
    assert run(capsys, "convert", "--to", "lc-b", "-42")[1] == "[-0x2a]\n"


def test_convert_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b"[1, 2]\n")
    assert run(capsys, "convert", "--to", "lc-t") == (0, "[1,2]\n", "")
    feed_stdin(monkeypatch, "🜃1, 2🜄\r\n".encode())
    assert run(capsys, "convert", "--to", "lc-b", "-") == (0, "[[0x01,0x02]]\n", "")
    feed_stdin(monkeypatch, b'{C:14,0="a\\nb"}')  # no trailing newline: fine too
    assert run(capsys, "convert", "--to", "hlxl", "-i", "-") == (0, '{14: {@0: "a\\nb"}}\n', "")


def test_only_one_trailing_newline_is_stripped(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Whitespace around a value is allowed, so two newlines still parse; but the input is
    # then not canonical LC-T, and detection still finds the value.
    feed_stdin(monkeypatch, b"[1,2]\n\n")
    assert run(capsys, "convert", "--to", "hlxl") == (0, "[1, 2]\n", "")


def test_convert_hex_output_and_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "lc-b-hex", CONTRACT_14) == (0, "500e000100102a\n", "")
    assert run(capsys, "convert", "--to", "hlxl", "--from", "lc-b-hex", "500E000100102A") == (0, CONTRACT_14 + "\n", "")
    # Detected: hex digits that are not a text value are LC-B binary in hex (spaces allowed).
    assert run(capsys, "convert", "--to", "hlxl", "50 0e 00 01 00 10 2a") == (0, CONTRACT_14 + "\n", "")
    assert run(capsys, "detect", "500e000100102a") == (0, "lc-b\n", "")


def test_convert_binary_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["convert", "--to", "lc-b-bin", CONTRACT_14]) == 0
    out, err = capsysbinary.readouterr()
    assert (out, err) == (CONTRACT_14_BIN, b"")
    # Ten is 0x0a, a newline byte: binary output has nothing added or removed.
    assert main(["convert", "--to", "lc-b-bin", "10"]) == 0
    assert capsysbinary.readouterr().out == b"\x10\x0a"


def test_binary_input_ending_in_a_newline_byte(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b"\x10\x0a")  # int8 10: its last byte must not be taken for a newline
    assert run(capsys, "convert", "--to", "hlxl") == (0, "10\n", "")


def test_files_in_and_out(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    value = Contract(902, {0: "render_pipeline", 1: [Handle("vs"), Handle("fs")], 3: Handle("out")})
    source = tmp_path / "value.hlxl"
    source.write_text(hlx_formats.to_hlxl(value) + "\n", encoding="utf-8")

    binary = tmp_path / "value.lcb"
    assert run(capsys, "convert", "--to", "lc-b-bin", "-i", str(source), "-o", str(binary)) == (0, "", "")
    assert binary.read_bytes() == to_lcb(value)

    runic = tmp_path / "value.lcr"
    assert run(capsys, "convert", "--to", "lc-r", "-i", str(binary), "-o", str(runic)) == (0, "", "")
    assert runic.read_text(encoding="utf-8") == hlx_formats.to_lcr(value) + "\n"

    bare = tmp_path / "value.lct"
    assert run(capsys, "convert", "--to", "lc-t", "-n", "-i", str(runic), "-o", str(bare)) == (0, "", "")
    assert bare.read_bytes() == hlx_formats.to_lct(value).encode()

    code, out, _ = run(capsys, "convert", "--to", "hlxl", "--from", "lc-b-bin", "-i", str(binary))
    assert code == 0 and values_equal(from_hlxl(out), value)
    assert run(capsys, "check", "-i", str(binary)) == (0, "ok: lc-b\n", "")
    assert run(capsys, "detect", "-i", str(runic)) == (0, "lc-r\n", "")


def test_from_lcb_reads_text_notation_or_binary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "v.lcb"
    binary.write_bytes(CONTRACT_14_BIN)
    assert run(capsys, "convert", "--to", "hlxl", "--from", "lc-b", "-i", str(binary))[1] == CONTRACT_14 + "\n"
    assert run(capsys, "convert", "--to", "hlxl", "--from", "lc-b", "[14|0:0x2a]")[1] == CONTRACT_14 + "\n"


def test_no_newline_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "lc-t", "-n", "[1, 2]") == (0, "[1,2]", "")


# --- detect and check ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("42", "hlxl"), ("[1, 2, 3]", "hlxl"), ("[1,2,3]", "lc-t"), ("{C:14,0=42}", "lc-t"), ("🜃1, 2🜄", "lc-r"),
     ("[[0x01]]", "lc-b"), ("[14|0:0x2a]", "lc-b")],
)  # fmt: skip
def test_detect(capsys: pytest.CaptureFixture[str], text: str, fmt: str) -> None:
    assert run(capsys, "detect", text) == (0, fmt + "\n", "")


def test_detect_binary_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, to_lcb({"k": b"\xff\x00"}))  # not UTF-8
    assert run(capsys, "detect") == (0, "lc-b\n", "")


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", CONTRACT_14) == (0, "ok: hlxl\n", "")
    assert run(capsys, "check", "--format", "lc-t", '{C:1000, 0="test", 1=@x}') == (0, "ok: lc-t\n", "")
    assert run(capsys, "check", "-f", "lc-b-hex", "500e000100102a") == (0, "ok: lc-b\n", "")


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["check", "{C:14,0=42"], "line 1, column 11"),
        (["check", "--format", "lc-t", "[1, 2, x]"], "line 1, column 8"),
        (["check", "--format", "lc-t", "[1,\n 2 x]"], "line 2, column 4"),
        (["check", "--format", "hlxl", "{C:14,0=42}"], "hlxl: line 1"),  # valid LC-T, but not HLXL
        (["detect", "{a: 1, a: 2}"], "duplicate key"),
        (["convert", "--to", "lc-t", '"caf\\q"'], "invalid escape"),
        (["convert", "--to", "hlxl", "--from", "lc-b-hex", "500e0001"], "truncated"),
        (["convert", "--to", "hlxl", "--from", "lc-b-hex", "50zz"], "not hex"),
    ],
)
def test_invalid_input(capsys: pytest.CaptureFixture[str], argv: list[str], where: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("hlx: error: ") and where in err
    assert "Traceback" not in err


def test_check_error_has_caret_excerpt(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--format", "lc-t", "{C:14,0=42")
    assert code == 1
    assert err.splitlines()[1:] == ["  {C:14,0=42", "            ^"]


def test_invalid_binary(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b"\x50\x0e\x00\x01\x00\x10")  # truncated contract, not text either
    code, out, err = run(capsys, "check")
    assert code == 1 and out == "" and "LC-B binary" in err and "truncated" in err


def test_text_that_is_not_utf8(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b'["ok", "\xff"]\n')
    code, out, err = run(capsys, "check")
    assert code == 1 and out == ""
    assert "neither UTF-8 text nor LC-B binary: line 1, column 9: invalid UTF-8 at byte 8" in err
    feed_stdin(monkeypatch, b'"\xff"')
    code, _, err = run(capsys, "convert", "--to", "hlxl", "--from", "lc-r")
    assert code == 1 and "lc-r: line 1, column 2: invalid UTF-8" in err


def test_empty_input(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b"\n")
    code, _, err = run(capsys, "check")
    assert code == 1 and "empty" in err


# --- translate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "answer"),
    [
        ('Convert to LC-R: {1000: {@0: "search", @1: &h_documents}}', '🜊1000🜁0 "search"🜁1 ⟁documents🜂'),
        ("Parse LC-T: {C:14,0=42}", "HLXL: {14: {@0: 42}}"),
        (
            'Translate HLXL to all formats: [true, 42, "hello", null]',
            'HLXL: [true, 42, "hello", null]\nLC-R: 🜃⊤, 42, "hello", ∅🜄\nLC-T: [TRUE,42,"hello",NULL]\nLC-B: [[T,0x2a,"hello",_]]',
        ),
    ],
)
def test_translate(capsys: pytest.CaptureFixture[str], instruction: str, answer: str) -> None:
    assert run(capsys, "translate", instruction) == (0, answer + "\n", "")
    assert answer == hlx_formats.translate(instruction)


def test_translate_stdin_and_to(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, b"Convert to LC-T: [1, 2]\n")
    assert run(capsys, "translate") == (0, "[1,2]\n", "")
    assert run(capsys, "translate", "--to", "lc-r", "[1, 2]") == (0, "🜃1, 2🜄\n", "")


def test_translate_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "translate", "Make me a sandwich")
    assert code == 1 and out == "" and "unrecognised request" in err and "did you mean" in err and "Traceback" not in err

    calls = []

    def fake_translate(text: str, to: str | None = None, *, backend: str = "reference") -> str:
        calls.append((text, to, backend))
        raise BackendUnavailable("backend='moe' needs the [moe] extra")

    monkeypatch.setattr(cli, "translate", fake_translate)
    code, out, err = run(capsys, "translate", "--backend", "moe", "Convert to LC-T: [1]")
    assert calls == [("Convert to LC-T: [1]", None, "moe")]
    assert code == 1 and out == "" and "[moe] extra" in err


# --- demo ----------------------------------------------------------------------------

MOE_HEADING = "Instructions answered by the mixture of experts"


@pytest.mark.slow  # the demo's model section answers through the real mixture
def test_demo(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shipped_mixture_or_none: object) -> None:
    if shipped_mixture_or_none is not None:  # the run's one shipped mixture, not a second load (without it: the skip line)
        from hlx_moe.serving.mixture import HLXMoE

        monkeypatch.setattr(HLXMoE, "load", lambda *args, **kwargs: shipped_mixture_or_none)
    code, full, err = run(capsys, "demo")
    assert code == 0 and "Traceback" not in err
    out = full.split(MOE_HEADING)[0]  # the models' section may hold wrong answers: it is data
    for label in ("HLXL", "LC-T", "LC-R", "LC-B text", "LC-B binary"):
        assert out.count(f"     {label} ") == len(demo.EXAMPLES)
    assert out.count("✓ round trip ok") == len(demo.EXAMPLES)
    assert "✗" not in out
    # Real values: contracts 14, 900, 902 and 1000, escapes, non-ASCII, bytes, floats, big ints.
    for text in ("{14: {@0: 42}}", "{900: {@0: &h_", "🜊902🜁0", '[1000|0:"search"|1:&documents]',
                 "50 0e 00 01 00 10 2a   (7 bytes)", '\\"hi\\"', "café", "caf\\u00e9", "\\ud83c\\udf89",
                 'b"\\x00\\xff\\x22"', "#00ff22", "-0.0", "1.0e+100", "18446744073709551615",
                 "0xffffffffffffffff"):  # fmt: skip
        assert text in out, text
    for instruction, _, _ in demo.INSTRUCTIONS:
        assert f"✓ {instruction}" in out
    assert "HLXL: {14: {@0: 42}}" in out
    assert MOE_HEADING in full  # the section hlx_moe adds through the hlx.demo entry point
    if shipped_mixture_or_none is not None:  # and it answered every one of its instructions
        from hlx_moe.demo import MOE_INSTRUCTIONS

        assert f" of {len(MOE_INSTRUCTIONS)} answers match the reference exactly" in full.split(MOE_HEADING)[1]


@pytest.fixture
def core_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo without the sections other packages add (the mixture's is tested once, in
    test_demo, and with the stand-in model in test_moe.py)."""
    load_all = demo.plugins.load_all
    monkeypatch.setattr(demo.plugins, "load_all", lambda group: [] if group == demo.plugins.DEMO_SECTIONS else load_all(group))


def test_demo_checks_are_computed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, core_demo: None) -> None:
    real = demo.decode_as

    def broken(data: str | bytes, fmt: str) -> object:
        value = real(data, fmt)
        return [] if fmt == "lc-r" and value == [3.14, -0.0, 1e100, 1.5e-07, 100.0] else value

    monkeypatch.setattr(demo, "decode_as", broken)
    code, out, _ = run(capsys, "demo")
    assert code == 1
    assert "✗ LC-R" in out and "✗ round trip FAILED" in out
    assert out.count("✓ round trip ok") == len(demo.EXAMPLES) - 1


def test_demo_sections_per_source(monkeypatch: pytest.MonkeyPatch, core_demo: None) -> None:
    # One more source (as a later MoE section will be) gives one more checked section.
    original = demo.translation_sources
    monkeypatch.setattr(demo, "translation_sources", lambda: [*original(), ("always wrong", lambda _: "NULL")])
    out = io.StringIO()
    assert demo.main(out) == 1
    full = out.getvalue()
    text = full.split("\nSummary\n")[0]
    assert MOE_HEADING not in full  # no section from other packages here (core_demo)
    assert "Instructions answered by the reference codecs" in text
    assert "Instructions answered by the always wrong" in text
    assert text.count("\n  ✗ ") == len(demo.INSTRUCTIONS)
    assert "\n  ✗ " in full.split("Summary")[-1]  # and the summary line


# --- help, version, errors -----------------------------------------------------------


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "examples:" in out and "hlx convert --to lc-r" in out
    for name in ("convert", "detect", "check", "translate", "demo"):
        assert f"    {name} " in out
        code, out_sub, _ = run(capsys, name, "--help")
        assert code == 0 and "examples:" in out_sub and f"hlx {name}" in out_sub
    assert "detection (when no format is given)" in run(capsys, "convert", "--help")[1]


#: What ``hlx --version`` prints: the version and which codecs are in use.
VERSION_LINE = f"hlx {hlx_formats.__version__} ({'compiled' if hlx_formats.ACCELERATED else 'pure-Python'} codecs)\n"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, VERSION_LINE, "")


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["convert", "1"], ["convert", "--to", "xml", "1"], ["convert", "--to", "lc-t", "--bogus"],
     ["check", "1", "-i", "file"], ["translate", "--backend", "gpt", "x"]],
)  # fmt: skip
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2 and "usage: hlx" in err and "Traceback" not in err


def test_no_input_on_a_terminal_is_a_usage_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    code, _, err = run(capsys, "detect")
    assert code == 2 and "no input" in err


def test_binary_is_not_written_to_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    code, out, err = run(capsys, "convert", "--to", "lc-b-bin", "1")
    assert code == 1 and out == "" and "terminal" in err


def test_file_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.hlxl"
    code, out, err = run(capsys, "convert", "--to", "lc-t", "-i", str(missing))
    assert code == 1 and out == "" and err == f"hlx: error: cannot read {str(missing)!r}: No such file or directory\n"
    code, _, err = run(capsys, "convert", "--to", "lc-t", "-o", str(tmp_path / "no" / "dir" / "x"), "1")
    assert code == 1 and "cannot write" in err


def test_encode_error_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    # Valid in the text formats, over the LC-B binary limit of a string.
    code, out, err = run(capsys, "convert", "--to", "lc-b-hex", '"' + "x" * 70000 + '"')
    assert code == 1 and out == "" and "65535" in err and "Traceback" not in err


def test_interrupt_and_internal_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    def buggy(args: object) -> int:
        raise TypeError("oops")

    monkeypatch.setattr(cli, "run_detect", interrupted)
    monkeypatch.setattr(cli, "COMMANDS", [cli._add_detect])
    assert run(capsys, "detect", "1") == (130, "", "")
    monkeypatch.setattr(cli, "run_detect", buggy)
    code, _out, err = run(capsys, "detect", "1")
    assert code == 1 and "internal error: TypeError: oops" in err and "Traceback" not in err


# --- real processes ------------------------------------------------------------------


def hlx(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("HLX_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "hlx_formats.cli", *args], input=stdin, capture_output=True, timeout=60, env=env)


def test_process_binary_stdout_and_stdin() -> None:
    made = hlx("convert", "--to", "lc-b-bin", stdin=b"{14: {@0: 42}}\n")
    assert (made.returncode, made.stdout, made.stderr) == (0, CONTRACT_14_BIN, b"")
    back = hlx("convert", "--to", "lc-r", "-", stdin=made.stdout)
    assert (back.returncode, back.stdout, back.stderr) == (0, "🜊14🜁0 42🜂\n".encode(), b"")


def test_process_invalid_input_no_traceback() -> None:
    done = hlx("check", "--format", "lc-r", stdin="🜃1, 2".encode())
    assert done.returncode == 1 and done.stdout == b""
    assert b"line 1, column 6" in done.stderr and b"Traceback" not in done.stderr


def test_process_has_the_corpus_and_model_commands() -> None:
    # python -m runs the module as __main__; the commands hlx_moe registers must be there too
    done = hlx("corpus", "check", "--drills", "-1")
    assert done.returncode == 1 and b"--drills: expected a count of 0 or more, got -1" in done.stderr
    assert hlx("moe", "--help").returncode == 0


def test_process_does_not_import_heavy_modules() -> None:
    script = (
        "import sys\nfrom hlx_formats.cli import main\n"
        "assert main(['translate', 'Parse LC-T: {C:14,0=42}']) == 0\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'numpy', 'peft', 'llguidance') if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == ["HLXL: {14: {@0: 42}}", "heavy: []"]


def test_console_script() -> None:
    script = Path(sys.executable).with_name("hlx")
    if not script.exists():
        pytest.skip("the hlx console script is not installed next to this interpreter")
    done = subprocess.run([str(script), "--version"], capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, VERSION_LINE.encode())


def test_corpus_build_drills(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "build", "--root", str(tmp_path), "--drills", "-1"]) == 1
    assert "--drills: expected a count of 0 or more, got -1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before writing anything
    assert main(["corpus", "check", "--drills", "3", "--nesting-drills", "0"]) == 1  # the committed corpora have 1,500 and 2,000
    assert "6003 generated" in capsys.readouterr().err
    assert main(["corpus", "build", "--root", str(tmp_path), "--nesting-drills", "-2"]) == 1
    assert "--nesting-drills: expected a count of 0 or more, got -2" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_corpus_build_scale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--scale F``: a small corpus of the committed shape, every count a multiple of 8."""
    for bad in ("0", "1.5", "-0.1"):
        assert main(["corpus", "build", "--root", str(tmp_path), "--scale", bad]) == 1
        assert "--scale: expected a fraction above 0 and at most 1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    from hlx_moe.corpus.rewrites import REPAIR_REQUEST_SHARE  # (hlx_moe imported only where a test needs it)

    assert main(["corpus", "build", "--root", str(tmp_path), "--scale", "0.02"]) == 0
    lines = {path.relative_to(tmp_path).as_posix(): len(path.read_text("utf-8").splitlines()) for path in tmp_path.rglob("*.jsonl")}
    assert (
        lines["runic/validation.jsonl"] == 8
        and lines["rewrites/test.jsonl"] == 16 + 16 // REPAIR_REQUEST_SHARE
        and lines["repairs/train.jsonl"] == 80
    )
    assert lines["runic/train.jsonl"] == 120 + 32 + 40  # the examples, then the scalar and nesting drills
    assert main(["corpus", "check", "--root", str(tmp_path), "--scale", "0.02"]) == 0
    assert main(["corpus", "check", "--root", str(tmp_path), "--scale", "0.04"]) == 1


# --- convert: several values, the pretty form, JSON (issue 30) ---------------------------


def test_convert_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    feed_stdin(monkeypatch, b"[1, 2]\n\n{C:14,0=42}\n")
    assert run(capsys, "convert", "--lines", "--to", "lc-t") == (0, "[1,2]\n{C:14,0=42}\n", "")
    feed_stdin(monkeypatch, b"[1, 2]\n[3, 4\n")
    code, out, err = run(capsys, "convert", "-l", "--to", "lc-t")
    assert (code, out) == (1, "") and "line 2, column 6" in err


def test_convert_without_lines_says_to_use_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    feed_stdin(monkeypatch, b"[1, 2]\n[3, 4]\n")
    code, _, err = run(capsys, "convert", "--to", "lc-t")
    assert code == 1 and "line 2" in err and "use --lines" in err


def test_convert_several_binary_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "values.lcb"
    path.write_bytes(to_lcb([1, 2]) + CONTRACT_14_BIN + to_lcb("x"))
    assert run(capsys, "convert", "--to", "hlxl", "-i", str(path)) == (0, '[1, 2]\n{14: {@0: 42}}\n"x"\n', "")
    assert (
        run(capsys, "convert", "--lines", "--from", "lc-b-bin", "--to", "lc-b-hex", "-i", str(path))[1]
        == "60020010011002\n500e000100102a\n30010078\n"
    )
    out = tmp_path / "again.lcb"
    assert run(capsys, "convert", "--lines", "--to", "lc-b-bin", "-i", str(path), "-o", str(out))[0] == 0
    assert out.read_bytes() == path.read_bytes()
    path.write_bytes(to_lcb(1) + b"\x99")
    code, _, err = run(capsys, "convert", "--lines", "--to", "hlxl", "-i", str(path))
    assert code == 1 and "record 2: unknown tag 0x99" in err


def test_convert_lines_of_hex_and_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    feed_stdin(monkeypatch, b"500e000100102a\n1001\n")
    assert run(capsys, "convert", "--lines", "--from", "lc-b-hex", "--to", "hlxl") == (0, "{14: {@0: 42}}\n1\n", "")
    feed_stdin(monkeypatch, b'{"a": 1.0}\n[{"@handle": "x"}]\n')
    assert run(capsys, "convert", "--lines", "--from", "json", "--to", "hlxl") == (0, "{a: 1.0}\n[&h_x]\n", "")


def test_convert_indent(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "hlxl", "--indent", "2", "{C:14,0=[1]}") == (0, "{14: {\n  @0: [\n    1\n  ]\n}}\n", "")
    assert run(capsys, "convert", "--to", "json", "--indent", "1", "[1]") == (0, "[\n 1\n]\n", "")
    code, _, err = run(capsys, "convert", "--to", "lc-b", "--indent", "2", "1")
    assert code == 2 and "--indent applies to" in err
    code, _, err = run(capsys, "convert", "--to", "hlxl", "--lines", "--indent", "2", "1")
    assert code == 2 and "give one of them" in err
    code, _, err = run(capsys, "convert", "--to", "hlxl", "--indent", "99", "1")
    assert code == 1 and "indent must be" in err


def test_convert_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "json", '{14: {@0: b"hi"}}') == (
        0,
        '{"@contract": 14, "fields": {"0": {"@bytes": "6869"}}}\n',
        "",
    )
    assert run(capsys, "convert", "--from", "JSON", "--to", "lc-t", '{"@@a": [1.0, {"@handle": "h"}]}') == (0, '{"@a":[1.0,@h]}\n', "")
    code, _, err = run(capsys, "convert", "--from", "json", "--to", "lc-t", "[NaN]")
    assert code == 1 and "json: line 1, column 2: NaN is not allowed" in err
    code, _, err = run(capsys, "convert", "--to", "yaml", "1")
    assert code == 2 and "json" in err
    code, _, err = run(capsys, "check", "--format", "json", "1")
    assert code == 2  # json is a format of convert only
