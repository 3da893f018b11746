"""Suggestions for a misspelt name, for error messages that say what to send instead."""

import difflib
from collections.abc import Iterable


def unknown_name_message(kind: str, name: str, known: Iterable[str], suggestions: int = 3) -> str:
    """'unknown specialty 'Dermatolgy'; did you mean Dermatology?' (the closest known names, by spelling)."""
    choices = sorted(known)
    by_case = {c.lower(): c for c in choices}
    close = [by_case[c] for c in difflib.get_close_matches(name.lower(), list(by_case), n=suggestions, cutoff=0.4)]
    hint = f"did you mean {', '.join(close)}?" if close else f"known names: {', '.join(choices[:10])}, ..."
    return f"unknown {kind} {name!r}; {hint} (GET /v1/specialties lists them)"
