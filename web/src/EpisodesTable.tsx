import type { EpisodesResponse } from '../../src/hub/server/api-types.ts';
import { integer, seconds, shortId, timestamp } from './format.ts';

export interface EpisodesTableProps {
  page: EpisodesResponse | null;
  robotNames: ReadonlyMap<string, string>;
  robotFilter: string | null;
  onClearFilter(): void;
  onPage(offset: number): void;
  /** Opens an episode's detail view. */
  onOpen(id: string): void;
}

export function EpisodesTable({
  page,
  robotNames,
  robotFilter,
  onClearFilter,
  onPage,
  onOpen,
}: EpisodesTableProps) {
  const first = page && page.total > 0 ? page.offset + 1 : 0;
  const last = page ? page.offset + page.episodes.length : 0;
  return (
    <section className="card" aria-labelledby="episodes-title">
      <div className="card-head">
        <h2 id="episodes-title">Episodes</h2>
        {robotFilter ? (
          <button type="button" className="chip" onClick={onClearFilter} title="Show all robots">
            robot: {robotNames.get(robotFilter) ?? robotFilter} <span aria-hidden="true">×</span>
          </button>
        ) : null}
        <span className="muted push">{page ? `${integer(page.total)} total` : ''}</span>
      </div>
      <div className="table-wrap">
        <table data-testid="episodes-table">
          <thead>
            <tr>
              <th>Episode</th>
              <th>Robot</th>
              <th>Task</th>
              <th>Result</th>
              <th className="num">Frames</th>
              <th className="num">Duration</th>
              <th>Recorded</th>
            </tr>
          </thead>
          <tbody>
            {page?.episodes.length === 0 ? (
              <tr>
                <td colSpan={7} className="empty">
                  No episodes yet. Start a run with <code>tg up</code>.
                </td>
              </tr>
            ) : null}
            {page?.episodes.map((e) => (
              <tr
                key={e.id}
                className="selectable"
                title="Show this episode's frames and quality checks"
                tabIndex={0}
                onClick={() => onOpen(e.id)}
                onKeyDown={(ev) => {
                  if (ev.key === 'Enter') onOpen(e.id);
                }}
              >
                <td className="mono" title={e.id}>
                  {shortId(e.id)}
                </td>
                <td>{robotNames.get(e.robotId) ?? e.robotId}</td>
                <td>
                  <div className="primary">{e.task}</div>
                  {e.instruction ? <div className="secondary">“{e.instruction}”</div> : null}
                </td>
                <td>
                  <span className={e.success ? 'badge badge-ok' : 'badge badge-fail'}>
                    {e.success ? 'Success' : 'Failure'}
                  </span>
                </td>
                <td className="num">{integer(e.length)}</td>
                <td className="num">{seconds(e.durationSec)}</td>
                <td className="nowrap">{timestamp(e.recordedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && page.total > page.limit ? (
        <div className="pager">
          <span className="muted">
            {integer(first)}–{integer(last)} of {integer(page.total)}
          </span>
          <button
            type="button"
            disabled={page.offset === 0}
            onClick={() => onPage(Math.max(0, page.offset - page.limit))}
          >
            Newer
          </button>
          <button
            type="button"
            disabled={last >= page.total}
            onClick={() => onPage(page.offset + page.limit)}
          >
            Older
          </button>
        </div>
      ) : null}
    </section>
  );
}
