"""Scorers: each turns (seeds, candidates) into one score per candidate.

See ``base.Scorer`` for the contract every scorer follows.
"""
