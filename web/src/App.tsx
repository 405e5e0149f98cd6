import { useMemo, useState } from 'react';
import { fetchEpisodes, fetchRobots, fetchStatus } from './api.ts';
import { EpisodesTable } from './EpisodesTable.tsx';
import { clockTime } from './format.ts';
import { RobotsTable } from './RobotsTable.tsx';
import { SummaryCard } from './SummaryCard.tsx';
import { usePolling } from './usePolling.ts';

const POLL_MS = 1000;
const PAGE_SIZE = 25;

export function App() {
  const [robotFilter, setRobotFilter] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);

  const status = usePolling(fetchStatus, POLL_MS);
  const robots = usePolling(fetchRobots, POLL_MS);
  const episodes = usePolling(
    (signal) => fetchEpisodes({ limit: PAGE_SIZE, offset, robot: robotFilter }, signal),
    POLL_MS,
    [offset, robotFilter],
  );

  const robotNames = useMemo(
    () => new Map((robots.data?.robots ?? []).map((r) => [r.id, r.name] as const)),
    [robots.data],
  );
  const selectRobot = (id: string | null) => {
    setRobotFilter(id);
    setOffset(0);
  };
  const error = status.error ?? robots.error ?? episodes.error;

  return (
    <div className="page">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            TG
          </span>
          <div>
            <h1>Training Ground</h1>
            <span className="subtitle">Hub console</span>
          </div>
        </div>
        <span className="updated">
          {status.updatedAt ? `Updated ${clockTime(status.updatedAt)}` : 'Connecting…'}
        </span>
      </header>
      <main className="content">
        {error ? (
          <div className="banner" role="alert">
            Cannot reach the hub: {error}. Retrying every second.
          </div>
        ) : null}
        <SummaryCard status={status.data} robotCount={robots.data?.robots.length ?? null} />
        <RobotsTable robots={robots.data?.robots ?? null} selected={robotFilter} onSelect={selectRobot} />
        <EpisodesTable
          page={episodes.data}
          robotNames={robotNames}
          robotFilter={robotFilter}
          onClearFilter={() => selectRobot(null)}
          onPage={setOffset}
        />
      </main>
    </div>
  );
}
