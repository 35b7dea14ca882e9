"""The Lark grammars of the HLX formats, installed as ``hlx_formats.grammars``.

``hlxl.lark``, ``lct.lark``, ``lcr.lark`` and ``lcb.lark`` (the LC-B text notation) are the
single source of truth for the parsers and the constrained decoder; read them with
``hlx_formats.grammar_text(fmt, canonical=False)``.
"""
