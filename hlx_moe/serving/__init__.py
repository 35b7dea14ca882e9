"""Answering requests: the router and the mixture (one base, three adapters)."""
