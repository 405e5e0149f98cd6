import { useCallback, useEffect, useMemo, useState } from 'react';
import { fetchDatasets, fetchEpisodes, fetchFields, fetchRobots, fetchStatus } from './api.ts';
import { BreakdownCard } from './BreakdownChart.tsx';
import { DatasetsPanel } from './DatasetsPanel.tsx';
import { EpisodeDetail } from './EpisodeDetail.tsx';
import { EpisodesTable } from './EpisodesTable.tsx';
import { FieldsPanel } from './FieldsPanel.tsx';
import { clockTime } from './format.ts';
import { RobotsTable } from './RobotsTable.tsx';
import { SummaryCard } from './SummaryCard.tsx';
import { TimelineCard } from './TimelineChart.tsx';
import { usePolling } from './usePolling.ts';

const POLL_MS = 1000;
const SLOW_POLL_MS = 5000;
const PAGE_SIZE = 25;

/** The episode a path opens (/episodes/<id>), so a detail view can be linked to and reloaded. */
function episodeInPath(pathname: string): string | null {
  const m = /^\/episodes\/([^/]+)\/?$/.exec(pathname);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

export function App() {
  const [robotFilter, setRobotFilter] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const [openEpisode, setOpenEpisode] = useState(() => episodeInPath(window.location.pathname));

  useEffect(() => {
    const onPop = () => setOpenEpisode(episodeInPath(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const showEpisode = useCallback((id: string | null) => {
    const path = id ? `/episodes/${encodeURIComponent(id)}` : '/';
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
    setOpenEpisode(id);
  }, []);
  const closeEpisode = useCallback(() => showEpisode(null), [showEpisode]);

  const status = usePolling(fetchStatus, POLL_MS);
  const robots = usePolling(fetchRobots, POLL_MS);
  const episodes = usePolling(
    (signal) => fetchEpisodes({ limit: PAGE_SIZE, offset, robot: robotFilter }, signal),
    POLL_MS,
    [offset, robotFilter],
  );
  const fields = usePolling(fetchFields, 2 * POLL_MS);
  const datasets = usePolling(fetchDatasets, SLOW_POLL_MS);

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
        <div className="grid-2">
          <TimelineCard />
          <BreakdownCard />
        </div>
        <RobotsTable robots={robots.data?.robots ?? null} selected={robotFilter} onSelect={selectRobot} />
        <div className="grid-2">
          <FieldsPanel
            fields={fields.updatedAt ? fields.data : undefined}
            now={fields.updatedAt?.getTime() ?? 0}
          />
          <DatasetsPanel datasets={datasets.data?.datasets ?? null} />
        </div>
        <EpisodesTable
          page={episodes.data}
          robotNames={robotNames}
          robotFilter={robotFilter}
          onClearFilter={() => selectRobot(null)}
          onPage={setOffset}
          onOpen={showEpisode}
        />
      </main>
      {openEpisode ? <EpisodeDetail id={openEpisode} onClose={closeEpisode} /> : null}
    </div>
  );
}
