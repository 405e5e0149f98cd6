import type { DatasetDefinitionRow } from './api.ts';
import { integer, timestamp } from './format.ts';

/** A dataset's saved query as short "key: values" chips; an empty query takes every episode. */
function queryChips(q: DatasetDefinitionRow['query']): string[] {
  const out: string[] = [];
  for (const key of ['robot', 'vendor', 'task', 'phase', 'field'] as const) {
    const v = q[key];
    if (v?.length) out.push(`${key}: ${v.join(', ')}`);
  }
  if (q.success !== undefined) out.push(q.success ? 'successes only' : 'failures only');
  if (q.recordedFrom) out.push(`from ${timestamp(q.recordedFrom)}`);
  if (q.recordedTo) out.push(`until ${timestamp(q.recordedTo)}`);
  return out;
}

/** Datasets: saved queries over the catalog and how many immutable versions each has. */
export function DatasetsPanel({ datasets }: { datasets: DatasetDefinitionRow[] | null }) {
  return (
    <section className="card" aria-labelledby="datasets-title">
      <div className="card-head">
        <h2 id="datasets-title">Datasets</h2>
        <span className="muted push">{datasets ? `${datasets.length} saved` : ''}</span>
      </div>
      <div className="table-wrap">
        <table data-testid="datasets-table">
          <thead>
            <tr>
              <th>Dataset</th>
              <th>Query</th>
              <th className="num">Versions</th>
            </tr>
          </thead>
          <tbody>
            {datasets?.length === 0 ? (
              <tr>
                <td colSpan={3} className="empty">
                  No datasets yet. Save one with <code>tg datasets create &lt;name&gt;</code>, then{' '}
                  <code>tg datasets freeze &lt;name&gt;</code>.
                </td>
              </tr>
            ) : null}
            {datasets?.map((d) => {
              const chips = queryChips(d.query);
              return (
                <tr key={d.name}>
                  <td>
                    <div className="primary mono">{d.name}</div>
                    <div className="secondary">created {timestamp(d.createdAt)}</div>
                  </td>
                  <td>
                    {chips.length === 0 ? (
                      <span className="secondary">every episode</span>
                    ) : (
                      chips.map((c) => (
                        <span key={c} className="tag">
                          {c}
                        </span>
                      ))
                    )}
                  </td>
                  <td className="num">
                    {d.versions === 0 ? (
                      <span className="secondary">not frozen</span>
                    ) : (
                      <span className="badge badge-idle">v{integer(d.versions)}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
