import type { RobotRow } from '../../src/hub/server/api-types.ts';
import { integer, shortId } from './format.ts';
import { TableCard } from './TableCard.tsx';

export interface RobotsTableProps {
  robots: RobotRow[] | null;
  /** Robot whose episodes are shown, or null for all. */
  selected: string | null;
  onSelect(robotId: string | null): void;
}

export function RobotsTable({ robots, selected, onSelect }: RobotsTableProps) {
  return (
    <TableCard
      id="robots-title"
      title="Robots"
      count={robots ? `${robots.length} registered` : ''}
      testId="robots-table"
      columns={[
        { label: 'Robot' },
        { label: 'Embodiment' },
        { label: 'Vendor' },
        { label: 'Field' },
        { label: 'Episodes', numeric: true },
      ]}
      empty={robots?.length === 0 ? 'No robots yet. They appear here when a field registers them.' : null}
    >
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
    </TableCard>
  );
}
