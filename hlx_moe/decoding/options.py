"""How the mixture decodes an answer: one frozen value that ``HLXMoE.load``, ``HLXMoE.query``
and the ``hlx moe`` commands take, checked once when it is made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hlx_formats.errors import HLXError

__all__ = ["DecodingOptions", "MAX_BEAMS", "check_num_beams"]

MAX_BEAMS = 16  # the widest beam search decoding accepts


def check_num_beams(num_beams: Any) -> int:
    """``num_beams`` if it is a beam width decoding accepts (1 to ``MAX_BEAMS``), else an HLXError."""
    if not isinstance(num_beams, int) or isinstance(num_beams, bool) or not 1 <= num_beams <= MAX_BEAMS:
        raise HLXError(f"num_beams must be an integer from 1 to {MAX_BEAMS}, not {num_beams!r}")
    return num_beams


@dataclass(frozen=True)
class DecodingOptions:
    """How an answer is decoded.

    * ``constrained`` (True): a format answer under its grammar and the checks beyond it;
      False decodes freely (to measure what the constraint adds).
    * ``num_beams`` (1): greedy decoding, or a beam search of that width (2 to ``MAX_BEAMS``).
    * ``round_trip`` (False): of the beam search's best answers, take the one that
      translates back best (:mod:`hlx_moe.decoding.round_trip`); needs ``num_beams`` >= 2.
    * ``source_literals`` (True): a constrained answer's literals and keys only from those
      written in the instruction's value (:mod:`hlx_moe.decoding.source_literals`).
    * ``literal_order`` (True): steer a constrained answer to write them in the value's order.
    * ``max_new_tokens`` (None): the token budget; None sizes it from the value's length
      (a format answer) or from the longest answer of its task in the corpora (a text answer).
    * ``rewrite_threshold`` (None): the confidence (0 to 1) below which a rewritten request is
      refused (``NotUnderstood``); None: the coordinator adapter's, chosen on the validation
      split (:func:`hlx_moe.serving.rewrite.rewrite_threshold`).
    """

    constrained: bool = True
    num_beams: int = 1
    round_trip: bool = False
    source_literals: bool = True
    literal_order: bool = True
    max_new_tokens: int | None = None
    rewrite_threshold: float | None = None

    def __post_init__(self) -> None:
        for name in ("constrained", "round_trip", "source_literals", "literal_order"):
            if not isinstance(getattr(self, name), bool):
                raise HLXError(f"{name} must be True or False, not {getattr(self, name)!r}")
        check_num_beams(self.num_beams)
        if self.round_trip and self.num_beams < 2:
            raise HLXError("round_trip reranks the answers of a beam search: it needs num_beams of 2 or more, not 1")
        budget = self.max_new_tokens
        if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
            raise HLXError(f"max_new_tokens must be a positive integer or None, not {budget!r}")
        threshold = self.rewrite_threshold
        if threshold is not None and (not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1):
            raise HLXError(f"rewrite_threshold must be a number from 0 to 1 or None, not {threshold!r}")

    def replace(self, **changes: Any) -> DecodingOptions:
        """These options with ``changes`` (those given as None keep their value)."""
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(self)})
        if unknown:
            raise HLXError(f"unknown decoding option {unknown[0]!r}")
        return dataclasses.replace(self, **{name: value for name, value in changes.items() if value is not None})
