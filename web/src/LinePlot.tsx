import { linearScale, PALETTE, tickLabel } from './scale.ts';
import { useWidth } from './useWidth.ts';

const H = 200;
const M = { left: 48, right: 12, top: 10, bottom: 28 };

export interface LinePlotProps {
  /** x of each point (seconds). */
  x: readonly (number | null)[];
  /** One line per channel; a null value breaks its line. */
  channels: readonly { name: string; values: readonly (number | null)[] }[];
  label: string;
  testId?: string;
}

/** Channels over time as lines on shared axes, with a legend of channel names. */
export function LinePlot({ x, channels, label, testId }: LinePlotProps) {
  const [ref, W] = useWidth<HTMLElement>(800);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const c of channels) {
    for (const v of c.values) {
      if (v === null) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  const xs = x.filter((v): v is number => v !== null);
  const sx = linearScale(xs[0] ?? 0, xs[xs.length - 1] ?? 1, M.left, W - M.right, 6);
  const sy = linearScale(lo, hi, H - M.bottom, M.top, 4);
  const path = (values: readonly (number | null)[]) => {
    let d = '';
    let open = false;
    values.forEach((v, i) => {
      const t = x[i];
      if (v === null || t === null || t === undefined) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${sx(t).toFixed(1)},${sy(v).toFixed(2)}`;
      open = true;
    });
    return d;
  };
  return (
    <figure className="plot" ref={ref}>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${H}`}
        height={H}
        role="img"
        aria-label={label}
        data-testid={testId}
      >
        {sy.ticks.map((t) => (
          <g key={t} className="grid">
            <line x1={M.left} x2={W - M.right} y1={sy(t)} y2={sy(t)} />
            <text x={M.left - 6} y={sy(t)} className="axis-label" textAnchor="end" dominantBaseline="middle">
              {tickLabel(t)}
            </text>
          </g>
        ))}
        {sx.ticks.map((t) => (
          <text key={t} x={sx(t)} y={H - M.bottom + 16} className="axis-label" textAnchor="middle">
            {tickLabel(t)} s
          </text>
        ))}
        <line className="axis" x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} />
        {channels.map((c, i) => (
          <path
            key={c.name}
            d={path(c.values)}
            className="trace"
            stroke={PALETTE[i % PALETTE.length]}
            data-channel={c.name}
          >
            <title>{c.name}</title>
          </path>
        ))}
      </svg>
      <figcaption className="legend legend-wrap">
        {channels.map((c, i) => (
          <span key={c.name} className="legend-item">
            <span
              className="legend-key"
              style={{ background: PALETTE[i % PALETTE.length] }}
              aria-hidden="true"
            />
            {c.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
