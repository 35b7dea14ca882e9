"""Training corpora for the three experts, generated and checked by the reference codecs.

``hlx corpus build`` writes ``corpora/`` from a seed; the same command on any machine writes
byte-identical files. ``hlx corpus check`` regenerates in memory and reports the first
difference with the committed files. Every answer is the reference answer of its prompt,
so it is right by construction. See ``corpora/README.md`` (the dataset card).

Only the standard library and ``hlx_formats`` are used here: no model is needed.
"""

from .files import build, check, default_root, instruction_of, load, write
from .spec import DEFAULT_SEED, DEFAULT_SPEC, EXPERTS, SPLITS, CorpusSpec, prompt_of
from .values import ValueGenerator

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SPEC",
    "EXPERTS",
    "SPLITS",
    "CorpusSpec",
    "build",
    "write",
    "check",
    "prompt_of",
    "load",
    "ValueGenerator",
    "default_root",
    "instruction_of",
]
