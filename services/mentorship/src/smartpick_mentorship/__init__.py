"""Mentorship service: mentor registry and matching (skeleton until the mentorship issue)."""
