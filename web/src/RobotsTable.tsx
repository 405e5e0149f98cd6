import type { RobotRow } from '../../src/hub/server/api-types.ts';
import { integer, shortId } from './format.ts';

export interface RobotsTableProps {
  robots: RobotRow[] | null;
  /** Robot whose episodes are shown, or null for all. */
  selected: string | null;
  onSelect(robotId: string | null): void;
}

export function RobotsTable({ robots, selected, onSelect }: RobotsTableProps) {
  return (
    <section className="card" aria-labelledby="robots-title">
      <div className="card-head">
        <h2 id="robots-title">Robots</h2>
        <span className="muted push">{robots ? `${robots.length} registered` : ''}</span>
      </div>
      <div className="table-wrap">
        <table data-testid="robots-table">
          <thead>
            <tr>
              <th>Robot</th>
              <th>Embodiment</th>
              <th>Vendor</th>
              <th>Field</th>
              <th className="num">Episodes</th>
            </tr>
          </thead>
          <tbody>
            {robots?.length === 0 ? (
              <tr>
                <td colSpan={5} className="empty">
                  No robots yet. They appear here when a field registers them.
                </td>
              </tr>
            ) : null}
            {robots?.map((r) => {
              const isSelected = r.id === selected;
              return (
                <tr
                  key={r.id}
                  className={isSelected ? 'selectable selected' : 'selectable'}
                  aria-selected={isSelected}
                  title={isSelected ? 'Show episodes of all robots' : `Show only episodes of ${r.name}`}
                  onClick={() => onSelect(isSelected ? null : r.id)}
                >
                  <td>
                    <div className="primary">{r.name}</div>
                    <div className="secondary mono">{r.id}</div>
                  </td>
                  <td>
                    <div>{r.embodiment}</div>
                    <div className="secondary mono" title={r.embodimentHash}>
                      {shortId(r.embodimentHash, 12)}
                    </div>
                  </td>
                  <td>{r.vendor}</td>
                  <td>{r.field}</td>
                  <td className="num">{integer(r.episodeCount)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
