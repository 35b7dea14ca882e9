"""The ``hlx`` command: convert, detect and check HLX values, answer instructions, run the demo.

Each subcommand is a small function registered with :func:`command`; :func:`build_parser`
builds the argument parser from that registry and :func:`main` runs it. A later command is
added by writing one more registered function (keep heavy imports, such as torch, inside the
command's handler so that ``hlx --help`` and the other commands stay fast).

Exit status: 0 on success, 1 for invalid input or a failed command (the message goes to
stderr as ``hlx: error: ...``), 2 for a usage error, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ACCELERATED, __version__, plugins
from ._atomic import atomic_write_bytes, write_all
from .api import decode_as, detect_format, translate
from .codec import INDENTED_FORMATS, dumps
from .errors import HLXError, ParseError
from .grammar import FORMATS, normalize_format, text_input
from .json_bridge import from_json, to_json
from .lcb import read_binary, to_lcb
from .model import MAX_INPUT_SIZE
from .requests import parse_request
from .streams import decode_lines, iter_binary, iter_load

#: Which codecs are in use, for ``hlx --version``.
_CODECS = "compiled codecs" if ACCELERATED else "pure-Python codecs"

__all__ = ["main", "build_parser", "command", "CLIError", "add_command", "examples"]

PROG = "hlx"

#: Output/input formats besides the four text notations: LC-B binary, raw or as hex digits.
BINARY_FORMATS = ("lc-b-bin", "lc-b-hex")
ALL_FORMATS = FORMATS + BINARY_FORMATS

FORMATS_HELP = """\
formats:
  hlxl       HLXL, the readable form          {14: {@0: 42}}
  lc-t       LC-T, compact ASCII              {C:14,0=42}
  lc-r       LC-R, runic glyphs               🜊14🜁0 42🜂
  lc-b       LC-B text notation               [14|0:0x2a]
  lc-b-bin   LC-B binary, raw bytes           (7 bytes)
  lc-b-hex   LC-B binary as lower-case hex    500e000100102a
  aliases: lct, lc_t, ascii = lc-t; lcr, lc_r, runic = lc-r; lcb, lc_b = lc-b.
  As an input format, lc-b reads the text notation, else binary, else hex."""

INPUT_HELP = """\
input:
  TEXT, or the file given with -i FILE, or standard input when TEXT is '-' or
  absent. Input from a file or stdin loses one trailing newline (LF or CRLF);
  binary input is read as is. An argument that starts with '-' and is not a
  plain number (such as -1e5) goes after '--'. Input over 16 MiB is refused."""

DETECTION_HELP = """\
detection (when no format is given):
  1. if the input is UTF-8 text valid in a text format: the first of HLXL,
     LC-T, LC-R, LC-B text in which it is canonical, else the first in which
     it parses (so '[1, 2]' is HLXL, '[1,2]' is LC-T, '[[0x01]]' is LC-B);
  2. otherwise, if the bytes are valid LC-B binary: LC-B (binary);
  3. otherwise, if the input is hex digits ('500e000100102a', spaces
     allowed): LC-B binary written in hex;
  4. otherwise an error, with line, column and a caret under the problem."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help as written (examples keep their lines), with the command list aligned.

    (argparse measures subcommand names one indent short, which pushes the help of a
    long name such as ``translate`` onto a line of its own.)
    """

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            for subaction in self._iter_indented_subactions(action):  # indented while iterating
                length = len(self._format_action_invocation(subaction)) + self._current_indent
                self._action_max_length = max(self._action_max_length, length)


def examples(*rows: tuple[str, str]) -> str:
    """An "examples:" block: one command a line, its comment (if any) aligned after it."""
    width = max((len(cmd) for cmd, comment in rows if comment and len(cmd) <= 60), default=0)
    lines = ["examples:"]
    for cmd, comment in rows:
        lines.append(f"  {cmd:<{width}}  # {comment}" if comment else f"  {cmd}")
    return "\n".join(lines)


class CLIError(Exception):
    """A failure to report as ``hlx: error: <message>`` with exit status 1."""


# --- the command registry ------------------------------------------------------------

#: A function that adds one subcommand to the subparsers of ``hlx`` (and sets ``handler``).
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
#: The subcommands of ``hlx``, in the order ``hlx --help`` lists them.
COMMANDS: list[Registrar] = []


def command(registrar: Registrar) -> Registrar:
    """Register a function that adds a subcommand (use as a decorator)."""
    COMMANDS.append(registrar)
    return registrar


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    summary: str,
    description: str = "",
    epilog: str = "",
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` (help formatted as written) whose ``handler(args)`` returns the exit status."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description or summary,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(handler=handler, command_parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hlx``, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "HLX value formats: one data model, four notations (HLXL, LC-T, LC-R, LC-B).\n"
            "Convert between them, detect and check inputs, answer corpus instructions."
        ),
        epilog=TOP_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__} ({_CODECS})")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for registrar in [*COMMANDS, *plugins.load_all(plugins.COMMANDS)]:
        registrar(subparsers)
    return parser


TOP_EPILOG = (
    examples(
        ("hlx convert --to lc-r '{1000: {@0: \"search\", @1: &h_documents}}'", ""),
        ("echo '[1, 2]' | hlx convert --to lc-t", "[1,2]"),
        ("hlx convert --to lc-b-bin -i value.hlxl -o value.lcb", ""),
        ("hlx convert --to hlxl -i value.lcb", "binary input is detected"),
        ("hlx detect '[1,2,3]'", "lc-t"),
        ("hlx check '{C:14,0=42'", "error, with line and column"),
        ("hlx translate 'Parse LC-T: {C:14,0=42}'", "HLXL: {14: {@0: 42}}"),
        ("hlx demo", ""),
        ("hlx corpus check", "the committed corpora are what the generator writes"),
        ("hlx moe query 'Convert to LC-R: [1, 2]'", "needs the [moe] extra"),
    )
    + f"""

Run 'hlx COMMAND --help' for the options and examples of each command.

{FORMATS_HELP}

exit status: 0 ok, 1 invalid input or failure, 2 usage error, 130 interrupted."""
)


# --- format names --------------------------------------------------------------------


def format_name(name: str) -> str:
    """An argparse ``type``: a format name or alias → its canonical name (or lc-b-bin/lc-b-hex)."""
    key = name.strip().lower().replace("_", "-")
    for suffix in ("-bin", "-hex"):
        if key.endswith(suffix):
            try:
                if normalize_format(key[: -len(suffix)]) == "lc-b":
                    return "lc-b" + suffix
            except HLXError:
                pass
            break
    try:
        return normalize_format(name)
    except HLXError:
        raise argparse.ArgumentTypeError(f"unknown format {name!r}; expected one of: {', '.join(ALL_FORMATS)}") from None


# --- input ---------------------------------------------------------------------------


@dataclass
class Input:
    """What was read: the raw bytes, and the text (one trailing newline less) if UTF-8."""

    data: bytes
    text: str | None
    source: str  # "argument", "stdin" or the file name, for messages


def add_input_arguments(parser: argparse.ArgumentParser, what: str = "the value") -> None:
    """The positional TEXT (or '-') and ``-i/--input FILE`` of a command."""
    parser.add_argument(
        "text",
        nargs="?",
        metavar="TEXT",
        help=f"{what} (default, or '-': read standard input)",
    )
    parser.add_argument("-i", "--input", metavar="FILE", help=f"read {what} from FILE (as bytes; '-' is stdin)")


def _strip_newline(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _read_stdin() -> bytes:
    stream = sys.stdin
    if stream is None:
        return b""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return _capped(buffer.read(MAX_INPUT_SIZE + 1), "standard input")
    data = stream.read(MAX_INPUT_SIZE + 1)
    return _capped(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data, "standard input")


def _capped(data: bytes, source: str) -> bytes:
    """``data``, read with one byte to spare; CLIError when it is over MAX_INPUT_SIZE."""
    if len(data) > MAX_INPUT_SIZE:
        raise CLIError(f"{source} is larger than the limit of {MAX_INPUT_SIZE} bytes (16 MiB)")
    return data


def read_input(args: argparse.Namespace) -> Input:
    """Read the input of a command from TEXT, ``-i FILE`` or stdin (see ``INPUT_HELP``)."""
    parser: argparse.ArgumentParser = args.command_parser
    if args.input is not None and args.text is not None:
        parser.error("give TEXT or -i FILE, not both")
    if args.input is not None and args.input != "-":
        try:
            with open(args.input, "rb") as handle:
                data = _capped(handle.read(MAX_INPUT_SIZE + 1), repr(args.input))
        except OSError as error:
            raise CLIError(f"cannot read {args.input!r}: {error.strerror or error}") from None
        source = args.input
    elif args.input == "-" or args.text == "-" or args.text is None:
        if args.input is None and args.text is None and _isatty(sys.stdin):
            parser.error("no input: give TEXT, -i FILE, or pipe the input into standard input")
        data = _read_stdin()
        source = "stdin"
    else:
        # os.fsencode gives back the bytes of the argument, even ones that are not UTF-8.
        return Input(data=os.fsencode(args.text), text=_utf8(os.fsencode(args.text)), source="argument")
    return Input(data=data, text=_utf8(_strip_newline(data)), source=source)


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEX = re.compile(r"\s*(?:[0-9a-fA-F]{2}\s*)+")


#: First bytes that can start LC-B binary (the tags).
_TAGS = frozenset((0x00, 0x01, 0x02, *range(0x10, 0x18), 0x20, 0x21, 0x30, 0x31, 0x40, 0x50, 0x60, 0x70))


def _looks_binary(source: Input) -> bool:
    """Whether to report the LC-B binary error, rather than the text one, for bad input."""
    starts_with_tag = bool(source.data) and source.data[0] in _TAGS
    return starts_with_tag and (source.text is None or _CONTROL.search(source.data) is not None)


def _from_hex(text: str) -> bytes:
    """The bytes written as hex digits in ``text`` (whitespace allowed); ParseError if not hex."""
    digits = 0
    for offset, char in enumerate(text):
        if char in " \t\r\n":
            continue
        if char not in "0123456789abcdefABCDEF":
            reason = f"not hex: unexpected character {char!r}"
            raise ParseError("lc-b-hex", reason, line=1, column=offset + 1, offset=offset, excerpt=_caret(text, offset))
        digits += 1
    if digits == 0 or digits % 2:
        reason = "not hex: no hex digits" if digits == 0 else f"not hex: an odd number of hex digits ({digits})"
        end = len(text)
        raise ParseError("lc-b-hex", reason, line=1, column=end + 1, offset=end, excerpt=_caret(text, end))
    return bytes.fromhex(text)


def _caret(text: str, offset: int) -> str:
    start = max(0, offset - 30)
    shown = text[start : start + 60].replace("\n", " ").replace("\t", " ").replace("\r", " ")
    return f"  {shown}\n  {' ' * (offset - start)}^"


def _text_or_error(source: Input, fmt: str) -> str:
    """The input as text, or the ParseError (with the position of the bad byte) if not UTF-8."""
    return source.text if source.text is not None else text_input(_strip_newline(source.data), fmt)


def read_value(source: Input, fmt: str | None) -> tuple[str, Any]:
    """The format (``lc-b`` for binary) and the value of the input; HLXError if invalid.

    ``fmt`` is None (detect: see ``DETECTION_HELP``), a text format, ``lc-b`` (text
    notation, else binary, else hex), ``lc-b-bin`` or ``lc-b-hex``.
    """
    if fmt == "lc-b-bin":
        return "lc-b", read_binary(source.data)
    if fmt == "lc-b-hex":
        return "lc-b", read_binary(_from_hex(_text_or_error(source, "lc-b")))
    if fmt is not None and fmt != "lc-b":
        return fmt, decode_as(_text_or_error(source, fmt), fmt)
    if not source.data.strip():
        raise CLIError(f"no value: the input ({source.source}) is empty")

    text_error: HLXError | None = None
    if source.text is not None:
        try:
            found = detect_format(source.text) if fmt is None else "lc-b"
            return found, decode_as(source.text, found)
        except HLXError as error:
            text_error = error
    try:
        return "lc-b", read_binary(source.data)
    except HLXError as error:
        binary_error = error
    hex_error: HLXError | None = None
    if source.text is not None and _HEX.fullmatch(source.text):
        try:
            return "lc-b", read_binary(_from_hex(source.text))
        except HLXError as error:
            hex_error = error
    if hex_error is not None:
        raise CLIError(f"input read as LC-B binary in hex: {hex_error}")
    if _looks_binary(source):
        raise CLIError(f"input read as LC-B binary: {binary_error}")
    if text_error is None:  # not UTF-8
        try:
            text_input(_strip_newline(source.data), "hlxl")
        except ParseError as error:
            raise CLIError(
                f"the input is neither UTF-8 text nor LC-B binary: line {error.line}, column {error.column}: "
                f"{error.reason}\n{error.excerpt}"
            ) from None
        raise CLIError(f"input read as LC-B binary: {binary_error}")  # pragma: no cover
    raise text_error


# --- output --------------------------------------------------------------------------


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE instead of stdout")
    parser.add_argument("-n", "--no-newline", action="store_true", help="do not end text output with a newline")


def write_stdout(data: bytes) -> None:
    """Write bytes to standard output (UTF-8 text or binary), after any pending text."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8", "surrogateescape"))
        stream.flush()
        return
    stream.flush()
    write_all(buffer, data)  # an unbuffered stream may take only a part of one write
    buffer.flush()


def write_output(args: argparse.Namespace, data: bytes, *, binary: bool = False) -> None:
    """Write a command's result to ``-o FILE`` or stdout."""
    target = getattr(args, "output", None)
    if target is not None and target != "-":
        try:
            atomic_write_bytes(target, data)
        except OSError as error:
            raise CLIError(f"cannot write {target!r}: {error.strerror or error}") from None
        return
    if binary and _isatty(sys.stdout):
        raise CLIError("refusing to write binary LC-B to a terminal; use -o FILE, a pipe, or --to lc-b-hex")
    write_stdout(data)


def _text_result(args: argparse.Namespace, text: str) -> bytes:
    return (text if getattr(args, "no_newline", False) else text + "\n").encode("utf-8")


# --- commands ------------------------------------------------------------------------


@command
def _add_convert(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "convert",
        run_convert,
        summary="rewrite a value in another format (canonical output)",
        description=(
            "Rewrite a value in another format. The output is canonical: the one spelling\n"
            "the encoders emit, whatever lenient spelling the input used.\n\n"
            f"{INPUT_HELP}\n\n{DETECTION_HELP}\n\n"
            "output:\n"
            "  text formats (and lc-b-hex) end with a newline, on stdout and in -o FILE\n"
            "  alike (-n leaves it out; input from a file loses it again, so files\n"
            "  round-trip); lc-b-bin writes the raw bytes and nothing else, and is not\n"
            "  written to a terminal."
        ),
        epilog=examples(
            ("hlx convert --to lc-t '{14: {@0: 42}}'", "{C:14,0=42}"),
            ("hlx convert --to lc-r '{C:1000,0=\"search\",1=@documents}'", ""),
            ("hlx convert --to lc-b '[1, 2, 3]'", "[[0x01,0x02,0x03]]"),
            ("hlx convert --to hlxl --from lc-t '[1,2,3]'", "[1, 2, 3]"),
            ("echo '{name: \"Alice\"}' | hlx convert --to lc-t -", '{name:"Alice"}'),
            ("hlx convert --to lc-b-hex '{14: {@0: 42}}'", "500e000100102a"),
            ("hlx convert --to lc-b-bin '{14: {@0: 42}}' -o value.lcb", "7 bytes"),
            ("hlx convert --to hlxl -i value.lcb", "{14: {@0: 42}}"),
            ("hlx convert --to lc-r 500e000100102a", "hex is read as binary"),
            ("hlx convert --to lc-b -- -1e5", "[-100000.0]"),
            ("hlx convert --to hlxl --indent 2 '{C:14,0=42}'", "the pretty form, one member a line"),
            ("printf '[1, 2]\\n[3, 4]\\n' | hlx convert --lines --to lc-t", "[1,2] and [3,4], one a line"),
            ("hlx convert --to json '{14: {@0: b\"hi\"}}'", '{"@contract": 14, "fields": ...}'),
            ("hlx convert --from json --to hlxl '{\"a\": 1.0}'", "{a: 1.0}"),
        )
        + f"""

{FORMATS_HELP}
  json       JSON, in the bridge's mapping (docs/api.md), with --to and --from
             only: JSON input is never detected (most JSON is HLXL too).

several values:
  --lines reads one value a line (blank lines skipped) and writes one a line
  (lc-b-bin: the binary values one after another). Without it, binary input
  that holds several LC-B values one after another is converted value by
  value, one a line.""",
    )
    parser.add_argument("-t", "--to", required=True, type=convert_format_name, metavar="FMT", help="output format")
    parser.add_argument(
        "-f", "--from", dest="from_", type=convert_format_name, metavar="FMT",
        help="input format (default: detected, as described above)",
    )  # fmt: skip
    parser.add_argument("-l", "--lines", action="store_true", help="one value a line, in and out (as JSON Lines)")
    parser.add_argument(
        "--indent", type=int, metavar="N",
        help=f"write the pretty form, N spaces a level (0..16; {', '.join(INDENTED_FORMATS)}, json)",
    )  # fmt: skip
    add_input_arguments(parser)
    add_output_arguments(parser)


#: Formats ``hlx convert`` reads and writes besides ALL_FORMATS: the JSON bridge.
CONVERT_FORMATS = ALL_FORMATS + ("json",)


def convert_format_name(name: str) -> str:
    """An argparse ``type`` for ``hlx convert``: a name :func:`format_name` knows, or ``json``."""
    if name.strip().lower() == "json":
        return "json"
    try:
        return format_name(name)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"unknown format {name!r}; expected one of: {', '.join(CONVERT_FORMATS)}") from None


def run_convert(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.command_parser
    if args.indent is not None and args.lines:
        parser.error("--indent writes several lines a value; --lines writes one: give one of them")
    if args.indent is not None and args.to not in (*INDENTED_FORMATS, "json"):
        parser.error(f"--indent applies to {', '.join(INDENTED_FORMATS)} and json, not {args.to}")
    source = read_input(args)
    values = _read_lines(source, args.from_) if args.lines else _read_values(source, args.from_)
    if args.to == "lc-b-bin":
        write_output(args, b"".join(to_lcb(value) for value in values), binary=True)
    else:
        write_output(args, _text_result(args, "\n".join(_write_text(value, args.to, args.indent) for value in values)))
    return 0


def _write_text(value: Any, fmt: str, indent: int | None) -> str:
    """``value`` as one output text of ``hlx convert`` (lc-b-hex, json or a text format)."""
    if fmt == "lc-b-hex":
        return to_lcb(value).hex()
    if fmt == "json":
        return to_json(value, indent=indent)
    return dumps(value, fmt, indent=indent)


def _read_values(source: Input, fmt: str | None) -> list[Any]:
    """The value of the input; or, for binary input that holds several LC-B values one after
    another, each of them."""
    if fmt == "json":
        return [from_json(_text_or_error(source, "hlxl"))]
    try:
        return [read_value(source, fmt)[1]]
    except (HLXError, CLIError) as error:
        several = _several_binary(source) if fmt in (None, "lc-b", "lc-b-bin") else None
        if several is not None:
            return several
        if isinstance(error, ParseError) and error.line > 1 and _first_line_is_value(source, fmt):
            raise CLIError(f"{error}\n(the first line is a value by itself: for one value a line, use --lines)") from None
        raise


def _several_binary(source: Input) -> list[Any] | None:
    """The LC-B binary values one after another in the input, if it holds two or more."""
    try:
        values = list(iter_binary(source.data))
    except HLXError:
        return None
    return values if len(values) > 1 else None


def _first_line_is_value(source: Input, fmt: str | None) -> bool:
    """Whether the first line of a text input that failed on a later line is a value alone."""
    first = (source.text or "").lstrip("\r\n").split("\n", 1)[0]
    try:
        read_value(Input(data=first.encode("utf-8"), text=first, source=source.source), fmt)
    except (HLXError, CLIError):
        return False
    return True


def _read_lines(source: Input, fmt: str | None) -> list[Any]:
    """The values of an input read one a line (``lc-b-bin``: binary values one after another)."""
    if fmt == "lc-b-bin":
        return list(iter_binary(source.data))
    if fmt == "lc-b-hex":
        return list(decode_lines(source.data.split(b"\n"), lambda text: read_binary(_from_hex(text.strip())), "lc-b"))
    if fmt == "json":
        return list(decode_lines(source.data.split(b"\n"), from_json, None))
    return list(iter_load(source.data, fmt))


@command
def _add_detect(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "detect",
        run_detect,
        summary="print the format of a value (hlxl, lc-t, lc-r or lc-b)",
        description=(
            "Print the format of a value: hlxl, lc-t, lc-r or lc-b (LC-B text notation,\n"
            "binary, or binary in hex). Invalid input is an error (exit status 1).\n\n"
            f"{INPUT_HELP}\n\n{DETECTION_HELP}"
        ),
        epilog=examples(
            ("hlx detect '[1, 2, 3]'", "hlxl"),
            ("hlx detect '[1,2,3]'", "lc-t"),
            ("hlx detect '🜃1, 2, 3🜄'", "lc-r"),
            ("hlx detect '[[0x01,0x02]]'", "lc-b"),
            ("hlx detect -i value.lcb", "lc-b (binary)"),
            ("printf '{C:14,0=42}' | hlx detect", "lc-t"),
        ),
    )
    add_input_arguments(parser)


def run_detect(args: argparse.Namespace) -> int:
    found, _ = read_value(read_input(args), None)
    write_stdout(f"{found}\n".encode())
    return 0


@command
def _add_check(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "check",
        run_check,
        summary="check that a value is valid (in a given format, or any)",
        description=(
            "Check that the input is a valid value: print 'ok: FORMAT' and exit 0, or\n"
            "print the problem (format, line, column, the line with a caret under the\n"
            "spot) to stderr and exit 1. Lenient spellings are valid.\n\n"
            f"{INPUT_HELP}\n\n{DETECTION_HELP}"
        ),
        epilog=examples(
            ("hlx check '{14: {@0: 42}}'", "ok: hlxl"),
            ("hlx check --format lc-t '{C:1000, 0=\"test\", 1=@x}'", "ok: lc-t (lenient spacing)"),
            ("hlx check --format lc-t '{C:14,0=42'", "error at line 1, column 11"),
            ("hlx check -i corpus_line.txt", ""),
            ("hlx check --format lc-b-bin -i value.lcb", "ok: lc-b"),
        )
        + f"""

{FORMATS_HELP}""",
    )
    parser.add_argument(
        "-f", "--format", dest="format", type=format_name, metavar="FMT",
        help="the format the input must be in (default: any; detected)",
    )  # fmt: skip
    add_input_arguments(parser)


def run_check(args: argparse.Namespace) -> int:
    found, _ = read_value(read_input(args), args.format)
    write_stdout(f"ok: {found}\n".encode())
    return 0


@command
def _add_translate(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "translate",
        run_translate,
        summary="answer a request ('Convert [1, 2] to LC-R', 'Validate LC-T: ...', 'What is LC-B?')",
        description=(
            "Answer a request as hlx_formats.translate() does: a canonical instruction or any\n"
            "phrasing of the request description (docs/api.md, 'Requests'). The request is the\n"
            "argument, or standard input when it is '-' or absent (one trailing newline\n"
            "removed). The answer is canonical.\n\n"
            "requests such as:\n"
            "  Convert [1, 2] to LC-R            Convert to LC-T: <value>\n"
            "  Translate from LC-T to LC-R: <LC-T>   Show <value> in all HLX formats\n"
            "  Convert <value> to LC-T and LC-R  (one labelled line each)\n"
            "  HLXL: <HLXL>                      (the other three formats)\n"
            "  Validate LC-T: <value>            Explain <value>\n"
            "  What is contract 1000?            Which specialist handles LC-R?\n"
            "(a request that is not understood, or that reads two ways, is an error that says\n"
            "what was understood and the closest canonical phrasing; --canonical prints the\n"
            "canonical instruction a request is equivalent to, without answering it)\n\n"
            "backends:\n"
            "  reference  the deterministic codecs of hlx_formats (default)\n"
            "  moe        the mixture of experts of hlx_moe (needs the [moe] extra)"
        ),
        epilog=examples(
            ("hlx translate 'Convert to LC-R: {1000: {@0: \"search\", @1: &h_documents}}'", ""),
            ("hlx translate 'Parse LC-T: {C:14,0=42}'", "HLXL: {14: {@0: 42}}"),
            ("hlx translate 'please convert [1, 2] to runic'", ""),
            ("hlx translate --canonical 'Show me [1, 2] in all HLX formats'", "Translate HLXL to all formats: [1, 2]"),
            ("hlx translate 'Translate HLXL to all formats: [true, 42, \"hello\", null]'", ""),
            ("hlx translate --to lc-t '[1, 2, 3]'", "a value, not an instruction"),
            ("hlx translate --backend moe 'Convert to LC-T: [1, 2]'", ""),
        ),
    )
    parser.add_argument("text", nargs="?", metavar="INSTRUCTION", help="the instruction (default, or '-': stdin)")
    parser.add_argument("-b", "--backend", choices=("reference", "moe"), default="reference", help="who answers (default: reference)")
    parser.add_argument(
        "-t", "--to", type=format_name, metavar="FMT",
        help="treat the input as a value and convert it to FMT (a text format) instead",
    )  # fmt: skip
    parser.add_argument(
        "--canonical", action="store_true",
        help="print the canonical instruction the request is equivalent to instead of answering it",
    )  # fmt: skip
    parser.set_defaults(input=None)


def run_translate(args: argparse.Namespace) -> int:
    source = read_input(args)
    if source.text is None:
        raise CLIError(f"the instruction ({source.source}) is not UTF-8 text")
    if args.to in BINARY_FORMATS:
        raise CLIError(f"translate answers in text; use 'hlx convert --to {args.to}' for binary")
    if args.canonical:
        if args.to is not None:
            raise CLIError("--canonical reads a request; it takes no --to")
        write_stdout((parse_request(source.text).render() + "\n").encode("utf-8"))
        return 0
    answer = translate(source.text, args.to, backend=args.backend)
    write_stdout((answer + "\n").encode("utf-8"))
    return 0


@command
def _add_demo(subparsers: Any) -> None:
    add_command(
        subparsers,
        "demo",
        run_demo,
        summary="show values in all four formats, round trips and translations",
        description=(
            "Show example values (contracts, nested objects and arrays, strings, bytes,\n"
            "floats, big integers) in HLXL, LC-T, LC-R, LC-B text and LC-B binary, check\n"
            "that each one round-trips through every format, and answer a few instructions."
        ),
        epilog=examples(("hlx demo", ""), ("hlx demo | less", "")),
    )


def run_demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.main()


# --- main ----------------------------------------------------------------------------


def _report(message: str) -> None:
    try:
        sys.stderr.write(f"{PROG}: error: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    _report(str(code))
    return 1


def _silence_stdout() -> None:
    # After a broken pipe, point stdout at /dev/null so that the final flush at exit is quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run ``hlx`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:
            return _exit_code(exit_.code)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return 2
        try:
            code: int = handler(args)
            return code
        except SystemExit as exit_:  # parser.error() inside a command: a usage error
            return _exit_code(exit_.code)
    except (HLXError, CLIError) as error:
        _report(str(error))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except Exception as error:  # a bug, not bad input: say so, without a traceback
        if os.environ.get("HLX_DEBUG"):
            raise
        _report(f"internal error: {type(error).__name__}: {error} (a bug in hlx; run with HLX_DEBUG=1 for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
