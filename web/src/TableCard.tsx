import type { ReactNode } from 'react';

/** A column heading; numeric columns are right-aligned. */
export interface TableColumn {
  label: string;
  numeric?: boolean;
}

/**
 * The frame the console's table panels share: a titled card with a count, the column headings, a
 * one-row message while there is nothing to list (`empty`, when set), then the rows.
 */
export function TableCard(props: {
  id: string;
  title: string;
  /** Right of the title ('3 registered'); empty while loading. */
  count: string;
  testId: string;
  columns: readonly TableColumn[];
  empty: ReactNode | null;
  children: ReactNode;
}) {
  return (
    <section className="card" aria-labelledby={props.id}>
      <div className="card-head">
        <h2 id={props.id}>{props.title}</h2>
        <span className="muted push">{props.count}</span>
      </div>
      <div className="table-wrap">
        <table data-testid={props.testId}>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th key={c.label} className={c.numeric ? 'num' : undefined}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.empty === null ? null : (
              <tr>
                <td colSpan={props.columns.length} className="empty">
                  {props.empty}
                </td>
              </tr>
            )}
            {props.children}
          </tbody>
        </table>
      </div>
    </section>
  );
}
