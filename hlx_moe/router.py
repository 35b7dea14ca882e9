"""The router: which expert answers an instruction, decided without running a model."""

from __future__ import annotations

from dataclasses import dataclass

from hlx_formats.errors import HLXError
from hlx_formats.instructions import Instruction, parse_instruction, route

__all__ = ["Route", "route_instruction"]


@dataclass(frozen=True)
class Route:
    """The router's decision: the expert, why, and the parsed instruction (None if free text)."""

    expert: str
    reason: str
    instruction: Instruction | None


def route_instruction(text: str) -> Route:
    """Route by the instruction's formats (LC-R: runic, LC-T: ascii, everything else:
    coordinator). Text that is no known instruction goes to the coordinator too."""
    try:
        parsed = parse_instruction(text)
    except HLXError:
        return Route("coordinator", "not a known instruction form; the coordinator answers free text", None)
    expert, reason = route(parsed)
    return Route(expert, reason, parsed)
