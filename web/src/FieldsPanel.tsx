import type { FieldStatus } from './api.ts';
import { bytes, integer, timeAgo } from './format.ts';

/** A field that has not beaten its heart for this long is shown as silent. */
const SILENT_AFTER_MS = 15_000;

const STATE_LABEL = { idle: 'Idle', drilling: 'Drilling', stopping: 'Stopping' } as const;

/** The training fields the hub has heard from: their robots, last heartbeat and spool backlog. */
export function FieldsPanel({ fields, now }: { fields: FieldStatus[] | null | undefined; now: number }) {
  return (
    <section className="card" aria-labelledby="fields-title">
      <div className="card-head">
        <h2 id="fields-title">Fields</h2>
        <span className="muted push">{fields ? `${fields.length} connected` : ''}</span>
      </div>
      <div className="table-wrap">
        <table data-testid="fields-table">
          <thead>
            <tr>
              <th>Field</th>
              <th>State</th>
              <th className="num">Robots</th>
              <th className="num">Spool</th>
            </tr>
          </thead>
          <tbody>
            {fields === null ? (
              <tr>
                <td colSpan={4} className="empty">
                  This hub runs without a field network. Start one with <code>tg up --fields 2</code>.
                </td>
              </tr>
            ) : fields?.length === 0 ? (
              <tr>
                <td colSpan={4} className="empty">
                  No fields yet. They appear here when one registers (<code>tg up --fields 2</code>).
                </td>
              </tr>
            ) : null}
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
                    <div className="secondary">
                      heartbeat {beatAt === null ? 'never' : timeAgo(beatAt, now)}
                    </div>
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
          </tbody>
        </table>
      </div>
    </section>
  );
}
