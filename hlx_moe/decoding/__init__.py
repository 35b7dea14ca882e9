"""Decoding under constraints: the answer's grammar (llguidance), source literals and their order, repeats, beams and round-trip re-ranking."""
