"""The student's own preferences as portfolio values v_i (`optimize.plan`): what a program is worth to the
student if it admits them, so the list prefers it where chances are alike.

    v_i = specialty(i) x place(i) x setting(i) x size(i)

- specialty: the first listed specialty is worth 1, each later one SPECIALTY_DECAY less;
- place: 1 without a preferred state or home city. With preferred states, 1 in one, SAME_REGION_VALUE
  elsewhere in its census region, OTHER_REGION_VALUE anywhere else. With a home city, 1 within
  FULL_VALUE_MILES of it, falling with the logarithm of the great-circle distance to OTHER_REGION_VALUE at
  FAR_MILES and beyond. With both, the better of the two: a program in a preferred state or near home is
  worth what either makes it. A program with no location is never in a preferred state nor near home;
- setting and size: 1 in a preferred one, STEP_VALUE less per step away (academic, community-affiliated,
  community; small, medium, large), UNKNOWN_VALUE when the facts do not say.

Sizes are measured against the program's own specialty (a small Internal Medicine program is larger than a
large Dermatology one): the tertiles of the specialty's first-year positions in the public facts."""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_platform.us_regions import REGION_OF
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import PROGRAM_TYPES, Program

SPECIALTY_DECAY = 0.85
SAME_REGION_VALUE = 0.8
OTHER_REGION_VALUE = 0.6
FULL_VALUE_MILES = 100.0
FAR_MILES = 1000.0
STEP_VALUE = 0.1  # setting and size: per step away from the nearest preferred one
UNKNOWN_VALUE = 0.9  # setting or size the facts do not state: between a preferred one and the farthest
EARTH_RADIUS_MILES = 3958.8
# Values are rounded to this many decimals: each optimizer step compares one program per distinct value, and
# a value per program (distance is continuous) made a Family Medicine list of 60 with a home city take 2.3 s
# against 0.49 s rounded (one loaded 2-core machine; 0.39 s without preferences). 0.01 is about 6 miles at
# 100 miles from home and 60 at 1,000.
VALUE_DIGITS = 2
SIZES = ("small", "medium", "large")
# A specialty with fewer programs of known size than this is measured against the whole catalog.
MIN_PROGRAMS_FOR_OWN_SIZES = 10
ALL_SPECIALTIES = ""


@dataclass(frozen=True)
class City:
    """A city of the catalog: "Boston, MA", at the mean of its programs' coordinates."""

    name: str
    state: str
    latitude: float
    longitude: float
    programs: int


def city_name(city: str, state: str) -> str:
    return f"{city}, {state}"


def catalog_cities(programs: Iterable[Program]) -> dict[str, City]:
    """Every city of the catalog with a state and coordinates, by its "City, ST" name."""
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for p in programs:
        if p.city and p.state and p.latitude is not None and p.longitude is not None:
            points.setdefault((p.city, p.state), []).append((p.latitude, p.longitude))
    return {
        city_name(city, state): City(
            city_name(city, state),
            state,
            sum(lat for lat, _ in found) / len(found),
            sum(lon for _, lon in found) / len(found),
            len(found),
        )
        for (city, state), found in sorted(points.items())
    }


def miles_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance in miles between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def distance_value(miles: float | None) -> float:
    """1 within FULL_VALUE_MILES, OTHER_REGION_VALUE from FAR_MILES, log-linear between (0.8 at 316 miles);
    an unknown distance is valued as far."""
    if miles is None:
        return OTHER_REGION_VALUE
    if miles <= FULL_VALUE_MILES:
        return 1.0
    share = min(1.0, math.log(miles / FULL_VALUE_MILES) / math.log(FAR_MILES / FULL_VALUE_MILES))
    return 1.0 - share * (1.0 - OTHER_REGION_VALUE)


@dataclass(frozen=True)
class SizeBands:
    """First-year positions up to small_max are small, up to medium_max medium, more large."""

    small_max: int
    medium_max: int

    def size_of(self, positions: int | None) -> str | None:
        if positions is None:
            return None
        return "small" if positions <= self.small_max else "medium" if positions <= self.medium_max else "large"


def _tertiles(positions: Sequence[int]) -> SizeBands:
    ordered = sorted(positions)
    return SizeBands(ordered[len(ordered) // 3], ordered[2 * len(ordered) // 3])


def size_bands(programs: Iterable[Program]) -> dict[str, SizeBands]:
    """Tertile cut-offs of first-year positions per specialty (ALL_SPECIALTIES: the whole catalog, for a
    specialty with fewer than MIN_PROGRAMS_FOR_OWN_SIZES programs of known size)."""
    by_specialty: dict[str, list[int]] = {}
    for p in programs:
        if p.positions:
            by_specialty.setdefault(p.specialty, []).append(p.positions)
    every = [n for found in by_specialty.values() for n in found]
    bands = {ALL_SPECIALTIES: _tertiles(every)} if every else {}
    bands |= {s: _tertiles(found) for s, found in by_specialty.items() if len(found) >= MIN_PROGRAMS_FOR_OWN_SIZES}
    return bands


def _step_value(kind: str | None, preferred: frozenset[str], scale: Sequence[str]) -> float:
    if kind is None:
        return UNKNOWN_VALUE
    steps = min(abs(scale.index(kind) - scale.index(p)) for p in preferred)
    return 1.0 - STEP_VALUE * steps


def _place_values(applicant: Applicant, programs: Sequence[Program]) -> np.ndarray | None:
    by_state = by_home = None
    if applicant.preferred_states:
        regions = {REGION_OF.get(state) for state in applicant.preferred_states} - {None}

        def state_value(program: Program) -> float:
            if program.state in applicant.preferred_states:
                return 1.0
            return SAME_REGION_VALUE if REGION_OF.get(program.state or "") in regions else OTHER_REGION_VALUE

        by_state = np.array([state_value(p) for p in programs])
    if applicant.home is not None:
        by_home = distance_values(miles_from(applicant.home, programs))
    if by_state is None or by_home is None:
        return by_state if by_home is None else by_home
    return np.maximum(by_state, by_home)


def miles_from(home: tuple[float, float], programs: Sequence[Program]) -> np.ndarray:
    """`miles_between` home and every program at once (the same formula on arrays); NaN without a location."""
    located = [
        (p.latitude, p.longitude) if p.latitude is not None and p.longitude is not None else (np.nan,) * 2
        for p in programs
    ]
    latitude, longitude = np.radians(np.array(located, dtype=np.float64).reshape(-1, 2)).T
    lat1, lon1 = map(math.radians, home)
    h = np.sin((latitude - lat1) / 2) ** 2 + math.cos(lat1) * np.cos(latitude) * np.sin((longitude - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def distance_values(miles: np.ndarray) -> np.ndarray:
    """`distance_value` of every distance at once (NaN: unknown, valued as far)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.minimum(1.0, np.log(miles / FULL_VALUE_MILES) / math.log(FAR_MILES / FULL_VALUE_MILES))
    values = np.where(miles <= FULL_VALUE_MILES, 1.0, 1.0 - share * (1.0 - OTHER_REGION_VALUE))
    return np.where(np.isnan(miles), OTHER_REGION_VALUE, values)


def preference_values(
    applicant: Applicant, programs: Sequence[Program], sizes: Mapping[str, SizeBands] | None = None
) -> np.ndarray:
    """v_i of each program for this applicant (module docstring). `sizes`: the catalog's size bands
    (`size_bands`); computed from `programs` when not given."""
    rank = {s: i for i, s in enumerate(dict.fromkeys(applicant.specialties))}
    values = np.array([SPECIALTY_DECAY ** rank[p.specialty] for p in programs])
    place = _place_values(applicant, programs)
    if place is not None:
        values *= place
    if applicant.preferred_settings:
        setting = {
            kind: _step_value(kind, applicant.preferred_settings, PROGRAM_TYPES) for kind in (*PROGRAM_TYPES, None)
        }
        values *= [setting[p.program_type] for p in programs]
    if applicant.preferred_sizes:
        bands = size_bands(programs) if sizes is None else sizes

        def size(program: Program) -> str | None:
            band = bands.get(program.specialty) or bands.get(ALL_SPECIALTIES)
            return None if band is None else band.size_of(program.positions)

        by_size = {kind: _step_value(kind, applicant.preferred_sizes, SIZES) for kind in (*SIZES, None)}
        values *= [by_size[size(p)] for p in programs]
    return np.round(values, VALUE_DIGITS)


def preferences_named(applicant: Applicant) -> list[str]:
    """The preferences that set values, in words, for the list's notes."""
    named = []
    if len(set(applicant.specialties)) > 1:
        named.append("specialty order")
    if applicant.preferred_states:
        named.append("preferred states " + ", ".join(sorted(applicant.preferred_states)))
    if applicant.home is not None:
        named.append(f"distance from {applicant.home_city}")
    if applicant.preferred_settings:
        named.append(
            " or ".join(s.replace("_", "-") for s in PROGRAM_TYPES if s in applicant.preferred_settings) + " setting"
        )
    if applicant.preferred_sizes:
        named.append(" or ".join(s for s in SIZES if s in applicant.preferred_sizes) + " size")
    return named
