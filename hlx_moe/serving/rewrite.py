"""The rewrite step: a free-form request becomes one canonical instruction, chosen by the
coordinator among those :func:`hlx_formats.rewrites.rewrite_space` allows, with a confidence.

The coordinator reads ``Rewrite as an instruction: <request>``; the probability it gives each
allowed rewrite under the grammar of exactly those rewrites comes from
:func:`hlx_moe.decoding.choices.choice_distribution`. Rewrites that the reference answers
alike are one *reading* of the request (``Convert to LC-R: 42`` and ``Translate LC-T to LC-R:
42`` ask the same), so a reading's probability is the sum of its rewrites', and the confidence
is the best reading's. Below the threshold (:func:`rewrite_threshold`) the request is refused
rather than guessed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hlx_formats.errors import HLXError, ParseError
from hlx_formats.rewrites import NOT_A_REQUEST, RewriteSpace
from hlx_moe.decoding.choices import ChoiceDistribution

__all__ = [
    "DEFAULT_REWRITE_THRESHOLD", "THRESHOLD_FILE", "Rewrite", "reading_of", "rewrite_from", "rewrite_threshold", "write_threshold",
]  # fmt: skip

#: The coordinator adapter's file that records the threshold chosen on the validation split.
THRESHOLD_FILE = "rewrite_threshold.json"
#: The threshold of an adapter without that file.
DEFAULT_REWRITE_THRESHOLD = 0.5


#: How many readings a :class:`Rewrite` lists.
READINGS_SHOWN = 3


@dataclass(frozen=True)
class Rewrite:
    """The rewrite chosen for a request: ``instruction`` (canonical, or ``NOT_A_REQUEST``: the
    most probable rewrite of the most probable reading), the log-probability of that reading
    under the grammar of the allowed rewrites (total and per token of ``instruction``), its
    ``confidence`` (that probability, 0 to 1), how many rewrites were allowed, the best
    ``readings`` (each one's most probable rewrite and the reading's probability, best first)
    and the probability left in branches too unlikely to follow (``unexplored``). ``broken``
    is the error of a value the request holds that parses in no format: its rewrites were the
    repairs of that value, and unless one of them is chosen surely the request is refused
    with that error (None for a request without one)."""

    request: str
    instruction: str
    log_probability: float
    mean_log_probability: float
    confidence: float
    candidates: int
    seconds: float = 0.0
    readings: tuple[tuple[str, float], ...] = ()
    unexplored: float = 0.0
    broken: ParseError | None = field(default=None, repr=False, compare=False)

    @property
    def is_request(self) -> bool:
        """False when the best rewrite says the request asks for none of the tasks."""
        return self.instruction != NOT_A_REQUEST

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data (``broken`` as its message, or None)."""
        found = {item.name: getattr(self, item.name) for item in fields(self)}
        found["broken"] = None if self.broken is None else str(self.broken).split("\n")[0]
        return found


def reading_of(instruction: str) -> str:
    """What identifies ``instruction``'s reading: the reference's answer to it (``"="`` and the
    answer), or the instruction itself where the reference has none (``NOT_A_REQUEST``, an
    instruction the reference refuses)."""
    from hlx_formats import translate

    if instruction == NOT_A_REQUEST:
        return instruction
    try:
        return "=" + translate(instruction)
    except HLXError:
        return instruction


def rewrite_from(space: RewriteSpace, distribution: ChoiceDistribution, tokens: Callable[[str], int]) -> Rewrite:
    """The :class:`Rewrite` of ``space`` given the model's ``distribution`` over its candidates:
    the most probable reading, its most probable rewrite; ``tokens`` counts an instruction's tokens."""
    unknown = [text for text in distribution.probabilities if text not in space.candidates]
    if unknown:
        raise HLXError(f"the rewrite {unknown[0][:80]!r} is none of the {len(space.candidates)} allowed")
    readings: dict[str, list[tuple[str, float]]] = {}
    for text, probability in distribution.probabilities.items():  # most probable first
        readings.setdefault(reading_of(text), []).append((text, probability))
    ranked = sorted(((members[0][0], sum(p for _, p in members)) for members in readings.values()), key=lambda item: -item[1])
    instruction, confidence = ranked[0]
    log_probability = math.log(max(confidence, 1e-300))
    return Rewrite(
        request=space.request,
        instruction=instruction,
        log_probability=round(log_probability, 4),
        mean_log_probability=round(log_probability / max(1, tokens(instruction)), 4),
        confidence=round(min(1.0, confidence), 4),
        candidates=len(space.candidates),
        seconds=round(distribution.seconds, 4),
        readings=tuple((text, round(probability, 4)) for text, probability in ranked[:READINGS_SHOWN]),
        unexplored=round(distribution.unexplored, 4),
        broken=space.broken,
    )


def rewrite_threshold(coordinator: Path) -> float:
    """The confidence below which a rewrite is refused: the coordinator adapter's
    :data:`THRESHOLD_FILE` (chosen on the validation split by ``hlx moe eval --rewrites
    --split validation --write-threshold``), else :data:`DEFAULT_REWRITE_THRESHOLD`."""
    path = Path(coordinator) / THRESHOLD_FILE
    if not path.is_file():
        return DEFAULT_REWRITE_THRESHOLD
    try:
        value = json.loads(path.read_text("utf-8"))["threshold"]
    except (ValueError, KeyError, TypeError) as error:
        raise HLXError(f"{path}: not a threshold file ({error})") from None
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise HLXError(f"{path}: the threshold must be a number from 0 to 1, not {value!r}")
    return float(value)


def write_threshold(coordinator: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` (``threshold`` and how it was chosen) as the adapter's threshold file."""
    from hlx_formats._atomic import atomic_write_text

    path = Path(coordinator) / THRESHOLD_FILE
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path
