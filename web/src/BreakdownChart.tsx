import { useState } from 'react';
import { type AnalyticsDimension, type AnalyticsRow, DIMENSIONS, fetchBreakdown } from './api.ts';
import { ChartCard } from './ChartCard.tsx';
import { integer } from './format.ts';
import { linearScale } from './scale.ts';
import { usePolling } from './usePolling.ts';

const POLL_MS = 5000;
/** Groups drawn; the rest (the smallest, rows come largest first) are counted under the chart. */
const MAX_ROWS = 12;
const ROW_H = 42;
const BAR_H = 12;
const M = { left: 130, right: 130, top: 8, bottom: 26 };

const DIMENSION_LABEL: Record<AnalyticsDimension, string> = {
  robot: 'Robot',
  vendor: 'Vendor',
  task: 'Task',
  phase: 'Phase',
  operator: 'Operator',
  field: 'Field',
};

/** Success rate and data yield per robot, vendor, task, phase, operator or field, as grouped bars. */
export function BreakdownCard() {
  const [by, setBy] = useState<AnalyticsDimension>('robot');
  const breakdown = usePolling((signal) => fetchBreakdown(by, signal), POLL_MS, [by]);
  return (
    <ChartCard
      id="breakdown-title"
      title="Yield and success by"
      choiceLabel="Break down by"
      choices={DIMENSIONS.map((d) => ({ key: d, label: DIMENSION_LABEL[d] }))}
      chosen={by}
      onChoose={setBy}
      legend={[
        { label: 'Success rate', className: 'key-success' },
        { label: 'Data yield', className: 'key-yield' },
      ]}
      rows={breakdown.data?.by === by ? breakdown.data.rows : null}
      error={breakdown.error}
      chart={(rows, width) => <BreakdownSvg rows={rows} by={by} width={width} />}
    />
  );
}

const pctText = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);

function BreakdownSvg({
  rows,
  by,
  width: W,
}: {
  rows: AnalyticsRow[];
  by: AnalyticsDimension;
  width: number;
}) {
  const shown = rows.slice(0, MAX_ROWS);
  const hidden = rows.length - shown.length;
  const h = M.top + shown.length * ROW_H + M.bottom;
  const x = linearScale(0, 1, M.left, W - M.right, 4);
  const barH = BAR_H;
  return (
    <>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${h}`}
        height={h}
        role="img"
        aria-label={`Success rate and data yield by ${by}`}
        data-testid="breakdown-chart"
        data-by={by}
      >
        {x.ticks.map((t) => (
          <g key={t} className="grid">
            <line x1={x(t)} x2={x(t)} y1={M.top} y2={h - M.bottom} />
            <text x={x(t)} y={h - M.bottom + 16} className="axis-label" textAnchor="middle">
              {Math.round(t * 100)}%
            </text>
          </g>
        ))}
        {shown.map((r, i) => {
          const y = M.top + i * ROW_H + (ROW_H - 2 * barH - 4) / 2;
          const label = r.key.length > 18 ? `${r.key.slice(0, 17)}…` : r.key;
          return (
            <g key={r.key} className="group" data-key={r.key}>
              <title>{`${r.key}: ${integer(r.episodes)} episodes, ${integer(r.successes)} succeeded; yield ${pctText(r.yield)} of ${integer(r.checkedFrames)} checked frames`}</title>
              <text
                x={M.left - 10}
                y={y + barH}
                className="row-label"
                textAnchor="end"
                dominantBaseline="middle"
              >
                {label}
              </text>
              <rect className="bar-track" x={x(0)} y={y} width={x(1) - x(0)} height={barH} rx={2} />
              <rect
                className="bar bar-success"
                x={x(0)}
                y={y}
                width={x(r.successRate ?? 0) - x(0)}
                height={barH}
                rx={2}
              />
              <rect
                className="bar-track"
                x={x(0)}
                y={y + barH + 4}
                width={x(1) - x(0)}
                height={barH}
                rx={2}
              />
              {r.yield === null ? null : (
                <rect
                  className="bar bar-yield"
                  x={x(0)}
                  y={y + barH + 4}
                  width={x(r.yield) - x(0)}
                  height={barH}
                  rx={2}
                />
              )}
              <text x={x(1) + 8} y={y + barH / 2} className="value-label" dominantBaseline="middle">
                {pctText(r.successRate)}
              </text>
              <text x={x(1) + 8} y={y + barH * 1.5 + 4} className="value-label" dominantBaseline="middle">
                {r.yield === null ? 'not checked' : pctText(r.yield)}
              </text>
              <text
                x={W - 4}
                y={y + barH + 2}
                className="axis-label"
                textAnchor="end"
                dominantBaseline="middle"
              >
                {integer(r.episodes)} ep
              </text>
            </g>
          );
        })}
      </svg>
      {hidden > 0 ? (
        <p className="chart-note">
          and {integer(hidden)} more {by === 'phase' ? 'phases' : `${by}s`} with fewer episodes
        </p>
      ) : null}
    </>
  );
}
