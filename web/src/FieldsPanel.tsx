import type { FieldStatus } from './api.ts';
import { bytes, integer, timeAgo } from './format.ts';
import { TableCard } from './TableCard.tsx';

/** A field that has not beaten its heart for this long is shown as silent. */
const SILENT_AFTER_MS = 15_000;

const STATE_LABEL = { idle: 'Idle', drilling: 'Drilling', stopping: 'Stopping' } as const;

/** The training fields the hub has heard from: their robots, last heartbeat and spool backlog. */
export function FieldsPanel({ fields, now }: { fields: FieldStatus[] | null | undefined; now: number }) {
  return (
    <TableCard
      id="fields-title"
      title="Fields"
      count={fields ? `${fields.length} connected` : ''}
      testId="fields-table"
      columns={[
        { label: 'Field' },
        { label: 'State' },
        { label: 'Robots', numeric: true },
        { label: 'Spool', numeric: true },
      ]}
      empty={
        fields === null ? (
          <>
            This hub runs without a field network. Start one with <code>tg up --fields 2</code>.
          </>
        ) : fields?.length === 0 ? (
          <>
            No fields yet. They appear here when one registers (<code>tg up --fields 2</code>).
          </>
        ) : null
      }
    >
      {fields?.map((f) => {
        const beatAt = f.lastHeartbeatAt ? Date.parse(f.lastHeartbeatAt) : null;
        const silent = beatAt === null || now - beatAt > SILENT_AFTER_MS;
        const state = f.heartbeat?.state;
        return (
          <tr key={f.name}>
            <td className="nowrap-cell">
              <div className="primary">{f.name}</div>
              <div className="secondary">registered {timeAgo(Date.parse(f.registeredAt), now)}</div>
            </td>
            <td className="nowrap-cell">
              {silent ? (
                <span className="badge badge-warn">Silent</span>
              ) : (
                <span className={state === 'drilling' ? 'badge badge-info' : 'badge badge-idle'}>
                  {state ? STATE_LABEL[state] : 'Unknown'}
                </span>
              )}
              <div className="secondary">heartbeat {beatAt === null ? 'never' : timeAgo(beatAt, now)}</div>
            </td>
            <td className="num" title={f.robots.join(', ')}>
              {integer(f.robots.length)}
            </td>
            <td className="num nowrap-cell">
              {f.heartbeat ? (
                <>
                  <div>{integer(f.heartbeat.spoolEntries)} episodes</div>
                  <div className="secondary">{bytes(f.heartbeat.spoolBytes)}</div>
                </>
              ) : (
                '—'
              )}
            </td>
          </tr>
        );
      })}
    </TableCard>
  );
}
