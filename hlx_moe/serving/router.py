"""The router: which expert answers an instruction, decided without running a model."""

from __future__ import annotations

from dataclasses import dataclass

from hlx_formats.errors import HLXError, ParseError
from hlx_formats.formats import decode_as, detect_value
from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.instructions import REPAIR_TASKS, Instruction, route
from hlx_formats.requests import parse_request

__all__ = ["LEARNED_TASKS", "Route", "route_instruction"]


@dataclass(frozen=True)
class Route:
    """The router's decision: the expert, why, and the parsed instruction (None if free text).
    ``read`` is False when the request description does not read the request at all (the
    rewrite step's case), True when it reads it (even as a task the experts do not learn)."""

    expert: str
    reason: str
    instruction: Instruction | None
    read: bool = True


#: The instruction tasks the experts are trained on (the corpora's tasks).
LEARNED_TASKS = frozenset({
    "all_formats", "convert_to", "translate_hlxl_to", "parse", "lct_to_lcr", "lcr_to_lct", "intent", "intent_format",
    "routing", "glyph_meaning", "glyph_for", "contract_info", "format_info", "expert_info",
})  # fmt: skip


def route_instruction(text: str) -> Route:
    """Route by the instruction's formats (LC-R: runic, LC-T: ascii, everything else:
    coordinator; a completion or fix to the expert of its format, its value not read). A
    request the request description reads (``hlx_formats.parse_request``)
    is routed as its canonical instruction when that is a task the experts learned; any
    other text gets no instruction (``None``) and why in ``reason``. A request whose value
    does not parse raises its ParseError."""
    try:
        parsed = parse_request(text).instruction
    except ParseError:
        raise  # a request whose value does not parse is refused, as the reference refuses it
    except HLXError as error:
        return Route("coordinator", str(error).split("\n")[0], None, read=False)
    if parsed.form.task in REPAIR_TASKS:  # the value is damaged by design: not read
        expert, _ = route(parsed)
        what = "a completion" if parsed.form.task == "complete" else "a fix"
        return Route(expert, f"{what} of an {FORMAT_TITLES[parsed.target_format]} value", parsed)
    # A value that does not parse raises its ParseError: refused, as the reference refuses it
    # (or words read as the value: the mixture rewrites the request).
    if parsed.value_text is not None and parsed.source_format is not None:
        decode_as(parsed.value_text, parsed.source_format)
    elif parsed.value_text is not None:
        detect_value(parsed.value_text)
    if parsed.form.task not in LEARNED_TASKS:
        return Route("coordinator", f"a {parsed.form.task} request, which the experts are not trained for (the reference answers it)", None)
    expert, reason = route(parsed)
    return Route(expert, reason, parsed)
