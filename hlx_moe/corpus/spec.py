"""The corpora's layout: experts, splits, the prompt template and how many examples to make."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SPEC",
    "EXPERTS",
    "REPAIR_COUNTS",
    "REQUEST_COUNTS",
    "REWRITE_COUNTS",
    "SPLITS",
    "CorpusSpec",
    "prompt_of",
]

DEFAULT_SEED = 20261125
EXPERTS = ("runic", "ascii", "coordinator")
SPLITS = ("train", "validation", "test")
PROMPT_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"
#: Rows per split of the task corpora: request phrasings, rewrites (half of test held out),
#: completions and fixes; a :class:`CorpusSpec` field left None takes these.
REQUEST_COUNTS = {"train": 3000, "validation": 300, "test": 600}
REWRITE_COUNTS = {"train": 4400, "validation": 400, "test": 800}
REPAIR_COUNTS = {"train": 4000, "validation": 400, "test": 800}


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
    requests: dict[str, int] | None = None  # request phrasings per split (None: REQUEST_COUNTS)
    rewrites: dict[str, int] | None = None  # rewrite rows per split, half of test held out (None: REWRITE_COUNTS)
    repairs: dict[str, int] | None = None  # completion and fix rows per split (None: REPAIR_COUNTS)

    def scaled(self, fraction: float) -> CorpusSpec:
        """This spec with every count times ``fraction`` (0 < fraction <= 1), rounded to a
        multiple of 8 and at least 8 (a count of 0 stays 0): a small corpus of the same
        shape, for trying the generator or a training run quickly."""
        if not 0 < fraction <= 1:
            raise ValueError(f"scale must be above 0 and at most 1, not {fraction!r}")

        def count(n: int) -> int:
            return 0 if n == 0 else max(8, 8 * round(n * fraction / 8))

        def counts(table: dict[str, int] | None) -> dict[str, int] | None:
            return None if table is None else {name: count(n) for name, n in table.items()}

        return replace(
            self, train=counts(self.train) or {}, validation=count(self.validation), test=count(self.test),
            test_ood=count(self.test_ood), drills=counts(self.drills), nesting_drills=counts(self.nesting_drills),
            requests=counts(self.requests or REQUEST_COUNTS), rewrites=counts(self.rewrites or REWRITE_COUNTS),
            repairs=counts(self.repairs or REPAIR_COUNTS),
        )  # fmt: skip


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
