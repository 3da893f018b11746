"""calibration.png: the reliability diagram of simulated applicants training never saw beside the external
check (the chance shown against NRMP's published rates), so that a reader sees at a glance where the model
stands; the numbers behind every point are in the model card."""

from collections.abc import Sequence

import matplotlib

from smartpick_ranking.training.calibration import EXTERNAL_TOLERANCE, BandCheck

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def draw(
    internal: dict,
    checks: Sequence[BandCheck],
    img: Sequence[BandCheck],
    path,
    anchored: dict | None = None,
    img_by_step2: Sequence[BandCheck] = (),
) -> None:
    """The reliability diagram (internal) beside published against shown (external), as one PNG. `anchored`:
    the same applicants' reliability with the anchors applied (the chances shown), drawn beside the model's;
    `img_by_step2`: the IMG halves by Step 2 CK (`img_step2_checks`), their rates derived."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    predicted = [row["predicted"] for row in internal["deciles"]]
    observed = [row["observed"] for row in internal["deciles"]]
    for axis in (left, right):
        axis.plot([0, 1], [0, 1], color="#999999", linewidth=1, linestyle="--")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    left.plot(predicted, observed, marker="o", color="#1f5fa8", label="the model")
    title = (
        f"Simulated applicants training never saw ({internal['applicants']})\n"
        f"expected calibration error {internal['expected_calibration_error']:.3f}"
    )
    if anchored is not None:
        left.plot(
            [row["predicted"] for row in anchored["deciles"]],
            [row["observed"] for row in anchored["deciles"]],
            marker="s",
            color="#c07000",
            label="as shown, anchored to NRMP",
        )
        left.legend(loc="lower right")
        title += f"; as shown {anchored['expected_calibration_error']:.3f}"
    left.set_title(title)
    left.set_xlabel("predicted P(at least one match), decile mean")
    left.set_ylabel("observed share matched")
    inside = [abs(c.gap) <= EXTERNAL_TOLERANCE for c in checks]
    right.fill_between(
        [0, 1],
        [-EXTERNAL_TOLERANCE, 1 - EXTERNAL_TOLERANCE],
        [EXTERNAL_TOLERANCE, 1 + EXTERNAL_TOLERANCE],
        color="#cfe3cf",
        alpha=0.6,
        label="within 10 points",
    )
    right.scatter(
        [c.published for c in checks],
        [c.shown for c in checks],
        c=["#2c7a2c" if ok else "#b3261e" for ok in inside],
        s=[max(12, c.applicants**0.5) for c in checks],
        label="US MD seniors, by Step 2 CK band (2020-2024)",
    )
    img_inside = [abs(c.gap) <= EXTERNAL_TOLERANCE for c in img]
    right.scatter(
        [c.published for c in img],
        [c.shown for c in img],
        facecolors="none",
        edgecolors=["#2c7a2c" if ok else "#b3261e" for ok in img_inside],
        marker="s",
        s=[max(12, c.applicants**0.5) for c in img],
        label="non-US IMGs, by specialty (2026)",
    )
    halves_inside = [abs(c.gap) <= EXTERNAL_TOLERANCE for c in img_by_step2]
    if img_by_step2:
        right.scatter(
            [c.published for c in img_by_step2],
            [c.shown for c in img_by_step2],
            c=["#2c7a2c" if ok else "#b3261e" for ok in halves_inside],
            marker="^",
            s=[max(12, c.applicants**0.5) for c in img_by_step2],
            label="non-US IMGs, half by Step 2 CK (derived, 2026)",
        )
    right.set_title(
        "Typical applicant within 10 points of NRMP:\n"
        f"US MD {sum(inside)} of {len(checks)} bands, non-US IMG {sum(img_inside)} of {len(img)} specialties"
        + (
            f"\nnon-US IMG halves by Step 2 CK (derived) {sum(halves_inside)} of {len(img_by_step2)}"
            if img_by_step2
            else ""
        )
    )
    right.set_xlabel("published P(match), NRMP Charting Outcomes")
    right.set_ylabel("P(at least one match) Smart Pick shows")
    right.legend(loc="upper left", fontsize="small")
    figure.suptitle("Smart Pick ranking model: calibration (estimates from public aggregate data)")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
