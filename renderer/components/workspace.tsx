// The workspace of an open session: toolbar, the composite stage and the strip of live replica
// thumbnails. Runs in the renderer.

import { useRef, type ReactElement } from 'react';
import { useFullscreen } from '../hooks/use-fullscreen';
import { useAppStore } from '../store';
import { CompositeView } from './composite-view';
import { ReplicaThumbnail } from './replica-thumbnail';
import { Toolbar } from './toolbar';

/** Shown while a session is open. */
export function Workspace(): ReactElement {
  const stageRef = useRef<HTMLDivElement>(null);
  const toggleFullscreen = useFullscreen(stageRef);
  const replicaIds = useAppStore((state) => state.replicaIds);

  return (
    <main className="workspace">
      <Toolbar onToggleFullscreen={toggleFullscreen} />
      <CompositeView stageRef={stageRef} />
      <section className="strip" aria-label="Replicas">
        {replicaIds.map((id) => (
          <ReplicaThumbnail key={id} replicaId={id} />
        ))}
      </section>
    </main>
  );
}
