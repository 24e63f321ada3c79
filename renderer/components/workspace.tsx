// The workspace of an open session: toolbar, the composite stage (with the divergence timeline, the
// remediation panel and, for the built-in demo lab, the demo panel beside it), the strip of live
// replica thumbnails, and the dialogs (diff view, timeline entry, remediation confirmation).
// Runs in the renderer.

import { useRef, type ReactElement } from 'react';
import { useFullscreen } from '../hooks/use-fullscreen';
import { useAppStore } from '../store';
import { CompositeView } from './composite-view';
import { DemoPanel } from './demo-panel';
import { DivergenceDiffView } from './divergence-diff-view';
import { DivergenceTimeline, TimelineEntryDetail } from './divergence-timeline';
import { RemediationPanel } from './remediation-panel';
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
        <CompositeView stageRef={stageRef} onToggleFullscreen={toggleFullscreen} />
        {/* Renders only while the user shows it (toolbar's Timeline button). */}
        <DivergenceTimeline />
        {/* Renders once the remediation manager has reported; folds when the stage would get too narrow. */}
        <RemediationPanel stageRef={stageRef} />
        {/* Renders only while the session is the built-in demo lab. */}
        <DemoPanel />
      </div>
      <section className="strip" aria-label="Replicas">
        {replicaIds.map((id) => (
          <ReplicaThumbnail key={id} replicaId={id} />
        ))}
      </section>
      <TimelineEntryDetail />
      <DivergenceDiffView />
    </main>
  );
}
