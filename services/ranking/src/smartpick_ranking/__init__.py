"""Ranking service: scores profiles into recommendations (skeleton until the ranking issue)."""
