"""Suggestions for a misspelt name, for error messages that say what to send instead."""

import difflib
from collections.abc import Iterable


def unknown_name_message(
    kind: str, name: str, known: Iterable[str], suggestions: int = 3, listed_by: str = "GET /v1/specialties"
) -> str:
    """'unknown specialty 'Dermatolgy'; did you mean Dermatology?' (the closest known names, by spelling;
    `listed_by`: where the client finds them all)."""
    choices = sorted(known)
    by_case = {c.lower(): c for c in choices}
    close = [by_case[c] for c in difflib.get_close_matches(name.lower(), list(by_case), n=suggestions, cutoff=0.4)]
    hint = f"did you mean {', '.join(close)}?" if close else f"known names: {', '.join(choices[:10])}, ..."
    return f"unknown {kind} {name!r}; {hint} ({listed_by} lists them)"


def unknown_city_message(name: str, known: Iterable[str], suggestions: int = 3) -> str:
    """'unknown city 'Bostn, MA'; did you mean Boston, MA?': the closest "City, ST" names by spelling, those of
    the state named first (the whole state's cities when none is close), else of any state."""
    choices = sorted(known)
    state = name.rpartition(",")[2].strip().upper()
    in_state = [c for c in choices if c.rpartition(",")[2].strip() == state]
    pool = in_state or choices
    by_case = {c.lower(): c for c in pool}
    close = [by_case[c] for c in difflib.get_close_matches(name.lower(), list(by_case), n=suggestions, cutoff=0.6)]
    if not close and not in_state:
        close = [by_case[c] for c in difflib.get_close_matches(name.lower(), list(by_case), n=suggestions, cutoff=0.4)]
    if close:
        hint = f"did you mean {', '.join(close)}?"
    elif in_state:
        hint = f"cities of {state} with programs: {', '.join(in_state[:10])}{', ...' if len(in_state) > 10 else ''}"
    else:
        hint = 'write it as "City, ST", e.g. "Boston, MA"'
    return (
        f"unknown city {name!r}: use a city of the program catalog, the nearest to your home if yours has no "
        f"program; {hint} (GET /v1/cities lists them)"
    )
