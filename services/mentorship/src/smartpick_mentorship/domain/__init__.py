"""Mentorship rules, free of I/O: compatibility scores, the optimal assignment, suggestions, the match lifecycle."""
