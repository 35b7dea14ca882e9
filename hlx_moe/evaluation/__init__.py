"""Grading answers against the reference codecs, and evaluating the experts on the test splits."""
