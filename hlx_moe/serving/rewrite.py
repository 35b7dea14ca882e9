"""The rewrite step: a free-form request becomes one canonical instruction, chosen by the
coordinator among those :func:`hlx_formats.rewrites.rewrite_space` allows, with a confidence.

The coordinator scores every allowed rewrite (its log-probability of answering ``Rewrite as
an instruction: <request>`` with it, :meth:`Decoder.score_many`): exactly what decoding
under the finite grammar of the allowed rewrites would choose. The confidence is the best
rewrite's share of the probability of all of them (a softmax over their scores); below the
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

__all__ = ["DEFAULT_REWRITE_THRESHOLD", "THRESHOLD_FILE", "Rewrite", "choose_rewrite", "rewrite_threshold", "write_threshold"]

#: The coordinator adapter's file that records the threshold chosen on the validation split.
THRESHOLD_FILE = "rewrite_threshold.json"
#: The threshold of an adapter without that file.
DEFAULT_REWRITE_THRESHOLD = 0.5


@dataclass(frozen=True)
class Rewrite:
    """The rewrite chosen for a request: ``instruction`` (canonical, or ``NOT_A_REQUEST``),
    its total and mean token log-probability, its ``confidence`` (its share of the
    probability of every allowed rewrite, 0 to 1), the second-best rewrite and how many
    rewrites were allowed."""

    request: str
    instruction: str
    log_probability: float
    mean_log_probability: float
    confidence: float
    runner_up: str | None
    candidates: int
    seconds: float = 0.0

    @property
    def is_request(self) -> bool:
        """False when the best rewrite says the request asks for none of the tasks."""
        return self.instruction != NOT_A_REQUEST

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_rewrite(space: RewriteSpace, scores: list[tuple[float, int]], seconds: float = 0.0) -> Rewrite:
    """The best of ``space.candidates`` by ``scores`` (total log-probability and tokens, one
    per candidate, in order); the first of equals wins."""
    if len(scores) != len(space.candidates) or not scores:
        raise HLXError(f"{len(scores)} scores for {len(space.candidates)} rewrites")
    order = sorted(range(len(scores)), key=lambda index: -scores[index][0])
    best = order[0]
    top = scores[best][0]
    total = sum(math.exp(score - top) for score, _ in scores)
    runner_up = space.candidates[order[1]] if len(order) > 1 else None
    return Rewrite(
        request=space.request,
        instruction=space.candidates[best],
        log_probability=round(top, 4),
        mean_log_probability=round(top / max(1, scores[best][1]), 4),
        confidence=round(1.0 / total, 4),
        runner_up=runner_up,
        candidates=len(scores),
        seconds=round(seconds, 4),
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
