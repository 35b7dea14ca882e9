"""The one table of facts that answers questions about the formats, contracts and experts.

The corpus generator asks these questions and the reference ``translate`` answers them from
here, so the coordinator learns exactly this text.
"""

from __future__ import annotations

from .lcr import GLYPHS, LEGACY_GLYPHS

__all__ = ["GLYPH_NAMES", "CONTRACTS", "FORMATS_INFO", "EXPERTS", "OPERATIONS", "glyph_answer", "contract_answer"]

#: Short name of each LC-R glyph (the question "Which LC-R glyph means <name>?").
GLYPH_NAMES = {
    "∅": "null",
    "⊤": "true",
    "⊥": "false",
    "⊠": "the bytes prefix",
    "⟁": "the handle prefix",
    "🜊": "the contract start",
    "🜁": "the field marker",
    "🜂": "the contract end",
    "🜃": "the array start",
    "🜄": "the array end",
    "◇": "the object start",
    "◆": "the object end",
}

#: Known contract ids: (name, description of the fields).
CONTRACTS = {
    14: ("a basic single-argument invocation with an integer", "@0 is the integer argument"),
    16: ("a basic single-argument invocation with a string", "@0 is the string argument"),
    900: ("VulkanShader", "@0 is the shader binary handle, @1 the entry point, @2 the stage"),
    901: ("ComputeKernel", "its fields are not fixed by the specification"),
    902: (
        "PipelineConfig",
        "@0 is the pipeline id, @1 the stages (an array of shader handles), @2 the sync barriers, "
        "@3 the output image handle",
    ),
    1000: (
        "a general operation",
        "@0 is the operation name (search, filter, transform, aggregate, execute, navigate, train, "
        "query, batch, pipeline, if, loop, map, reduce, ...) and @1 onwards its arguments, usually handles",
    ),
}

#: One line on each format.
FORMATS_INFO = {
    "hlxl": "HLXL is the human-readable ASCII form of an HLX value, for example "
    '{1000: {@0: "search", @1: &h_documents}}.',
    "lc-t": "LC-T (Latent Collapse Text) is the compact ASCII form of an HLX value, for example "
    '{C:1000,0="search",1=@documents}.',
    "lc-r": "LC-R (Latent Collapse Runic) writes an HLX value with Unicode glyphs, for example "
    '🜊1000🜁0 "search"🜁1 ⟁documents🜂.',
    "lc-b": "LC-B (Latent Collapse Binary) is the binary wire format of an HLX value, with a text "
    'notation such as [1000|0:"search"|1:&documents].',
}

#: The experts of the mixture and what each owns.
EXPERTS = {
    "runic": "every instruction whose target or source format is LC-R",
    "ascii": "every instruction whose target or source format is LC-T",
    "coordinator": "LC-B, all-formats translations, questions about the formats and contracts, "
    "routing, and plain-English intents",
}

#: Operations of contract 1000 for plain-English intents: name -> (phrase, number of handles).
#: A phrase has {0} (and {1}) where the argument handles go.
OPERATIONS = {
    "search": ("Search for {0}", 1),
    "filter": ("Filter {0}", 1),
    "transform": ("Transform {0}", 1),
    "aggregate": ("Aggregate {0}", 1),
    "execute": ("Execute {0}", 1),
    "navigate": ("Navigate to {0}", 1),
    "train": ("Train {0} on {1}", 2),
    "query": ("Query {0}", 1),
    "batch": ("Batch {0}", 1),
    "pipeline": ("Run a pipeline from {0} to {1}", 2),
    "if": ("If {0} then {1}", 2),
    "loop": ("Loop over {0}", 1),
    "map": ("Map {0} with {1}", 2),
    "reduce": ("Reduce {0}", 1),
}


def glyph_answer(glyph: str) -> str:
    """What an LC-R glyph (canonical or legacy) means, in one sentence."""
    if glyph in LEGACY_GLYPHS:
        canonical = LEGACY_GLYPHS[glyph]
        return (
            f"{glyph} (U+{ord(glyph):04X}) is a legacy spelling of {canonical}, {GLYPH_NAMES[canonical]}; "
            "LC-R parsers read it, encoders never write it."
        )
    return f"In LC-R, {glyph} (U+{ord(glyph):04X}) is {GLYPHS[glyph]}."


def contract_answer(contract_id: int) -> str:
    """What a contract id means, in one sentence."""
    if contract_id not in CONTRACTS:
        known = ", ".join(str(key) for key in CONTRACTS)
        return f"Contract {contract_id} is not one of the known contracts ({known})."
    name, fields = CONTRACTS[contract_id]
    return f"Contract {contract_id} is {name}: {fields}."
