"""Tiers: where a program sits against the applicant's estimated chance of an interview there.

Interview chance, not match chance, sets the tier: per-program match chances in competitive
specialties are small even for strong applicants, while the interview offer is the step that
separates a reach from a likely program."""

import enum

# Interview probability at or above which a program is a target, and a likely program.
TARGET_FROM = 0.2
LIKELY_FROM = 0.5


class Tier(enum.StrEnum):
    REACH = "reach"
    TARGET = "target"
    LIKELY = "likely"


def tier(interview_probability: float) -> Tier:
    if interview_probability >= LIKELY_FROM:
        return Tier.LIKELY
    if interview_probability >= TARGET_FROM:
        return Tier.TARGET
    return Tier.REACH
