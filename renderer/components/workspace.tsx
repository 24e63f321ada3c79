// The workspace of an open session: toolbar, the composite stage (with the demo panel beside it for
// the built-in demo lab) and the strip of live replica thumbnails. Runs in the renderer.

import { useRef, type ReactElement } from 'react';
import { useFullscreen } from '../hooks/use-fullscreen';
import { useAppStore } from '../store';
import { CompositeView } from './composite-view';
import { DemoPanel } from './demo-panel';
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
      <div className="workspace-body">
        <CompositeView stageRef={stageRef} />
        {/* Renders only while the session is the built-in demo lab. */}
        <DemoPanel />
      </div>
      <section className="strip" aria-label="Replicas">
        {replicaIds.map((id) => (
          <ReplicaThumbnail key={id} replicaId={id} />
        ))}
      </section>
    </main>
  );
}
