import type { ReactNode } from 'react';
import { useWidth } from './useWidth.ts';

export interface ChartChoice<K extends string> {
  key: K;
  label: string;
}

/**
 * The frame every analytics chart shares: a titled card with a segmented choice (bucket, dimension), a
 * legend, and the chart at the card's measured width, or a message of the same size while there is no
 * data, so the card does not jump when data arrives.
 */
export function ChartCard<K extends string, R>(props: {
  id: string;
  title: string;
  choiceLabel: string;
  choices: readonly ChartChoice<K>[];
  chosen: K;
  onChoose: (key: K) => void;
  legend: { label: string; className: string }[];
  rows: R[] | null;
  error: string | null | undefined;
  chart: (rows: R[], width: number) => ReactNode;
}) {
  const [ref, width] = useWidth<HTMLDivElement>(540);
  const { rows } = props;
  return (
    <section className="card" aria-labelledby={props.id}>
      <div className="card-head">
        <h2 id={props.id}>{props.title}</h2>
        <fieldset className="segmented push" aria-label={props.choiceLabel}>
          {props.choices.map((c) => (
            <button
              key={c.key}
              type="button"
              aria-pressed={c.key === props.chosen}
              onClick={() => props.onChoose(c.key)}
            >
              {c.label}
            </button>
          ))}
        </fieldset>
      </div>
      <div className="chart-body" ref={ref}>
        <Legend items={props.legend} />
        {rows === null ? (
          <ChartMessage>{props.error ? `Cannot load: ${props.error}` : 'Loading…'}</ChartMessage>
        ) : rows.length === 0 ? (
          <ChartMessage>
            No episodes yet. Start a run with <code>tg up</code>.
          </ChartMessage>
        ) : (
          props.chart(rows, width)
        )}
      </div>
    </section>
  );
}

export function Legend({ items }: { items: { label: string; className: string }[] }) {
  return (
    <div className="legend">
      {items.map((i) => (
        <span key={i.label} className="legend-item">
          <span className={`legend-key ${i.className}`} aria-hidden="true" />
          {i.label}
        </span>
      ))}
    </div>
  );
}

/** Stands in for a chart at the chart's own size. */
export function ChartMessage({ children }: { children: ReactNode }) {
  return (
    <div className="chart-message">
      <p>{children}</p>
    </div>
  );
}
