"""The HLX mixture of experts: one small base model carrying three LoRA adapters.

A coordinator, an LC-T ("ascii") specialist and an LC-R ("runic") specialist share one base
model; a router picks the adapter from the instruction, decoding is constrained by the
grammar of the answer's format, and every answer is graded against the reference codecs.
Needs the ``[moe]`` extra for models; :func:`grade` and the corpus generator do not.

    from hlx_moe import HLXMoE, grade
    moe = HLXMoE.load()
    print(moe.query("Convert to LC-R: [1, 2, 3]").answer)
    grade("Convert to LC-T: [1, 2]", "[1,2]").exact      # True

Importing this package does not import torch.
"""

from hlx_moe.decoding.options import DecodingOptions
from hlx_moe.evaluation.grading import Grade, grade
from hlx_moe.serving.mixture import HLXMoE, QueryResult, translate_with_moe
from hlx_moe.serving.router import Route, route_instruction

__all__ = ["HLXMoE", "QueryResult", "DecodingOptions", "Grade", "grade", "Route", "route_instruction", "translate_with_moe"]
