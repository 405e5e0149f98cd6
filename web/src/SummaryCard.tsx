import type { RunState, RunStatus } from '../../src/hub/server/api-types.ts';
import { integer, percent, timestamp } from './format.ts';

const STATE_LABEL: Record<RunState, string> = {
  idle: 'Idle',
  starting: 'Starting',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  stopped: 'Stopped',
};

export function StatePill({ state }: { state: RunState }) {
  return (
    <span className={`pill pill-${state}`} data-testid="run-state">
      <span className="pill-dot" />
      {STATE_LABEL[state]}
    </span>
  );
}

/** The live run: progress, success rate and robots, refreshed every second. */
export function SummaryCard({ status, robotCount }: { status: RunStatus | null; robotCount: number | null }) {
  if (!status) {
    return (
      <section className="card summary" aria-busy="true">
        <p className="muted">Waiting for the hub…</p>
      </section>
    );
  }
  const { episodesDone, episodesPlanned, successes } = status;
  const progress = episodesPlanned > 0 ? Math.min(1, episodesDone / episodesPlanned) : 0;
  const robots = status.robots ?? robotCount;
  return (
    <section className="card summary" aria-label="Run summary" data-testid="summary">
      <div className="summary-head">
        <h2>Current run</h2>
        <StatePill state={status.state} />
      </div>
      <div className="stats">
        <div className="stat stat-wide">
          <span className="stat-label">Episodes</span>
          <span className="stat-value" data-testid="episodes-progress">
            {integer(episodesDone)}
            <span className="stat-of"> / {integer(episodesPlanned)}</span>
          </span>
          <div
            className="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={episodesPlanned}
            aria-valuenow={episodesDone}
          >
            <div
              className={`progress-bar progress-${status.state}`}
              style={{ width: `${progress * 100}%` }}
            />
          </div>
          <span className="stat-note">
            {episodesPlanned > 0
              ? `${Math.round(progress * 100)}% done, ${integer(Math.max(0, episodesPlanned - episodesDone))} to go`
              : 'nothing planned'}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Success rate</span>
          <span className="stat-value" data-testid="success-rate">
            {percent(successes, episodesDone)}
          </span>
          <span className="stat-note">
            {integer(successes)} of {integer(episodesDone)} succeeded
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Robots</span>
          <span className="stat-value">{robots === null ? '—' : integer(robots)}</span>
          <span className="stat-note">
            {status.startedAt ? `started ${timestamp(status.startedAt)}` : 'in the catalog'}
          </span>
        </div>
      </div>
      {status.message ? <p className="summary-message">{status.message}</p> : null}
    </section>
  );
}
