import type { DatasetDefinitionRow } from './api.ts';
import { integer, timestamp } from './format.ts';
import { TableCard } from './TableCard.tsx';

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
    <TableCard
      id="datasets-title"
      title="Datasets"
      count={datasets ? `${datasets.length} saved` : ''}
      testId="datasets-table"
      columns={[{ label: 'Dataset' }, { label: 'Query' }, { label: 'Versions', numeric: true }]}
      empty={
        datasets?.length === 0 ? (
          <>
            No datasets yet. Save one with <code>tg datasets create &lt;name&gt;</code>, then{' '}
            <code>tg datasets freeze &lt;name&gt;</code>.
          </>
        ) : null
      }
    >
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
    </TableCard>
  );
}
