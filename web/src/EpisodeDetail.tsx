import { useEffect, useState } from 'react';
import { type EpisodeFramesResponse, fetchEpisodeFrames } from './api.ts';
import { integer, seconds, shortId, timestamp } from './format.ts';
import { LinePlot } from './LinePlot.tsx';

const FEATURE_TITLE: Record<string, string> = {
  'observation.state': 'Joint state (observation.state)',
  action: 'Action (joint targets)',
};

type Loaded = { id: string; frames: EpisodeFramesResponse } | { id: string; error: string };

/** One episode in a dialog: its metadata, its quality checks and its state and action over time. */
export function EpisodeDetail({ id, onClose }: { id: string; onClose(): void }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);

  useEffect(() => {
    // An episode never changes (its id is its content hash): fetched once, not polled.
    const controller = new AbortController();
    fetchEpisodeFrames(id, controller.signal).then(
      (frames) => setLoaded({ id, frames }),
      (err: unknown) => {
        if (!controller.signal.aborted)
          setLoaded({ id, error: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => controller.abort();
  }, [id]);

  useEffect(() => {
    // The page behind the dialog does not scroll while it is open.
    const before = document.body.style.overflow;
    document.body.style.overflow = 'hidden';
    return () => {
      document.body.style.overflow = before;
    };
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const current = loaded?.id === id ? loaded : null;
  const data = current && 'frames' in current ? current.frames : null;
  const e = data?.episode;
  return (
    <div className="overlay">
      <button
        type="button"
        className="backdrop"
        aria-label="Close the episode"
        tabIndex={-1}
        onClick={onClose}
      />
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="episode-title"
        data-testid="episode-detail"
      >
        <div className="card-head">
          <h2 id="episode-title">
            Episode <span className="mono">{shortId(id, 12)}</span>
          </h2>
          {e ? (
            <span className={e.success ? 'badge badge-ok' : 'badge badge-fail'}>
              {e.success ? 'Success' : 'Failure'}
            </span>
          ) : null}
          <button type="button" className="push" onClick={onClose} aria-label="Close">
            Close
          </button>
        </div>
        {current === null ? (
          <div className="dialog-body">
            <p className="muted loading-block">Loading the episode’s frames…</p>
          </div>
        ) : 'error' in current ? (
          <div className="dialog-body">
            <div className="banner" role="alert" data-testid="episode-error">
              Cannot show episode <span className="mono">{shortId(id, 12)}</span>: {current.error}
            </div>
          </div>
        ) : (
          <div className="dialog-body">
            <EpisodeMeta frames={current.frames} />
            <Quality quality={current.frames.quality} />
            {current.frames.series.length === 0 ? (
              <p className="muted">This episode recorded no joint state or action.</p>
            ) : (
              current.frames.series.map((s) => (
                <section key={s.feature} className="plot-section">
                  <h3>{FEATURE_TITLE[s.feature] ?? s.feature}</h3>
                  <LinePlot
                    x={current.frames.timeSec}
                    channels={s.names.map((name, c) => ({ name, values: s.values[c] ?? [] }))}
                    label={`${s.feature} of episode ${id} over time`}
                    testId={`plot-${s.feature}`}
                  />
                </section>
              ))
            )}
            {current.frames.stride > 1 ? (
              <p className="chart-note">
                Every {current.frames.stride}th of {integer(current.frames.length)} frames plotted.
              </p>
            ) : null}
          </div>
        )}
      </div>
    </div>
  );
}

function EpisodeMeta({ frames }: { frames: EpisodeFramesResponse }) {
  const e = frames.episode;
  const items: [string, React.ReactNode][] = [
    ['Robot', e.robotId],
    ['Task', e.task],
    ['Instruction', e.instruction ? `“${e.instruction}”` : '—'],
    ['Source', e.source],
    ['Phase', e.phase],
    ['Seed', String(e.seed)],
    ['Frames', `${integer(e.length)} at ${frames.fps} fps`],
    ['Duration', seconds(e.durationSec)],
    ['Recorded', timestamp(e.recordedAt)],
    ['Dataset', `${e.datasetName} #${e.episodeIndex}`],
  ];
  return (
    <dl className="meta-grid" data-testid="episode-meta">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
      <div className="meta-wide">
        <dt>Id</dt>
        <dd className="mono">{e.id}</dd>
      </div>
    </dl>
  );
}

const VERDICT_LABEL = { pass: 'Pass', warn: 'Warn', fail: 'Fail' } as const;
const VERDICT_CLASS = { pass: 'badge-ok', warn: 'badge-warn', fail: 'badge-fail' } as const;

/** A check's measured value: three significant digits, tiny ones in exponent form. */
function measured(v: number | null): string {
  if (v === null) return '—';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

function threshold(t: EpisodeFramesResponse['quality']['checks'][number]['threshold']): string {
  if (t === null) return '—';
  return Array.isArray(t) ? `${t[0]} – ${t[1]}` : String(t);
}

function Quality({ quality }: { quality: EpisodeFramesResponse['quality'] }) {
  return (
    <section className="plot-section" data-testid="episode-quality">
      <h3>
        Quality{' '}
        <span className={`badge ${VERDICT_CLASS[quality.verdict]}`} data-testid="episode-verdict">
          {VERDICT_LABEL[quality.verdict]}
        </span>
      </h3>
      <div className="checks">
        {quality.checks.map((c) => (
          <div key={c.check} className={`check check-${c.verdict}`} title={c.detail ?? ''}>
            <span className={`dot dot-${c.verdict}`} aria-hidden="true" />
            <span className="sr-only">{c.verdict}</span>
            <span className="check-name">{c.check}</span>
            <span className="check-value mono">
              {measured(c.value)}
              <span className="secondary"> / {threshold(c.threshold)}</span>
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}
