"""The base model and what the experts add to it: the embedded base, glyph and hex-digit tokens, adapter folders and their cards."""
