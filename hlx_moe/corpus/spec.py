"""The corpora's layout: experts, splits, the prompt template and how many examples to make."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SEED", "DEFAULT_SPEC", "EXPERTS", "SPLITS", "CorpusSpec", "prompt_of"]

DEFAULT_SEED = 20261125
EXPERTS = ("runic", "ascii", "coordinator")
SPLITS = ("train", "validation", "test")
PROMPT_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"


def prompt_of(instruction: str) -> str:
    """The model input for an instruction, in the original corpora's shape."""
    return PROMPT_TEMPLATE.format(instruction=instruction)


@dataclass(frozen=True)
class CorpusSpec:
    """How many examples to make, per split, for each expert."""

    train: dict[str, int]
    validation: int = 360
    test: int = 600
    test_ood: int = 150  # extra test examples with deeper, longer values
    seed: int = DEFAULT_SEED
    drills: dict[str, int] | None = None  # extra training examples per expert (see ScalarDrill)
    nesting_drills: dict[str, int] | None = None  # deep values repeating a shape, after the drills (see NestingDrill)
    requests: dict[str, int] | None = None  # request phrasings per split (None: phrasings.REQUEST_COUNTS)
    rewrites: dict[str, int] | None = None  # rewrite rows per split, half of test held out (None: rewrites.REWRITE_COUNTS)
    repairs: dict[str, int] | None = None  # completion and fix rows per split (None: repairs.REPAIR_COUNTS)


#: The committed corpora, with 1,500 scalar drills and then 2,000 nesting drills at the end
#: of each training split: the shipped adapters were trained on them (``hlx corpus build
#: --drills 0 --nesting-drills 0`` leaves them out; what they did is in docs/moe-results.md).
DEFAULT_DRILLS = 1500
DEFAULT_NESTING_DRILLS = 2000
DEFAULT_SPEC = CorpusSpec(
    train={"runic": 6000, "ascii": 6000, "coordinator": 3600},
    drills=dict.fromkeys(EXPERTS, DEFAULT_DRILLS),
    nesting_drills=dict.fromkeys(EXPERTS, DEFAULT_NESTING_DRILLS),
)
