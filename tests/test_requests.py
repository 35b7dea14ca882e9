"""Requests as people write them (hlx_formats.requests): the phrasing table, the property
that every template means its canonical instruction, ambiguity and did-you-mean errors."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import HLXError, ParseError, detect_format, parse_request, translate
from hlx_formats.api import ENCODERS
from hlx_formats.requests import FORMAT_ALIASES, TEMPLATES, render_instruction
from hlx_formats.strategies import examples, values

SEARCH = '{1000: {@0: "search", @1: &h_documents}}'

# (request, the canonical instruction it is equivalent to): the answer must be the
# canonical instruction's answer (checked below), and the canonical phrasing is rendered
# back by parse_request(...).render().
PHRASINGS = [
    # Convert <V> to <F>
    ("Convert [1,2,3] to LC-R", "Convert this to Runic glyphs: [1,2,3]"),
    ("convert [1, 2, 3] to LC-R", "Convert to LC-R: [1, 2, 3]"),
    ("Convert [1, 2, 3] to LC-T", "Convert to LC-T: [1, 2, 3]"),
    ("Convert {a: 1} to LC-B", "Convert to LC-B: {a: 1}"),
    ("Convert {C:14,0=42} to HLXL", "Parse LC-T: {C:14,0=42}"),
    ("Convert 🜃1, 2🜄 to LC-T", "Convert this to text-safe format: 🜃1, 2🜄"),
    ("Convert [[0x01]] to LC-R", "Translate LC-B to LC-R: [[0x01]]"),
    ("please translate {a: 1} into runic", "Convert to LC-R: {a: 1}"),
    ("Translate {a: 1} into LC-T please", "Convert to LC-T: {a: 1}"),
    ("Encode [true, null] as LC-B.", "Convert to LC-B: [true, null]"),
    ("Rewrite 42 in ASCII", "Convert to LC-T: 42"),
    ("Turn [1, 2] into runes.", "Convert to LC-R: [1, 2]"),
    ("Express &h_x in glyphs", "Convert to LC-R: &h_x"),
    ("Render {a: 1} as Runic glyphs", "Convert to LC-R: {a: 1}"),
    ("Give me [1, 2] as LC-B", "Convert to LC-B: [1, 2]"),
    ("Change 3.14 to lct", "Convert to LC-T: 3.14"),
    ("Can you convert `[1, 2]` to lc-r please?", "Convert to LC-R: [1, 2]"),
    ("Could you please convert '[1, 2]' to lcr?", "Convert to LC-R: [1, 2]"),
    ("Convert ```\n[1, 2]\n``` to LC-T", "Convert to LC-T: [1, 2]"),
    ("Convert [1, 2] to the LC-T format", "Convert to LC-T: [1, 2]"),
    ("Convert [1, 2] to text-safe format", "Convert to LC-T: [1, 2]"),
    ("Convert [1, 2] to compact ASCII", "Convert to LC-T: [1, 2]"),
    ("Convert [1, 2] to binary text", "Convert to LC-B: [1, 2]"),
    ("Convert [1, 2] to LC-B text", "Convert to LC-B: [1, 2]"),
    ("Convert [1, 2] to lc_b", "Convert to LC-B: [1, 2]"),
    ("Convert [1,2] to readable", "Parse LC-T: [1,2]"),
    ("Convert [1,2] to human-readable format", "Parse LC-T: [1,2]"),
    ("CONVERT [1, 2] TO LC-R", "Convert to LC-R: [1, 2]"),
    ("Convert   [1, 2]\n\n  to   LC-R  ", "Convert to LC-R: [1, 2]"),
    ('Convert "to LC-T" to LC-R', 'Convert to LC-R: "to LC-T"'),
    # <verb> to <F>: <V>
    ("Translate to LC-R: [1, 2]", "Convert to LC-R: [1, 2]"),
    ("Translate to LC-T: {a: 1}", "Convert to LC-T: {a: 1}"),
    ("Translate to HLXL: {C:14,0=42}", "Parse LC-T: {C:14,0=42}"),
    ("Translate to Runic format: [1, 2]", "Convert to LC-R: [1, 2]"),
    ("Translate to ASCII format: [1, 2]", "Convert to LC-T: [1, 2]"),
    ("Convert to Runic: [1, 2]", "Convert to LC-R: [1, 2]"),
    ("Convert to lcr: null", "Convert to LC-R: null"),
    ("Convert complex contract to LC-T: " + SEARCH, "Convert to LC-T: " + SEARCH),
    ("Convert nested array to LC-R: [[1], [2]]", "Convert to LC-R: [[1], [2]]"),
    ("Convert this to LC-B: [1, 2]", "Convert to LC-B: [1, 2]"),
    ("Convert the following to LC-T: {a: 1}", "Convert to LC-T: {a: 1}"),
    ("Please convert the following value to runes:\n\n[1, 2]\n", "Convert to LC-R: [1, 2]"),
    ("Convert to LC-R: `[1, 2]`", "Convert to LC-R: [1, 2]"),
    ("Convert to LC-R: ```\n[1, 2]\n```", "Convert to LC-R: [1, 2]"),
    ("Convert to LC-R: ```hlxl\n[1, 2]\n```", "Convert to LC-R: [1, 2]"),
    ("Please translate this into LCR: 4678", "Convert to LC-R: 4678"),
    ("Show in LC-R: [1, 2]", "Convert to LC-R: [1, 2]"),
    # <A> to <B>: <V>, from <A> to <B>
    ("HLXL to LC-T: {a: 1}", "Convert to LC-T: {a: 1}"),
    ("LC-T to HLXL: {a:1}", "Parse LC-T: {a:1}"),
    ("HLXL to LC-R: [1, 2]", "Convert to LC-R: [1, 2]"),
    ("LC-R to LC-T: 🜃1🜄", "Convert this to text-safe format: 🜃1🜄"),
    ("LC-B to HLXL: [0x2a]", "Parse LC-B: [0x2a]"),
    ("Translate from LC-T to LC-R: [1,2]", "Convert this to Runic glyphs: [1,2]"),
    ("Translate from LC-R to LC-B: 🜃1🜄", "Translate LC-R to LC-B: 🜃1🜄"),
    ("Convert from LC-B to LC-T: [[0x01]]", "Translate LC-B to LC-T: [[0x01]]"),
    ("Translate LC-T to LC-R: [1,2]", "Translate LC-T to LC-R: [1,2]"),
    ("Convert this LC-T to LC-R: {C:14,0=42}", "Convert this to Runic glyphs: {C:14,0=42}"),
    ("Convert the following HLXL value to LC-T: {a: 1}", "Convert to LC-T: {a: 1}"),
    ("from runic to ascii: 🜃1🜄", "Convert this to text-safe format: 🜃1🜄"),
    ("Convert {C:14,0=42} from LC-T to HLXL", "Parse LC-T: {C:14,0=42}"),
    ("Convert LC-T {C:14,0=42} to LC-R", "Convert this to Runic glyphs: {C:14,0=42}"),
    # <V> in <F>, What is <V> in <F>?
    ("Show [1, 2] in Runic", "Convert to LC-R: [1, 2]"),
    ("Show {a: 1} in ASCII", "Convert to LC-T: {a: 1}"),
    ("Display [1, 2] in LC-B", "Convert to LC-B: [1, 2]"),
    ("Write 42 in runes", "Convert to LC-R: 42"),
    ("Print {a: 1} as LC-T", "Convert to LC-T: {a: 1}"),
    ("What is [1, 2] in LC-R?", "Convert to LC-R: [1, 2]"),
    ("what's {a: 1} in lct", "Convert to LC-T: {a: 1}"),
    ("How is [1, 2] written in LC-B?", "Convert to LC-B: [1, 2]"),
    ("How do I write null in LC-R?", "Convert to LC-R: null"),
    ("What does [1, 2] look like in Runic?", "Convert to LC-R: [1, 2]"),
    # several targets, all formats, the others
    ("Convert [1, 2] to LC-T and LC-R", "Translate HLXL to LC-T and LC-R: [1, 2]"),
    ("Convert [1, 2] to LC-R and LC-T", "Translate HLXL to LC-R and LC-T: [1, 2]"),
    ("Convert [1, 2] to LC-R, LC-T and LC-B", "Translate HLXL to LC-R, LC-T and LC-B: [1, 2]"),
    ("Convert [1, 2] to LC-B & HLXL", "Translate HLXL to LC-B and HLXL: [1, 2]"),
    ("Translate to LC-T and LC-R: {a: 1}", "Translate HLXL to LC-T and LC-R: {a: 1}"),
    ("Convert {a: 1} to all formats", "Translate HLXL to all formats: {a: 1}"),
    ("Convert {a: 1} to all HLX formats", "Translate HLXL to all formats: {a: 1}"),
    ("Convert {a:1} to all formats", "Translate LC-T to all formats: {a:1}"),
    ("Show me [1, 2] in all HLX formats", "Translate HLXL to all formats: [1, 2]"),
    ("Show [1, 2] in every format", "Translate HLXL to all formats: [1, 2]"),
    ("What is [1, 2] in all four formats?", "Translate HLXL to all formats: [1, 2]"),
    ("Translate to all formats: null", "Translate HLXL to all formats: null"),
    ("Convert [1, 2] to all the formats", "Translate HLXL to all formats: [1, 2]"),
    ("Convert [1, 2] to the other formats", "Translate HLXL to LC-R, LC-T and LC-B: [1, 2]"),
    ("HLXL: [1, 2, 3]", "Translate HLXL to LC-R, LC-T and LC-B: [1, 2, 3]"),
    ("HLXL: " + SEARCH, "Translate HLXL to LC-R, LC-T and LC-B: " + SEARCH),
    ("LC-T: {C:14,0=42}", "Translate LC-T to HLXL, LC-R and LC-B: {C:14,0=42}"),
    ("LC-R: 🜃1, 2🜄", "Translate LC-R to HLXL, LC-T and LC-B: 🜃1, 2🜄"),
    ("LC-B: [14|0:0x2a]", "Translate LC-B to HLXL, LC-R and LC-T: [14|0:0x2a]"),
    ("LC-T: NULL", "Translate LC-T to HLXL, LC-R and LC-B: NULL"),
    ("runic: ∅", "Translate LC-R to HLXL, LC-T and LC-B: ∅"),
    # parse / decode with no target: HLXL
    ("Decode [0x2a]", "Parse LC-B: [0x2a]"),
    ("Parse {C:14,0=42}", "Parse LC-T: {C:14,0=42}"),
    ("Decode LC-B: [0x2a]", "Parse LC-B: [0x2a]"),
    ("Parse this LC-R: 🜃1🜄", "Parse LC-R: 🜃1🜄"),
    ("parse: 🜃1🜄", "Parse LC-R: 🜃1🜄"),
    ("Read the following runic: ⊤", "Parse LC-R: ⊤"),
    # validate
    ("Validate LC-T: [1,2]", "Validate LC-T: [1,2]"),
    ("Validate this LC-T: {C:14,0=42}", "Validate LC-T: {C:14,0=42}"),
    ("Validate: [1, 2", "Validate: [1, 2"),
    ("validate [1, 2]", "Validate: [1, 2]"),
    ("Check [1, 2]", "Validate: [1, 2]"),
    ("Check this LC-R: 🜃1🜄", "Validate LC-R: 🜃1🜄"),
    ("Verify the following LC-B: [0x2a]", "Validate LC-B: [0x2a]"),
    ("Is this valid LC-T? [1,2]", "Validate LC-T: [1,2]"),
    ("Is this valid? [1, 2", "Validate: [1, 2"),
    ("Is this correct LC-R? 🜃1,🜄", "Validate LC-R: 🜃1,🜄"),
    ("Is [1,2] valid LC-T?", "Validate LC-T: [1,2]"),
    ("What's wrong with: [1, 2", "Validate: [1, 2"),
    ("What's wrong with this LC-T: {C:14,0=}", "Validate LC-T: {C:14,0=}"),
    ("what is wrong with {a: }", "Validate: {a: }"),
    ("Find the error in [1,, 2]", "Validate: [1,, 2]"),
    # explain
    ("Explain [1, 2]", "Explain HLXL: [1, 2]"),
    ("Explain {C:14,0=42}", "Explain LC-T: {C:14,0=42}"),
    ("Describe " + SEARCH, "Explain HLXL: " + SEARCH),
    ("Parse and explain: {C:14,0=42}", "Explain LC-T: {C:14,0=42}"),
    ("Parse and explain: " + SEARCH, "Explain HLXL: " + SEARCH),
    ("Explain this LC-R: 🜊14🜁0 42🜂", "Explain LC-R: 🜊14🜁0 42🜂"),
    ("Explain ⊤", "Explain LC-R: ⊤"),
    ('Break down {user: {name: "Bob", age: 30}}', 'Explain HLXL: {user: {name: "Bob", age: 30}}'),
    ("Summarise this: [1]", "Explain HLXL: [1]"),
    ("What is 42?", "Explain HLXL: 42"),
    # questions: contracts
    ("Describe contract 1000", "What is contract 1000?"),
    ("Describe contract 1000.", "Describe contract 1000."),
    ("what's contract 14", "What is contract 14?"),
    ("Tell me about contract #902", "What is contract 902?"),
    ("What does contract 900 mean", "What is contract 900?"),
    ("Explain contract 16", "What is contract 16?"),
    ("What is contract id 901?", "What is contract 901?"),
    # questions: formats
    ("What is LC-T?", "What is LC-T?"),
    ("what is LC-T?", "What is LC-T?"),
    ("Explain LC-B", "What is LC-B?"),
    ("What's runic", "What is LC-R?"),
    ("Tell me about the HLXL format", "What is HLXL?"),
    ("Describe the LC-R format.", "Describe the LC-R format."),
    ("Define lcb", "What is LC-B?"),
    ("What does LC-R stand for?", "What is LC-R?"),
    # questions: experts
    ("Which specialist handles LC-R?", "Which expert handles LC-R?"),
    ("Which expert handles LC-T?", "Which expert handles LC-T?"),
    ("Who handles runic requests?", "Which expert handles LC-R?"),
    ("what model owns LC-B", "Which expert handles LC-B?"),
    ("Which specialist is responsible for ASCII?", "Which expert handles LC-T?"),
    ("When should I use the Runic specialist?", "When should I use the runic expert?"),
    ("When do I use the ASCII expert", "When should I use the ascii expert?"),
    ("What does the coordinator model do?", "When should I use the coordinator expert?"),
    ("Tell me about the LC-R specialist", "When should I use the runic expert?"),
    # questions: which format for what
    ("Best format for a binary protocol?", "Which format is best for a binary protocol?"),
    ("What is the best format for debugging?", "Which format is best for reading and writing by hand?"),
    ("Which format should I use for logs?", "Which format is best for ASCII-only text?"),
    ("best format for network transmission", "Which format is best for a binary protocol?"),
    ("What's the right format for unicode glyphs?", "Which format is best for a dense glyph notation?"),
    # questions: glyphs
    ("What is the LC-R glyph for a handle reference?", "What is the LC-R glyph for handle prefix?"),
    ("What is the LC-R glyph for field separator", "Which LC-R glyph is field marker?"),
    ("what is the glyph for field separator", "Which LC-R glyph is field marker?"),
    ("Which LC-R glyph is the field index marker?", "Which LC-R glyph is field marker?"),
    ("How does LC-R write a byte string?", "How does LC-R write bytes prefix?"),
    ("Which glyph marks the end of an array?", "Which LC-R glyph is array end?"),
    ("what's the runic symbol for null", "Which LC-R glyph is null?"),
    ("What does ⊤ mean?", "What does ⊤ mean in LC-R?"),
    ("What does the glyph 🜊 mean in LC-R", "What does 🜊 mean in LC-R?"),
    ("Explain the glyph 🜊", "What does 🜊 mean in LC-R?"),
    ("Meaning of the glyph ◇", "What does ◇ mean in LC-R?"),
    ("Which LC-R glyph is a field marker please?", "Which LC-R glyph is field marker?"),
    # trailing punctuation and politeness after a canonical instruction
    ("Convert to LC-R: [1, 2].", "Convert to LC-R: [1, 2]"),
    ("Convert to LC-T: {a: 1} please", "Convert to LC-T: {a: 1}"),
    ("Validate: null?", "Validate: null"),
    # the corpus prompt wrapper around any of them
    ("### Instruction:\nConvert [1, 2] to runic\n\n### Response:\n", "Convert to LC-R: [1, 2]"),
    ("### Instruction:\nHLXL: [1, 2]\n\n### Response:", "Translate HLXL to LC-R, LC-T and LC-B: [1, 2]"),
]

# Answers written out, for a slice of the table (the rest are held to their canonical form).
ANSWERS = {
    "Convert [1,2,3] to LC-R": "🜃1, 2, 3🜄",
    "HLXL: [1, 2, 3]": "LC-R: 🜃1, 2, 3🜄\nLC-T: [1,2,3]\nLC-B: [[0x01,0x02,0x03]]",
    "LC-T: {C:14,0=42}": "HLXL: {14: {@0: 42}}\nLC-R: 🜊14🜁0 42🜂\nLC-B: [14|0:0x2a]",
    "Convert [1, 2] to LC-T and LC-R": "LC-T: [1,2]\nLC-R: 🜃1, 2🜄",
    "Show me [1, 2] in all HLX formats": "HLXL: [1, 2]\nLC-R: 🜃1, 2🜄\nLC-T: [1,2]\nLC-B: [[0x01,0x02]]",
    "Translate from LC-R to LC-B: 🜃1🜄": "[[0x01]]",
    "Convert {C:14,0=42} to HLXL": "HLXL: {14: {@0: 42}}",
    "Validate LC-T: [1,2]": "Valid LC-T: an array of 2 integers",
    "Validate: [1, 2": "Invalid HLXL: line 1, column 6: input is not valid HLXL, LC-T, LC-R or LC-B text; "
    "the longest valid prefix is HLXL, which fails here: unexpected end of input; expected ',', ']'",
    "Is this correct LC-R? 🜃1,🜄": "Invalid LC-R: line 1, column 4: unexpected '🜄'; expected '◇', array start, bytes, "
    "contract start, false, float, handle, integer, null, string, true",
    "Parse and explain: {C:14,0=42}": "This LC-T value is contract 14 (a basic single-argument invocation with an "
    "integer) with 1 field: @0 (the integer argument) is the integer 42.",
    "Describe " + SEARCH: "This HLXL value is contract 1000 (a general operation) with 2 fields: @0 (the "
    'operation name) is the string "search"; @1 (an argument) is the handle documents.',
    "Explain ⊤": "This LC-R value is true.",
    "When should I use the Runic specialist?": "Use the runic expert for every instruction whose target or source format is LC-R.",
    "Which specialist handles LC-R?": "The runic expert handles LC-R: it owns every instruction whose target or source format is LC-R.",
    "What is the LC-R glyph for a handle reference?": "The handle prefix is written ⟁ (U+27C1) in LC-R.",
    "Best format for a binary protocol?": "For a binary protocol, use LC-B: LC-B (Latent Collapse Binary) is the binary "
    'wire format of an HLX value, with a text notation such as [1000|0:"search"|1:&documents].',
}


def test_the_table_is_large_and_covers_every_family_and_alias():
    assert len(PHRASINGS) >= 150
    families = {parse_request(request).template.family for request, canonical in PHRASINGS if parse_request(request).template}
    assert families == {template.family for template in TEMPLATES}
    assert set(ANSWERS) <= {request for request, _ in PHRASINGS}


@pytest.mark.parametrize("request_text, canonical", PHRASINGS)
def test_phrasing_means_its_canonical_instruction(request_text, canonical):
    request = parse_request(request_text)
    assert translate(request_text) == translate(canonical)
    if not canonical.startswith(("Describe contract 1000.", "Describe the LC-R format.")):
        assert request.render() == canonical
    assert parse_request(request.render()).render() == request.render()  # the canonical form is a fixed point
    if request_text in ANSWERS:
        assert translate(request_text) == ANSWERS[request_text]


@pytest.mark.parametrize("fmt, alias", [(fmt, alias) for fmt, aliases in FORMAT_ALIASES.items() for alias in aliases])
def test_every_format_alias_as_target_and_source(fmt, alias):
    value = [1, {"a": None}]
    target = translate(f"Convert [1, {{a: null}}] to {alias}")
    assert target == ("HLXL: " if fmt == "hlxl" else "") + ENCODERS[fmt](value)
    assert translate(f"Convert [1, {{a: null}}] to the {alias.lower()} format please") == target
    source_text = ENCODERS[fmt](value)
    assert translate(f"Translate from {alias.upper()} to LC-R: {source_text}") == ENCODERS["lc-r"](value)


# --- every template renders a request that means its canonical instruction ------------------------

_FAMILY_PARAMS = {
    "contract": lambda rng: {"id": str(rng.choice((14, 16, 900, 901, 902, 1000, 7)))},
    "format_info": lambda rng: {"format": rng.choice(("hlxl", "lc-t", "lc-r", "lc-b"))},
    "expert_info": lambda rng: {"format": rng.choice(("hlxl", "lc-t", "lc-r", "lc-b"))},
    "expert_use": lambda rng: {"expert": rng.choice(("runic", "ascii", "coordinator"))},
    "format_for": lambda rng: {"purpose": rng.choice(("a binary protocol", "debugging", "logs", "unicode glyphs"))},
    "glyph_for": lambda rng: {"gname": rng.choice(("handle prefix", "field marker", "array end", "null", "handle reference"))},
    "glyph_meaning": lambda rng: {"glyph": rng.choice(("∅", "🜊", "◆", "🐊"))},
}


def _canonical_question(family: str, params: dict[str, str]) -> str:
    from hlx_formats import facts

    if family == "format_for":
        params = {"purpose": facts.purpose_format(params["purpose"])[0]}
    if family == "glyph_for":
        params = {"gname": facts.glyph_name(params["gname"])}
    return render_instruction(family, **params)


@settings(max_examples=examples(60), deadline=None)
@given(value=values(), seed=st.integers(0, 2**32 - 1), source=st.sampled_from(("hlxl", "lc-t", "lc-r", "lc-b")))
def test_every_template_renders_requests_with_the_canonical_answer(value, seed, source):
    """Each template, rendered with a random value (in a random format) and random words,
    answers as the canonical instruction does. Where a phrasing may leave the source format
    out, the reader detects it (detect_format's order), so the answer is that of the
    canonical instruction naming the detected format, or the rendered one."""
    rng = random.Random(seed)
    value_text = ENCODERS[source](value)
    detected = detect_format(value_text)
    for template in TEMPLATES:
        family = template.family
        if family in _FAMILY_PARAMS:
            params = _FAMILY_PARAMS[family](rng)
            phrase = template.render(rng, **params)
            candidates = {_canonical_question(family, params)}
        else:
            targets = rng.choice((("lc-r",), ("lc-t",), ("lc-b",), ("hlxl",), ("lc-t", "lc-r"), "all", "others"))
            if family == "convert" and "{targets}" not in template.pattern:
                targets = ("hlxl",)  # a reading verb with no target: HLXL
            if family == "others":
                targets = "others"
            phrase = template.render(rng, value=value_text, source=source, targets=targets)
            task = "convert" if family == "others" else family
            named = render_instruction(task, value_text=value_text, source=source, targets=targets)
            unnamed = render_instruction(task, value_text=value_text, source=None if family == "validate" else detected, targets=targets)
            candidates = {named} if "{source}" in template.pattern else {named, unnamed}
        try:
            got = translate(phrase)
        except HLXError as error:
            raise AssertionError(f"{template.pattern!r} rendered {phrase!r}: {error}") from None
        assert got in {translate(canonical) for canonical in candidates}, (template.pattern, phrase, candidates)


# --- never guess -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_text, message",
    [
        ("Convert [1] to LC-T or LC-R", "ambiguous request"),
        ("Convert [1, 2] to LC-R or runes or ASCII", "ambiguous request"),
    ],
)
def test_ambiguous_requests_are_refused_with_the_readings(request_text, message):
    with pytest.raises(HLXError) as info:
        translate(request_text)
    assert message in str(info.value) and "did you mean" in str(info.value)
    assert not isinstance(info.value, ParseError)


def test_two_readings_with_different_answers_are_ambiguous(monkeypatch):
    """Two templates that split one request differently, with different answers, are an
    error naming both canonical phrasings; readings that agree are one meaning."""
    from hlx_formats import requests

    extra = requests.Template("convert", "{verb} {value} {to} {targets} {end}")
    other = requests.Template("explain", "{verb} {value} {to} {targets} {end}")
    monkeypatch.setattr(requests, "_COMPILED", requests._COMPILED + [requests._compile(extra), requests._compile(other)])
    with pytest.raises(HLXError, match=r"ambiguous request .* reads as 2 requests .*`Convert to LC-R: \[1\]` or `Explain HLXL: \[1\]`"):
        translate("Convert [1] to LC-R")
    monkeypatch.setattr(requests, "_COMPILED", requests._COMPILED[:-1])  # the same meaning twice: fine
    assert translate("Convert [1] to LC-R") == "🜃1🜄"


@pytest.mark.parametrize(
    "request_text, suggestion",
    [
        ("Convrt [1, 2] to LC-R", "did you mean `Convert to LC-R: [1, 2]`?"),
        ("Convert [1, 2]", "did you mean `Convert to LC-R: [1, 2]`?"),
        ("Make [1, 2] runic", "did you mean `Convert to LC-R: [1, 2]`?"),
        ("Transmogrify {C:14,0=42} to runic", "did you mean `Convert this to Runic glyphs: {C:14,0=42}`?"),
        ("[1, 2, 3]", "did you mean `Convert to LC-R: [1, 2, 3]`?"),
        ("Sing a song", "did you mean `Convert to LC-R: <value>`?"),
    ],
)
def test_did_you_mean(request_text, suggestion):
    with pytest.raises(HLXError) as info:
        translate(request_text)
    assert suggestion in str(info.value)
    assert repr(request_text[:20])[:-1] in str(info.value)  # says what it read


def test_a_value_that_parses_nowhere_is_the_parse_error():
    with pytest.raises(ParseError) as info:
        translate("Convert [1, 2 to LC-R")
    assert info.value.format == "hlxl" and info.value.column == 6
    with pytest.raises(ParseError) as info:
        translate("Translate from LC-R to LC-T: [1, 2]")  # a named source is kept to
    assert info.value.format == "lc-r"


def test_purpose_that_names_no_format_is_an_error():
    with pytest.raises(HLXError, match="names no one format"):
        translate("Best format for cooking?")


def test_requests_must_be_str():
    with pytest.raises(HLXError, match="must be str"):
        parse_request(b"Convert [1] to LC-R")  # type: ignore[arg-type]  # a wrong type on purpose


# --- the public object ---------------------------------------------------------------------


def test_parse_request_fields():
    request = parse_request("Please convert `{C:14,0=42}` to runic and HLXL.")
    assert request.task == "convert"
    assert request.source_format == "lc-t"
    assert request.target_formats == ("lc-r", "hlxl")
    assert request.value_text == "{C:14,0=42}"
    assert request.render() == "Translate LC-T to LC-R and HLXL: {C:14,0=42}"
    assert request.template is not None and request.template.family == "convert"
    question = parse_request("Which specialist handles LC-R?")
    assert (question.task, question.target_formats, question.value_text) == ("question", (), None)
    canonical = parse_request("Convert to LC-T: [1, 2]")
    assert canonical.template is None and canonical.render() == "Convert to LC-T: [1, 2]"


# --- the original report's prompts and the specification's worked examples ----------------------

ORIGINAL_PROMPTS = [
    ("Convert to LC-T: null", "NULL"),
    ("Convert to LC-R: [1, 2, 3]", "🜃1, 2, 3🜄"),
    ("Parse LC-T: {C:14,0=42}", "HLXL: {14: {@0: 42}}"),
    ("Translate HLXL to all formats: null", "HLXL: null\nLC-R: ∅\nLC-T: NULL\nLC-B: [_]"),
    ("When should I use the Runic specialist?", "Use the runic expert for every instruction whose target or source format is LC-R."),
]


@pytest.mark.parametrize("request_text, expected", ORIGINAL_PROMPTS)
def test_original_report_prompts(request_text, expected):
    assert translate(request_text) == expected


WORKED = [
    ("null", "NULL", "∅", "[_]"),
    ("true", "TRUE", "⊤", "[T]"),
    ("[1, 2, 3]", "[1,2,3]", "🜃1, 2, 3🜄", "[[0x01,0x02,0x03]]"),
    ("{14: {@0: 42}}", "{C:14,0=42}", "🜊14🜁0 42🜂", "[14|0:0x2a]"),
    (SEARCH, '{C:1000,0="search",1=@documents}', '🜊1000🜁0 "search"🜁1 ⟁documents🜂', '[1000|0:"search"|1:&documents]'),
    ('{user: {name: "Bob", age: 30}}', '{user:{name:"Bob",age:30}}', '◇user: ◇name: "Bob", age: 30◆◆', '[{user:{name:"Bob",age:0x1e}}]'),
    ('[true, 42, "hello", null]', '[TRUE,42,"hello",NULL]', '🜃⊤, 42, "hello", ∅🜄', '[[T,0x2a,"hello",_]]'),
]


@pytest.mark.parametrize("hlxl, lct, lcr, lcb", WORKED)
def test_worked_examples_in_free_phrasings(hlxl, lct, lcr, lcb):
    assert translate(f"Convert {hlxl} to LC-T") == lct
    assert translate(f"Show {hlxl} in Runic") == lcr
    assert translate(f"Translate from LC-R to LC-B: {lcr}") == lcb
    assert translate(f"LC-T to HLXL: {lct}") == f"HLXL: {hlxl}"
    assert translate(f"HLXL: {hlxl}") == f"LC-R: {lcr}\nLC-T: {lct}\nLC-B: {lcb}"
    assert translate(f"Show me {hlxl} in all HLX formats") == f"HLXL: {hlxl}\nLC-R: {lcr}\nLC-T: {lct}\nLC-B: {lcb}"
    assert translate(f"Validate LC-R: {lcr}").startswith("Valid LC-R: ")
    assert translate(f"Explain {lct}").startswith("This ")


# --- cost ----------------------------------------------------------------------------------


def test_a_long_value_is_read_in_linear_work():
    """A 100 kB value: the request's words are matched around it, never across it (the
    time is measured by benchmarks/codecs.py; this checks the work does not blow up, with a
    bound far above the measured time)."""
    value = "[" + ", ".join(str(i) for i in range(20000)) + "]"
    started = time.perf_counter()
    assert translate(f"Please convert {value} to runic?").startswith("🜃0, 1, 2")
    with pytest.raises(ParseError):
        translate(f"Please convert {value[:-1]} to runic?")
    assert translate("Convert to LC-T: " + " " * 100_000 + "[1]") == "[1]"
    assert time.perf_counter() - started < 60


def test_a_canonical_instruction_keeps_its_source_and_says_which_one_would_read_the_value():
    with pytest.raises(ParseError) as info:
        translate("Convert to LC-T: 🜃1🜄")  # "Convert to" reads HLXL; the value is LC-R
    assert info.value.format == "hlxl" and (info.value.line, info.value.column) == (1, 1)
    assert "the value is LC-R: did you mean `Convert this to text-safe format: 🜃1🜄`?" in str(info.value)
    with pytest.raises(ParseError) as info:
        translate("Convert to LC-T: [1,")  # valid nowhere: no hint
    assert "did you mean" not in str(info.value)


def test_translate_refuses_input_over_the_size_limit_before_reading_it():
    from hlx_formats.model import MAX_INPUT_SIZE

    with pytest.raises(HLXError, match=r"translate\(\) reads at most 16,777,216 \(MAX_INPUT_SIZE\)"):
        translate("Convert to LC-R: [" + "1," * (MAX_INPUT_SIZE // 2) + "1]")
    edge = "Convert to LC-T: " + " " * (MAX_INPUT_SIZE - len("Convert to LC-T: ") - 3) + "[1]"
    assert len(edge) == MAX_INPUT_SIZE and translate(edge) == "[1]"
