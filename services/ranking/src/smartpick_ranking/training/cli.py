"""smartpick-ranking-train: simulate (or read a school's outcomes), train, calibrate, export ONNX and the card.

Everything is computed before anything is written; the three artefacts then replace the old ones together.
"""

import argparse
import dataclasses
import datetime
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.data import (
    BAND_RATES_FILE,
    IMG_OUTCOMES_FILE,
    data_digest,
    load_fee_schedule,
    load_programs,
    load_specialty_stats,
    read_rows,
)
from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import FEATURE_NAMES, MONOTONE
from smartpick_ranking.training import anchoring, calibration, calibration_picture, list_calibration, replay
from smartpick_ranking.training import card as model_card
from smartpick_ranking.training.dataset import Dataset, from_simulation, set_aside, split_by_group, unseen_by_training
from smartpick_ranking.training.market import ASSUMPTIONS, SpecialtyOutcome
from smartpick_ranking.training.model import (
    TrainedModel,
    TrainingParameters,
    TrainingRefused,
    to_onnx,
    train,
    versioned,
)
from smartpick_ranking.training.school_outcomes import OutcomesInvalid, parse_outcomes
from smartpick_ranking.training.simulation import simulate_specialty
from smartpick_ranking.training.targets import (
    FALLBACKS,
    BandRate,
    ImgOutcome,
    ImgStep2Half,
    SpecialtyTargets,
    parse_band_rates,
    parse_img_outcomes,
    parse_img_step2_halves,
    resolve_targets,
)

SHIPPED_MODEL_DIR = Path(__file__).resolve().parent.parent / "model"
SOURCES = (
    "programs.csv: 5,786 ACGME programs (ACGME public directory data as compiled by cmb2025, tyler2023 and mac2019; "
    "see PROGRAMS_SOURCES.md)",
    "specialty_stats.csv: NRMP 2025 Main Match and Charting Outcomes figures per specialty as quoted by R25, ACS25, "
    "ACS24, QP, ORTHO, SOS22, HCN24, RAD25 and AAMC ERAS25 (see SPECIALTY_SOURCES.md)",
)
MIN_APPLICANTS = 20
CALIBRATION_METHOD = (
    "Platt scaling of each LightGBM margin on the calibration split; admission_probability = P(interview) x "
    "P(admitted | interview); the admission Platt (one intercept per cohort: US MD, DO, non-US IMG) and the "
    "latent loading then refitted together on the same split to the applicants' matched-or-not outcomes; on "
    "simulated data the admission Platt is then refitted once more, to those outcomes and to the product's own "
    "lists for further simulated applicants (list_calibration.py), each played in its specialty's simulated Match"
)
UNSEEN_PER_SPECIALTY = 700  # simulated applicants training never saw, for the calibration table
PRODUCT_LISTS_PER_SPECIALTY = 40  # further applicants whose product lists, replayed, the admission stage is fitted to


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartpick-ranking-train",
        description="Train the ranking model (P(interview), P(match)) and write model.onnx + model card.",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same model")
    parser.add_argument(
        "--outcomes", type=Path, help="a school's historical outcomes CSV (schema in docs/model.md); default: simulate"
    )
    parser.add_argument(
        "--applicants-per-specialty", type=int, default=300, help="simulated applicants sampled per specialty"
    )
    parser.add_argument("--rounds", type=int, default=TrainingParameters.rounds, help="boosting rounds per model")
    parser.add_argument("--threads", type=int, default=2, help="LightGBM threads")
    parser.add_argument("--output", type=Path, default=SHIPPED_MODEL_DIR, help="folder for model.onnx and the card")
    parser.add_argument("--date", default=None, help="date in the model version (YYYY.MM.DD); default today, UTC")
    return parser


@dataclasses.dataclass(frozen=True)
class Simulated:
    """What the simulated Match gives the training: the rows, the unseen cohort, the card's report, and the
    Matches themselves (to replay the product's lists in)."""

    dataset: Dataset
    unseen: Dataset
    report: dict
    outcomes: dict[str, SpecialtyOutcome]
    targets: dict[str, SpecialtyTargets]
    product_list_applicants: dict[str, np.ndarray]  # per specialty, for the product-list fit


@dataclasses.dataclass(frozen=True)
class PublishedRates:
    """NRMP's published rates the simulation is calibrated to and the checks read, read once: the US MD band
    rates, the non-US IMG outcomes and the IMGs' Step 2 CK halves derived from them."""

    bands: dict[str, tuple[BandRate, ...]]
    img_outcomes: dict[str, ImgOutcome]
    img_halves: dict[str, tuple[ImgStep2Half, ImgStep2Half]]

    @classmethod
    def read(cls) -> "PublishedRates":
        img_rows = read_rows(IMG_OUTCOMES_FILE)
        return cls(
            parse_band_rates(read_rows(BAND_RATES_FILE)), parse_img_outcomes(img_rows), parse_img_step2_halves(img_rows)
        )

    def targets(self, programs, stats) -> dict[str, SpecialtyTargets]:
        return resolve_targets(programs, stats, self.bands, self.img_outcomes, self.img_halves)


def simulate(programs, stats, seed: int, applicants_per_specialty: int, published: PublishedRates) -> Simulated:
    targets = published.targets(programs, stats)
    grouped = by_specialty(programs)
    outcomes, report = [], {}
    for index, specialty in enumerate(tqdm(sorted(targets), desc="simulate match", unit="specialty")):
        outcome = simulate_specialty(grouped[specialty], targets[specialty], seed, index)
        outcomes.append(outcome)
        target = targets[specialty]
        report[specialty] = {
            "target": {
                "mean_step2ck_matched_usmd": target.mean_step2ck_matched_usmd,
                "mean_research_items_matched": target.mean_research_items_matched,
                "usmd_share": target.usmd_share,
                "fill_rate": target.fill_rate,
                "top_signals": target.top_signals,
                "second_signals": target.second_signals,
                "mean_applications": target.mean_applications,
                "band_match_rates": {f"{b.low}-{b.high}": b.p_match for b in target.bands},
                "signal_interview_rates": target.signal_rates,
                "img_per_position": target.img.per_position if target.img else None,
                "img_match_rate": target.img.p_match if target.img else None,
                "img_match_rate_halves": [h.p_match for h in target.img_halves] if target.img_halves else None,
            },
            "achieved": outcome.achieved,
            "fallbacks": list(target.fallbacks),
        }
    dataset = from_simulation(outcomes, stats, applicants_per_specialty, seed)
    unseen = unseen_by_training(outcomes, stats, applicants_per_specialty, seed, UNSEEN_PER_SPECIALTY)
    simulation = {"specialties": report, "fallback_rules": FALLBACKS, "assumptions": ASSUMPTIONS}
    aside = set_aside(outcomes, applicants_per_specialty, seed, UNSEEN_PER_SPECIALTY, PRODUCT_LISTS_PER_SPECIALTY)
    return Simulated(dataset, unseen, simulation, {o.specialty: o for o in outcomes}, targets, aside)


def fit(
    dataset: Dataset, simulated: Simulated | None, params: TrainingParameters, seed: int, stats
) -> tuple[TrainedModel, tuple[Dataset, Dataset, Dataset], list_calibration.ReplayedLists | None]:
    """The model as shipped: trained on the dataset's split, then, on simulated data, refitted to the product's
    own lists played in the simulated Match. Also the (train, calibration, test) split and those lists."""
    splits = split_by_group(dataset, seed)
    model = train(splits[0], splits[1], params, seed)
    if simulated is None:
        return model, splits, None
    lists = list_calibration.replayed_lists(
        simulated.outcomes,
        simulated.targets,
        simulated.product_list_applicants,
        stats,
        model,
        load_fee_schedule(),
        seed,
    )
    return list_calibration.refit_on_product_lists(model, splits[1], lists), splits, lists


def anchor(model: TrainedModel, simulated: Simulated, programs, stats, bands, img_outcomes) -> anchoring.AnchorFit:
    """The anchors of a model trained on the simulation (`training.anchoring`) to the published `bands` and
    `img_outcomes`, scored natively."""

    def predict(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interview, admission = model.predict_native(features)
        return interview.astype(np.float32), admission.astype(np.float32)

    shown = anchoring.ShownChance(
        by_specialty(programs), stats, predict, LatentFactor.of(model.latent_loading), load_fee_schedule()
    )
    return anchoring.fit_anchors(bands, img_outcomes, simulated.targets, shown)


def anchored_reliability(dataset: Dataset, scorer: OnnxModel) -> dict:
    """`calibration.reliability` of the chances the product shows (anchors applied) on `dataset`."""
    interview, admission = scorer.predict(dataset.features)
    shown = scorer.anchors.adjust(dataset.features, dataset.specialty.tolist(), interview, admission)
    return calibration.reliability(dataset, shown.astype(np.float64), scorer.factor)


def by_specialty(programs) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for program in programs:
        grouped.setdefault(program.specialty, []).append(program)
    return grouped


def _write_together(output: Path, files: dict[str, bytes]) -> None:
    """Write every file beside its target first, then swap them all in: no half-written model."""
    output.mkdir(parents=True, exist_ok=True)
    staged = {}
    try:
        for name, content in files.items():
            handle, temporary = tempfile.mkstemp(dir=output, prefix=f".{name}.")
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.chmod(temporary, 0o644)
            staged[name] = temporary
        for name, temporary in staged.items():
            os.replace(temporary, output / name)
    finally:
        for temporary in staged.values():
            if os.path.exists(temporary):
                os.remove(temporary)


def run(args: argparse.Namespace, command: str) -> dict:
    """Train and write the artefacts; returns the card. Raises OutcomesInvalid or TrainingRefused, writing nothing."""
    programs, stats, published = load_programs(), load_specialty_stats(), PublishedRates.read()
    catalog_sha = data_digest()
    if args.outcomes:
        text = args.outcomes.read_text(encoding="utf-8")
        dataset = parse_outcomes(text, {p.program_id: p for p in programs}, stats)
        applicants = len(np.unique(dataset.group))
        if applicants < MIN_APPLICANTS:
            raise TrainingRefused(f"the outcomes name {applicants} applicants; at least {MIN_APPLICANTS} are needed")
        outcomes_sha = hashlib.sha256(text.encode()).hexdigest()
        data = {
            "kind": "school outcomes",
            "description": f"{args.outcomes.name} (SHA-256 {outcomes_sha}), {len(dataset.features)} applications "
            f"of {applicants} past applicants",
            "outcomes_sha256": outcomes_sha,
        }
        simulation = unseen = simulated = None
    else:
        simulated = simulate(programs, stats, args.seed, args.applicants_per_specialty, published)
        dataset, unseen, simulation = simulated.dataset, simulated.unseen, simulated.report
        data = {
            "kind": "simulated cohort",
            "description": f"{len(simulation['specialties'])} specialties, {args.applicants_per_specialty} simulated "
            f"applicants sampled per specialty, {len(dataset.features)} applications",
        }
    data |= {"catalog_sha256": catalog_sha, "sources": list(SOURCES)}
    params = TrainingParameters(rounds=args.rounds, threads=args.threads)
    model, (train_set, calibration_set, test_set), product_lists = fit(dataset, simulated, params, args.seed, stats)
    bands, img_outcomes = published.bands, published.img_outcomes
    anchored = anchor(model, simulated, programs, stats, bands, img_outcomes) if simulated is not None else None
    anchors: ExternalAnchors = anchored.anchors if anchored else NO_ANCHORS

    # The version's hash names what scores: the exported graph (trees, calibration, how the trees are
    # grouped), the features, the latent loading and the anchors, all of it but the version itself. The same
    # data and seed give the same version, and any change to what scores gives another.
    graph = to_onnx(model, "", anchors)
    date = args.date or datetime.datetime.now(datetime.UTC).strftime("%Y.%m.%d")
    version = f"{date}-{hashlib.sha256(graph.SerializeToString()).hexdigest()[:8]}"
    onnx_bytes = versioned(graph, version).SerializeToString()

    native_interview, native_match = model.predict_native(test_set.features)
    scorer = OnnxModel(onnx_bytes)
    onnx_interview, onnx_match = scorer.predict(test_set.features)
    internal = calibration.reliability(test_set, onnx_match.astype(np.float64), scorer.factor)
    if unseen is not None:
        unseen_reliability = calibration.reliability(unseen, scorer.predict(unseen.features)[1], scorer.factor)
        unseen_shown = anchored_reliability(unseen, scorer)
    scoring = (by_specialty(programs), stats, scorer.predict, scorer.factor, load_fee_schedule(), scorer.anchors)
    checks = calibration.external_checks(bands, *scoring)
    img = calibration.img_checks(img_outcomes, *scoring)
    img_by_step2 = calibration.img_step2_checks(published.img_halves, img_outcomes, *scoring)
    if simulated is not None:
        replay_args = (simulated.outcomes, simulated.targets)
        replays = replay.replayed_checks(*replay_args, bands, *scoring[1:5], args.seed, scorer.anchors)
        img_replays = replay.replayed_img_checks(*replay_args, img_outcomes, *scoring[1:5], args.seed, scorer.anchors)
    picture = io.BytesIO()
    calibration_picture.draw(
        unseen_reliability if unseen is not None else internal,
        checks,
        img,
        picture,
        anchored=unseen_shown if unseen is not None and scorer.anchors else None,
        img_by_step2=img_by_step2,
    )
    difference = float(max(np.abs(onnx_interview - native_interview).max(), np.abs(onnx_match - native_match).max()))
    card = {
        "model_version": version,
        "trained_on": date,
        "command": command,
        "seed": args.seed,
        "data": data,
        "rows": {
            "train": len(train_set.features),
            "calibration": len(calibration_set.features),
            "test": len(test_set.features),
        },
        "features": list(FEATURE_NAMES),
        "monotone": dict(MONOTONE),
        "calibration": CALIBRATION_METHOD,
        "latent_loading": model.latent_loading,
        "lightgbm": {
            "interview": params.lightgbm(args.seed, len(train_set.features)),
            "admitted_given_interview": params.lightgbm(args.seed, int(train_set.interviewed.sum())),
        },
        "metrics": model_card.metrics(test_set, onnx_interview, onnx_match),
        "onnx": {"bytes": len(onnx_bytes), "max_abs_difference_vs_native": difference},
        "calibration_internal": internal,
        **(
            {"calibration_unseen": unseen_reliability, "calibration_unseen_anchored": unseen_shown}
            if unseen is not None
            else {}
        ),
        "calibration_external": calibration.external_summary(checks),
        **(
            {"calibration_external_out_of_sample": anchored.summary(calibration.EXTERNAL_TOLERANCE)} if anchored else {}
        ),
        "calibration_external_img": calibration.external_summary(img),
        "calibration_external_img_by_step2": calibration.external_summary(img_by_step2),
        "disclaimer": model_card.SCHOOL_DISCLAIMER if args.outcomes else model_card.DISCLAIMER,
    }
    if simulation:
        card["calibration_product_lists"] = product_lists.summary()
        card["calibration_replayed"] = replay.replay_summary(replays)
        card["calibration_replayed_img"] = replay.replay_summary(img_replays)
        card["simulation"] = simulation
    _write_together(
        args.output,
        {
            "model.onnx": onnx_bytes,
            "model_card.json": (json.dumps(card, indent=2) + "\n").encode(),
            "model_card.md": model_card.render_markdown(card).encode(),
            "calibration.png": picture.getvalue(),
        },
    )
    return card


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    try:
        card = run(args, " ".join(["smartpick-ranking-train", *argv]))
    except (OutcomesInvalid, TrainingRefused) as error:
        print(f"smartpick-ranking-train: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    held_out = card["metrics"]["held_out"]
    print(
        f"model {card['model_version']} written to {args.output}: "
        f"interview AUC {held_out['interview']['auc']}, admission AUC {held_out['admission']['auc']}, "
        f"ONNX vs native {card['onnx']['max_abs_difference_vs_native']:.1e}"
    )
