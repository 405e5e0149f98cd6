import { useState } from 'react';
import { fetchTimeline, type TimelineBucket, type TimelineRow } from './api.ts';
import { ChartCard } from './ChartCard.tsx';
import { integer } from './format.ts';
import { linearScale, tickLabel } from './scale.ts';
import { usePolling } from './usePolling.ts';

const POLL_MS = 5000;
const H = 240;
const M = { left: 44, right: 44, top: 14, bottom: 34 };

const bucketLabel: Record<TimelineBucket, Intl.DateTimeFormat> = {
  hour: new Intl.DateTimeFormat(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }),
  day: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }),
};

/** Success rate and data yield per hour or day (lines, left axis) over the episodes recorded (bars, right). */
export function TimelineCard() {
  const [bucket, setBucket] = useState<TimelineBucket>('hour');
  const timeline = usePolling((signal) => fetchTimeline(bucket, signal), POLL_MS, [bucket]);
  return (
    <ChartCard
      id="timeline-title"
      title="Yield and success over time"
      choiceLabel="Bucket"
      choices={[
        { key: 'hour', label: 'Hourly' },
        { key: 'day', label: 'Daily' },
      ]}
      chosen={bucket}
      onChoose={setBucket}
      legend={[
        { label: 'Success rate', className: 'key-success' },
        { label: 'Data yield', className: 'key-yield' },
        { label: 'Episodes', className: 'key-volume' },
      ]}
      rows={timeline.data?.bucket === bucket ? timeline.data.rows : null}
      error={timeline.error}
      chart={(rows, width) => <TimelineSvg rows={rows} bucket={bucket} width={width} />}
    />
  );
}

function TimelineSvg({
  rows,
  bucket,
  width: W,
}: {
  rows: TimelineRow[];
  bucket: TimelineBucket;
  width: number;
}) {
  const n = rows.length;
  const slot = (W - M.left - M.right) / n;
  const cx = (i: number) => M.left + slot * (i + 0.5);
  const pct = linearScale(0, 1, H - M.bottom, M.top, 4);
  const maxEpisodes = Math.max(...rows.map((r) => r.episodes));
  const count = linearScale(0, maxEpisodes, H - M.bottom, M.top, 4);
  const barW = Math.max(2, Math.min(36, slot * 0.6));
  // About 110 px per time label.
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((W - M.left - M.right) / 110))));
  const line = (value: (r: TimelineRow) => number | null) => {
    // A bucket without a value (yield with nothing checked) breaks the line rather than bridging it.
    let d = '';
    let open = false;
    rows.forEach((r, i) => {
      const v = value(r);
      if (v === null) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${cx(i).toFixed(1)},${pct(v).toFixed(1)}`;
      open = true;
    });
    return d;
  };
  const points = (series: 'success' | 'yield', value: (r: TimelineRow) => number | null) => (
    <g data-series={series} className={`series-${series}`}>
      <path d={line(value)} className="line" />
      {rows.map((r, i) => {
        const v = value(r);
        return v === null ? null : (
          <circle key={r.bucketStart} cx={cx(i)} cy={pct(v)} r={series === 'yield' ? 5 : 3.5}>
            <title>{`${bucketLabel[bucket].format(new Date(r.bucketStart))}: ${(v * 100).toFixed(1)}%`}</title>
          </circle>
        );
      })}
    </g>
  );
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${W} ${H}`}
      height={H}
      role="img"
      aria-label={`Success rate and data yield per ${bucket}, ${n} ${bucket}s`}
      data-testid="timeline-chart"
    >
      {pct.ticks.map((t) => (
        <g key={t} className="grid">
          <line x1={M.left} x2={W - M.right} y1={pct(t)} y2={pct(t)} />
          <text x={M.left - 6} y={pct(t)} className="axis-label" textAnchor="end" dominantBaseline="middle">
            {Math.round(t * 100)}%
          </text>
        </g>
      ))}
      {count.ticks.map((t) => (
        <text
          key={t}
          x={W - M.right + 6}
          y={count(t)}
          className="axis-label axis-volume"
          dominantBaseline="middle"
        >
          {tickLabel(t)}
        </text>
      ))}
      <g data-series="episodes">
        {rows.map((r, i) => (
          <rect
            key={r.bucketStart}
            className="bar bar-volume"
            x={cx(i) - barW / 2}
            y={count(r.episodes)}
            width={barW}
            height={H - M.bottom - count(r.episodes)}
          >
            <title>{`${bucketLabel[bucket].format(new Date(r.bucketStart))}: ${integer(r.episodes)} episodes, ${integer(r.frames)} frames`}</title>
          </rect>
        ))}
      </g>
      {points('yield', (r) => r.yield)}
      {points('success', (r) => r.successRate)}
      {rows.map((r, i) =>
        i % labelEvery === 0 ? (
          <text
            key={r.bucketStart}
            x={cx(i)}
            y={H - M.bottom + 18}
            className="axis-label"
            textAnchor="middle"
          >
            {bucketLabel[bucket].format(new Date(r.bucketStart))}
          </text>
        ) : null,
      )}
      <line className="axis" x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} />
    </svg>
  );
}
