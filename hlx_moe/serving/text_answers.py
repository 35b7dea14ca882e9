"""The answers a question can have: a text answer decoded as a choice, not as free text.

The coordinator's text tasks ask about a closed world: what each format is, which expert
handles it, what each glyph means, which glyph has a name, what each known contract is, which
expert an instruction goes to. Every answer the reference can give to a task is known, so the
answer to a question is decoded as the coordinator's choice among all of its task's answers
(:func:`answer_choices`), not as free text: it is always one whole, true sentence, though it
may be the answer to a sibling question (``What is LC-T?`` answered with LC-R's description)
when the model chooses wrongly. The choice is among the task's answers for *every* argument
(all four formats, every glyph, every known contract), so the question still has to be read.
"""

from __future__ import annotations

from hlx_formats.errors import HLXError
from hlx_formats.facts import CONTRACTS
from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.instructions import Instruction
from hlx_formats.lcr import GLYPHS, LEGACY_GLYPHS
from hlx_formats.rewrites import GLYPH_QUESTION_NAMES, rewrite_space

__all__ = ["CHOSEN_TEXT_TASKS", "answer_choices"]

#: The text tasks whose answers are chosen among their task's (the others are free text).
CHOSEN_TEXT_TASKS = frozenset({"format_info", "expert_info", "glyph_meaning", "glyph_for", "contract_info", "routing"})


def _siblings(parsed: Instruction) -> list[str]:
    """The instructions of ``parsed``'s task with every value of its argument, itself among them."""
    template, params = parsed.form.template, parsed.params
    task = parsed.form.task
    if task in ("format_info", "expert_info"):
        values = list(FORMAT_TITLES.values())
        key = "format"
    elif task == "glyph_meaning":
        values, key = [*GLYPHS, *LEGACY_GLYPHS], "glyph"
    elif task == "glyph_for":
        values, key = list(GLYPH_QUESTION_NAMES), "name"
    elif task == "contract_info":
        values, key = [str(contract_id) for contract_id in CONTRACTS], "id"
    else:  # routing: the instruction asked about, converted to and from every format its value parses in
        inner = params["instruction"]
        try:
            space = rewrite_space(inner)
        except HLXError:
            return [parsed.text]
        values, key = [candidate for candidate in space.candidates if ": " in candidate], "instruction"
    return [parsed.text] + [template.format(**{**params, key: value}) for value in values]


def answer_choices(parsed: Instruction) -> tuple[str, ...] | None:
    """Every answer the reference gives to ``parsed``'s task, its own answer among them (None
    for a task not in :data:`CHOSEN_TEXT_TASKS`)."""
    from hlx_formats import translate

    if parsed.form.task not in CHOSEN_TEXT_TASKS:
        return None
    answers: dict[str, None] = {}
    for sibling in _siblings(parsed):
        try:
            answers[translate(sibling)] = None
        except HLXError:
            continue  # a sibling the reference refuses (a glyph name the form does not take): no answer
    return tuple(answers) or None
