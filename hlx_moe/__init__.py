"""The HLX mixture of experts: one small base model carrying three LoRA adapters.

Not built yet: ``translate(..., backend="moe")`` raises BackendUnavailable until the
experts land (see the project's issues).
"""
