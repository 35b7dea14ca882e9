"""The rewrite step: a free-form request becomes one canonical instruction, chosen by the
coordinator among those :func:`hlx_formats.rewrites.rewrite_space` allows, with a confidence.

The coordinator answers ``Rewrite as an instruction: <request>`` decoded greedily under the
finite grammar of the allowed rewrites (:meth:`Decoder.choose`). The confidence is the
probability of the rewrite under that grammar: the product, over the tokens the model chose,
of each one's share of the probability of the tokens the grammar allowed there. Below the
threshold (:func:`rewrite_threshold`) the request is refused rather than guessed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hlx_formats.errors import HLXError
from hlx_formats.rewrites import NOT_A_REQUEST, RewriteSpace
from hlx_moe.decoding.constraints import Choice

__all__ = ["DEFAULT_REWRITE_THRESHOLD", "THRESHOLD_FILE", "Rewrite", "rewrite_of", "rewrite_threshold", "write_threshold"]

#: The coordinator adapter's file that records the threshold chosen on the validation split.
THRESHOLD_FILE = "rewrite_threshold.json"
#: The threshold of an adapter without that file.
DEFAULT_REWRITE_THRESHOLD = 0.5


@dataclass(frozen=True)
class Rewrite:
    """The rewrite chosen for a request: ``instruction`` (canonical, or ``NOT_A_REQUEST``),
    its log-probability under the grammar of the allowed rewrites (total and per token), its
    ``confidence`` (that probability, 0 to 1) and how many rewrites were allowed."""

    request: str
    instruction: str
    log_probability: float
    mean_log_probability: float
    confidence: float
    candidates: int
    seconds: float = 0.0

    @property
    def is_request(self) -> bool:
        """False when the best rewrite says the request asks for none of the tasks."""
        return self.instruction != NOT_A_REQUEST

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rewrite_of(space: RewriteSpace, choice: Choice) -> Rewrite:
    """The :class:`Rewrite` of a choice decoded under ``rewrite_grammar(space)``."""
    if choice.text not in space.candidates:
        raise HLXError(f"the rewrite {choice.text[:80]!r} is none of the {len(space.candidates)} allowed")
    return Rewrite(
        request=space.request,
        instruction=choice.text,
        log_probability=round(choice.log_probability, 4),
        mean_log_probability=round(choice.log_probability / max(1, choice.tokens), 4),
        confidence=round(math.exp(choice.log_probability), 4),
        candidates=len(space.candidates),
        seconds=round(choice.seconds, 4),
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
