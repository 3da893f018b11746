"""Benchmark: raw scoring rate of the ranking model, ONNX (onnxruntime) beside native LightGBM, no I/O.

One profile = every candidate program of its specialties (e.g. Dermatology 145 rows, General Surgery 363),
scored in one call. The native models are retrained with the shipped model's default seed (the pipeline is
deterministic, so they are the shipped model: the script checks the version hash matches), which takes about a
minute. Run: .venv/bin/python bench/ranking_scoring.py [--profiles N] [--threads T]"""

import argparse
import time

import numpy as np

from smartpick_ranking.adapters.onnx_model import SHIPPED_MODEL, OnnxModel
from smartpick_ranking.data import load_programs, load_specialty_stats
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.features import build_features, hard_exclusion
from smartpick_ranking.training import cli
from smartpick_ranking.training.model import TrainingParameters, to_onnx

SPECIALTY_CHOICES = [
    ("Dermatology",),
    ("Orthopaedic Surgery",),
    ("General Surgery",),
    ("Otolaryngology", "Plastic Surgery (Integrated)"),
    ("Neurological Surgery",),
    ("Internal Medicine",),
]


def profiles(count: int, programs, seed: int = 1) -> list[Applicant]:
    rng = np.random.default_rng(seed)
    states = sorted({p.state for p in programs if p.state})
    people = []
    for i in range(count):
        degree = str(rng.choice(["MD", "DO", "IMG"], p=[0.7, 0.15, 0.15]))
        people.append(
            Applicant(
                degree=degree,
                step2_ck_score=int(rng.integers(225, 275)),
                step1_result="pass",
                research_items=int(rng.integers(0, 40)),
                aoa_member=bool(rng.random() < 0.2),
                clerkship_honors=int(rng.integers(0, 7)),
                visa_need="J1" if degree == "IMG" and rng.random() < 0.5 else "none",
                signals_sent=int(rng.integers(0, 30)),
                specialties=SPECIALTY_CHOICES[i % len(SPECIALTY_CHOICES)],
                preferred_states=frozenset(rng.choice(states, 3, replace=False)),
                application_budget=60,
            )
        )
    return people


def candidates(person: Applicant, by_specialty) -> list:
    return [p for s in person.specialties for p in by_specialty.get(s, []) if hard_exclusion(person, p) is None]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10.1f} profiles/s ({seconds * 1e3 / count:6.3f} ms each)"


def measure(profile_count: int = 600, threads: int = 1) -> None:
    """Prints the ONNX and native LightGBM scoring rates on the same batch of profiles, and their difference."""

    programs, stats = load_programs(), load_specialty_stats()
    by_specialty: dict[str, list] = {}
    for program in programs:
        by_specialty.setdefault(program.specialty, []).append(program)
    people = profiles(profile_count, programs)

    started = time.perf_counter()
    batches = [build_features(person, candidates(person, by_specialty), stats) for person in people]
    feature_seconds = time.perf_counter() - started
    rows = sum(len(b) for b in batches)

    shipped = OnnxModel(intra_op_threads=threads)
    defaults = cli._parser().parse_args([])
    print(f"retraining the native models with seed {defaults.seed} (a few minutes) ...", flush=True)
    published = cli.PublishedRates.read()
    simulated = cli.simulate(programs, stats, defaults.seed, defaults.applicants_per_specialty, published)
    params = TrainingParameters(rounds=defaults.rounds, threads=defaults.threads)
    native, _, _ = cli.fit(simulated.dataset, simulated, params, defaults.seed, stats)
    same = to_onnx(native, shipped.version, shipped.anchors).SerializeToString() == SHIPPED_MODEL.read_bytes()

    def native_predict(features):
        return native.predict_native(features, threads=threads)

    for _ in range(3):  # warm-up
        shipped.predict(batches[0])
        native_predict(batches[0])
    started = time.perf_counter()
    for batch in batches:
        shipped.predict(batch)
    onnx_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for batch in batches:
        native_predict(batch)
    native_seconds = time.perf_counter() - started
    everything = np.concatenate(batches)
    started = time.perf_counter()
    shipped.predict(everything)
    onnx_one_call = time.perf_counter() - started
    started = time.perf_counter()
    native_predict(everything)
    native_one_call = time.perf_counter() - started
    largest = max(
        float(np.abs(a - b).max()) for a, b in zip(shipped.predict(everything), native_predict(everything), strict=True)
    )

    print(f"model {shipped.version}; native models retrained identical to the shipped ONNX: {same}")
    print(f"{len(people)} profiles, {rows} program rows ({rows / len(people):.0f} per profile), threads {threads}")
    print(f"  features (build_features):        {rate(len(people), feature_seconds)}")
    print(f"  ONNX, one call per profile:       {rate(len(people), onnx_seconds)}")
    print(f"  LightGBM, one call per profile:   {rate(len(people), native_seconds)}")
    print(f"  ONNX, all rows in one call:       {rows / onnx_one_call:10.0f} rows/s")
    print(f"  LightGBM, all rows in one call:   {rows / native_one_call:10.0f} rows/s")
    print(f"  features + ONNX per profile:      {rate(len(people), feature_seconds + onnx_seconds)}")
    print(f"  largest |ONNX - LightGBM|:        {largest:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1, help="threads for onnxruntime and LightGBM predict")
    args = parser.parse_args()
    measure(args.profiles, args.threads)


if __name__ == "__main__":
    main()
