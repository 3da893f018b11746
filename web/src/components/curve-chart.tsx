// The chance of at least one match against the number of applications (uPlot, drawn on a canvas), with
// the point where more applications stop helping; a text summary and the points' table for screen readers.
// uPlot is loaded when a chart is first drawn, so a page shows its content before the chart code arrives.
import { useEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";
import { chanceAt, type CurvePoint } from "../lib/curve";
import { percent } from "../lib/format";

const loadUPlot = () => Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([m]) => m.default);

interface Props {
  curve: CurvePoint[];
  diminishingAt: number | null;
  compare?: CurvePoint[];
}

function marker(at: number | null): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        if (at === null) return;
        const x = u.valToPos(at, "x", true);
        const { ctx } = u;
        ctx.save();
        ctx.strokeStyle = "#8a5300";
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      },
    },
  };
}

function drawCurve(UPlot: typeof uPlot, el: HTMLDivElement, { curve, diminishingAt, compare }: Props): uPlot {
  const xs = curve.map((p) => p.applications);
  const data: uPlot.AlignedData = [xs, curve.map((p) => p.match_probability * 100)];
  const series: uPlot.Series[] = [
    { label: "Applications" },
    { label: "Chance of a match", stroke: "#0b5fa5", width: 2, value: (_u, v) => (v === null ? "–" : `${Math.round(v)}%`) },
  ];
  if (compare?.length) {
    data.push(xs.map((x) => (chanceAt(compare, x) ?? 0) * 100));
    series.push({ label: "What-if", stroke: "#1e6b34", width: 2, dash: [4, 3], value: (_u, v) => (v === null ? "–" : `${Math.round(v)}%`) });
  }
  return new UPlot(
    {
      width: Math.max(280, el.clientWidth),
      height: 240,
      series,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: "Applications", incrs: [1, 2, 5, 10, 20, 25, 50, 100] }, { label: "Chance (%)", values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
      plugins: [marker(diminishingAt)],
    },
    data,
    el,
  );
}

export function CurveChart({ curve, diminishingAt, compare }: Props) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || curve.length === 0) return;
    let plot: uPlot | null = null;
    let gone = false;
    const resize = () => plot?.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
    void loadUPlot().then((UPlot) => {
      if (gone) return;
      plot = drawCurve(UPlot, el, { curve, diminishingAt, compare });
      window.addEventListener("resize", resize);
    });
    return () => {
      gone = true;
      window.removeEventListener("resize", resize);
      plot?.destroy();
    };
  }, [curve, diminishingAt, compare]);


  const last = curve[curve.length - 1];
  return (
    <figure>
      <div class="chart" ref={box} role="img" aria-label="Chart: chance of at least one match against the number of applications" />
      <figcaption>
        {last && <>Applying to all {last.applications} programs: {percent(last.match_probability)} chance of at least one match. </>}
        {diminishingAt !== null && (
          <>
            Past about {diminishingAt} application{diminishingAt === 1 ? "" : "s"} ({percent(chanceAt(curve, diminishingAt))}) each further one adds
            little (dashed line).
          </>
        )}
      </figcaption>
      <details>
        <summary>The curve as a table</summary>
        <table>
          <thead><tr><th scope="col">Applications</th><th scope="col" class="num">Chance of a match</th></tr></thead>
          <tbody>{curve.map((p) => <tr key={p.applications}><td>{p.applications}</td><td class="num">{percent(p.match_probability)}</td></tr>)}</tbody>
        </table>
      </details>
    </figure>
  );
}
