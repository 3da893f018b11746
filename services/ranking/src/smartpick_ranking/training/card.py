"""The model card: what a trained model is, what it was trained on, and how well it did on held-out rows."""

import math
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from smartpick_ranking.data import TRAINING_FILES
from smartpick_ranking.training.dataset import Dataset

DISCLAIMER = (
    "Probabilities are estimates built from public aggregate data (NRMP and other public figures) through a "
    "simulated applicant cohort, not from any real applicant's outcome. NRMP says Charting Outcomes is not "
    "designed to predict an individual applicant's success or failure; use these figures as a rough guide."
)
SCHOOL_DISCLAIMER = (
    "Probabilities are estimates learned from one school's past applicants' outcomes (a small sample; see the "
    "rows below), not a prediction of any one applicant's result; use these figures as a rough guide."
)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else None


def metrics(test_set: Dataset, interview: np.ndarray, match: np.ndarray) -> dict:
    """AUC and Brier score of both outputs on held-out rows, overall and by specialty."""
    overall = {
        "rows": len(test_set.features),
        "interview": {
            "auc": _auc(test_set.interviewed, interview),
            "brier": float(brier_score_loss(test_set.interviewed, interview)),
            "mean_predicted": float(interview.mean()),
            "observed_rate": float(test_set.interviewed.mean()),
        },
        "admission": {
            "auc": _auc(test_set.admitted, match),
            "brier": float(brier_score_loss(test_set.admitted, match)),
            "mean_predicted": float(match.mean()),
            "observed_rate": float(test_set.admitted.mean()),
        },
    }
    by_specialty = {}
    for specialty in sorted(set(test_set.specialty)):
        rows = test_set.specialty == specialty
        by_specialty[specialty] = {
            "rows": int(rows.sum()),
            "interview_predicted": float(interview[rows].mean()),
            "interview_observed": float(test_set.interviewed[rows].mean()),
            "admission_predicted": float(match[rows].mean()),
            "admission_observed": float(test_set.admitted[rows].mean()),
            "admission_brier": float(brier_score_loss(test_set.admitted[rows], match[rows])),
        }
    return {"held_out": overall, "calibration_by_specialty": by_specialty}


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def render_markdown(card: Mapping) -> str:
    """The card as Markdown (model_card.md), generated from the same dictionary as model_card.json."""
    held_out = card["metrics"]["held_out"]
    lines = [
        f"# Smart Pick ranking model {card['model_version']}",
        "",
        f"> {card['disclaimer']}",
        "",
        f"- Trained: {card['trained_on']} with `{card['command']}` (seed {card['seed']})",
        f"- Data: {card['data']['kind']}; {card['data']['description']}",
        f"- Data files (SHA-256 of {' + '.join(TRAINING_FILES)}): `{card['data']['catalog_sha256']}`",
        f"- Rows: {card['rows']['train']} train, {card['rows']['calibration']} calibration, "
        f"{card['rows']['test']} held-out test (split by applicant)",
        f"- ONNX file: {card['onnx']['bytes']} bytes; largest |ONNX - native LightGBM| on the held-out test rows: "
        f"{card['onnx']['max_abs_difference_vs_native']:.2e}",
        f"- Features ({len(card['features'])}): {', '.join(card['features'])}",
        f"- Monotone constraints: {', '.join(f'{k} {v:+d}' for k, v in card['monotone'].items())}",
        f"- Calibration: {card['calibration']}",
        "",
        "## Held-out metrics",
        "",
        "| output | AUC | Brier | mean predicted | observed rate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for output in ("interview", "admission"):
        m = held_out[output]
        lines.append(
            f"| {output} | {_number(m['auc'])} | {_number(m['brier'], 4)} | {_number(m['mean_predicted'], 4)} "
            f"| {_number(m['observed_rate'], 4)} |"
        )
    lines += [
        "",
        "## Calibration by specialty (held-out rows, mean predicted vs observed)",
        "",
        "| specialty | rows | interview predicted | interview observed | admission predicted | admission observed "
        "| admission Brier |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for specialty, m in card["metrics"]["calibration_by_specialty"].items():
        lines.append(
            f"| {specialty} | {m['rows']} | {_number(m['interview_predicted'])} | {_number(m['interview_observed'])} "
            f"| {_number(m['admission_predicted'], 4)} | {_number(m['admission_observed'], 4)} "
            f"| {_number(m['admission_brier'], 4)} |"
        )
    lines += calibration_markdown(card)
    simulation = card.get("simulation")
    if simulation:
        lines += [
            "",
            "## Simulated Match against the public figures",
            "",
            "Each specialty's cohort is shifted until its simulated Match reproduces the public figures; "
            "'fallbacks' names the figures the public data lacks for that specialty (rules below).",
            "",
            "| specialty | Step 2 CK of matched US MD (sim / target) | research of matched US MD | US MD share of "
            "positions | fill rate | applicants | fallbacks |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for specialty, s in simulation["specialties"].items():
            got, target = s["achieved"], s["target"]
            pairs = [
                f"{_number(got[name], digits)} / {_number(target[name], digits)}"
                for name, digits in (
                    ("mean_step2ck_matched_usmd", 1),
                    ("mean_research_items_matched", 1),
                    ("usmd_share", 2),
                    ("fill_rate", 3),
                )
            ]
            lines.append(
                f"| {specialty} | {' | '.join(pairs)} | {int(got['applicants'])} | {', '.join(s['fallbacks']) or '-'} |"
            )
        lines += ["", "### Fallback rules", ""]
        lines += [f"- `{name}`: {rule}" for name, rule in simulation["fallback_rules"].items()]
        lines += ["", "### Assumptions (no public figure gives these)", ""]
        lines += [f"- `{name}`: {text}" for name, text in simulation["assumptions"].items()]
    lines += ["", "## Sources", ""]
    lines += [f"- {source}" for source in card["data"]["sources"]]
    lines += ["", f"LightGBM parameters: `{card['lightgbm']}`", ""]
    return "\n".join(lines)


def _reliability_markdown(table: Mapping, who: str) -> list[str]:
    floor = (
        f" (a perfectly calibrated model would show {table['noise_floor']:.3f} on as many)"
        if "noise_floor" in table
        else ""
    )
    lines = [
        "",
        f"{who}: the predicted chance of at least one match of the list each applied to, by decile, against the "
        f"share who matched. Expected calibration error **{table['expected_calibration_error']:.3f}**{floor}.",
        "",
        "| decile | applicants | predicted (range) | predicted mean | observed |",
        "| --- | --- | --- | --- | --- |",
    ]
    for number, row in enumerate(table["deciles"], start=1):
        lines.append(
            f"| {number} | {row['applicants']} | {row['low']:.3f}-{row['high']:.3f} | {row['predicted']:.3f} "
            f"| {row['observed']:.3f} |"
        )
    return lines


def calibration_markdown(card: Mapping) -> list[str]:
    """The internal reliability table and the external table against NRMP's band rates, as Markdown."""
    internal, external = card.get("calibration_internal"), card.get("calibration_external")
    if not internal or not external:
        return []
    lines = ["", "## Calibration of P(at least one match)"]
    unseen = card.get("calibration_unseen")
    if unseen:
        lines += _reliability_markdown(
            unseen,
            f"Simulated applicants training never saw ({unseen['applicants']}, up to 700 per specialty, from the "
            "same simulated cohorts)",
        )
    anchored = card.get("calibration_unseen_anchored")
    if anchored:
        lines += _reliability_markdown(
            anchored,
            "The same applicants with the chances as shown, the anchors to NRMP applied (they follow the record "
            "where the simulated world is more generous, so here they run low)",
        )
    lines += _reliability_markdown(internal, f"The held-out test split ({internal['applicants']} applicants)")
    lines += [
        "",
        "Against NRMP Charting Outcomes (US MD seniors who preferred the specialty, P(match) by Step 2 CK band, "
        "pooled 2020-2024, `step2_band_match_rates.csv`): the chance the product shows a typical US MD applicant "
        "of the band (Step 2 CK at the band's typical score, research at the specialty's matched mean, no AOA, "
        "three honors, a home program and the simulation's typical away rotations, the specialty's typical number "
        "of applications, its signals planned, averaged over 8 school states), for every band of at least 30 "
        "applicants. "
        f"**{external['within_tolerance']} of {external['bands']}** lie within {external['tolerance'] * 100:.0f} "
        f"points; mean absolute gap {external['mean_absolute_gap'] * 100:.1f} points.",
        "",
        "| specialty | band | applicants 2020-2024 | typical score | applications | published | shown | gap |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += _external_rows(external)
    img = card.get("calibration_external_img")
    if img:
        lines += [
            "",
            "Against NRMP Charting Outcomes for non-US IMGs (the share of those who preferred the specialty who "
            "matched, 2026 Main Match, `img_charting_outcomes_2026.csv`): a typical non-US IMG (Step 2 CK and "
            "research at the means of the specialty's IMG applicants, matched and unmatched together, no home "
            "program, three years since graduation, the simulation's mix of visa needs, the same applications), "
            "for every specialty of at least 30 IMG applicants whose Step 2 CK NRMP gives. "
            f"**{img['within_tolerance']} of {img['bands']}** lie within {img['tolerance'] * 100:.0f} points; "
            f"mean absolute gap {img['mean_absolute_gap'] * 100:.1f} points.",
            "",
            "| specialty | cohort | IMG applicants 2026 | mean score | applications | published | shown | gap |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += _external_rows(img)
    lines += _img_by_step2_markdown(card.get("calibration_external_img_by_step2"))
    lines += _out_of_sample_markdown(card.get("calibration_external_out_of_sample"))
    return lines + _replay_markdown(card.get("calibration_replayed"), card.get("calibration_replayed_img"))


def _img_by_step2_markdown(halves: Mapping | None) -> list[str]:
    """The IMG check again for each half of a specialty's IMGs by Step 2 CK, and the spread between halves."""
    if not halves:
        return []
    rows: dict[str, list[Mapping]] = {}
    for row in halves["rows"]:
        rows.setdefault(row["specialty"], []).append(row)
    spreads = [
        (r[1]["published"] - r[0]["published"], r[1]["shown"] - r[0]["shown"]) for r in rows.values() if len(r) == 2
    ]
    lines = [
        "",
        "How the IMG chance moves with the score, which the one published rate per specialty does not pin: the same "
        "typical non-US IMG at the median Step 2 CK of each half of the specialty's IMGs (split at their pooled "
        "median), beside the half's match rate derived from NRMP's quartiles of matched and of unmatched IMGs "
        "(linear between the quartiles; halves of at least 30 IMGs). The rates are derived, not published, and "
        "they are associations: IMGs of the two halves differ in more than the score. "
        f"**{halves['within_tolerance']} of {halves['bands']}** halves lie within {halves['tolerance'] * 100:.0f} "
        f"points; mean absolute gap {halves['mean_absolute_gap'] * 100:.1f} points"
        + (
            f"; from the lower half to the upper the derived rate rises {np.mean([p for p, _ in spreads]) * 100:+.0f} "
            f"points on average over {len(spreads)} specialties, the chance shown "
            f"{np.mean([q for _, q in spreads]) * 100:+.0f}."
            if spreads
            else "."
        ),
        "",
        "| specialty | half | IMGs 2026 | median score | applications | derived | shown | gap |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    return lines + _external_rows(halves)


def _out_of_sample_markdown(fitted: Mapping | None) -> list[str]:
    """The anchors (`training/anchoring.py`) and the US MD bands with each one's anchor fitted without it."""
    if not fitted:
        return []
    lines = [
        "",
        "The tables above show the chances with the anchors applied, and the anchors were fitted to those very "
        "tables. Out of sample, each US MD band again with its specialty's line fitted to the other bands only: "
        f"**{fitted['within_tolerance']} of {fitted['bands']}** within {fitted['tolerance'] * 100:.0f} points, mean "
        f"absolute gap {fitted['mean_absolute_gap'] * 100:.1f} points. The non-US IMG anchors have one published "
        "rate each: only the halves by Step 2 CK above check them away from the typical IMG.",
        "",
        "| specialty | band | published | shown, line fitted without the band | gap |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {row['specialty']} | {row['band']} | {row['published']:.2f} | {row['shown']:.2f} "
        f"| {_gap_cell(row, fitted['tolerance'])} |"
        for row in fitted["rows"]
    ]
    lines += [
        "",
        "The anchors: a shift of the admission stage's logit, intercept + slope x (Step 2 CK - the specialty's "
        "matched mean), held within the shifts its bands asked for.",
        "",
        "| specialty | cohort | intercept | slope per point | held within |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {a['specialty']} | {a['cohort']} | {a['intercept']:+.3f} | {a['slope']:.4f} "
        f"| {a['low']:+.2f} to {a['high']:+.2f} |"
        for a in fitted["anchors"]
    ]
    return lines


def _replay_markdown(replayed: Mapping | None, img: Mapping | None) -> list[str]:
    if not replayed:
        return []
    lines = [
        "",
        "The product's own list played in the simulated Match (`training/replay.py`): the same typical US MD "
        "applicant of every band is given the list and signal plan the product recommends among the programs the "
        "specialty's Match ran on, and the list is played there by the Match's own rules, 4,000 times with fresh "
        "noise and latent strength. *shown* is the product's chance for that list, *replayed* the share of plays "
        "in which a program would take the applicant. The internal table checks the lists simulated applicants "
        "made; this checks the list the product makes. "
        f"Mean overstatement {replayed['mean_overstatement'] * 100:+.1f} points; "
        f"**{replayed['overstated_by_more_than_10_points']} of {replayed['bands']}** bands shown more than 10 "
        f"points above what their list achieved, {replayed['understated_by_more_than_10_points']} more than 10 below."
        + (
            f" The typical non-US IMG of the IMG check: mean {img['mean_overstatement'] * 100:+.1f} points, "
            f"{img['overstated_by_more_than_10_points']} of {img['bands']} specialties more than 10 points above, "
            f"{img['understated_by_more_than_10_points']} more than 10 below."
            if img
            else ""
        ),
        "",
        "| specialty | band | published | shown | replayed | shown - replayed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in replayed["rows"] + (img["rows"] if img else []):
        over = row["shown"] - row["replayed"]
        flag = " **over**" if over > 0.10 else " **under**" if over < -0.10 else ""
        lines.append(
            f"| {row['specialty']} | {row['band']} | {row['published']:.2f} | {row['shown']:.2f} "
            f"| {row['replayed']:.2f} | {over * 100:+.0f}{flag} |"
        )
    return lines


def _external_rows(summary: Mapping) -> list[str]:
    lines = []
    for row in summary["rows"]:
        lines.append(
            f"| {row['specialty']} | {row['band']} | {row['applicants']} | {row['step2']} | {row['applications']} "
            f"| {row['published']:.2f} | {row['shown']:.2f} | {_gap_cell(row, summary['tolerance'])} |"
        )
    return lines


def _gap_cell(row: Mapping, tolerance: float) -> str:
    """Shown minus published in points, flagged when it is more than `tolerance` off."""
    gap = row["shown"] - row["published"]
    return f"{gap * 100:+.0f}" + (" **off**" if abs(gap) > tolerance else "")
