// The start screen's first offer: open the built-in demo lab in one click (replicas of a demo VM
// served by the back end itself, with fault injection and a simulated L0). Runs in the renderer.

import { useState, type ReactElement } from 'react';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { FlaskIcon } from './icons';

/** Replica counts offered (the lab runs 1 to 8; three is the paper's set-up), and how the card says them. */
const REPLICA_CHOICES = [1, 2, 3, 4, 5, 6, 7, 8] as const;
const COUNT_WORDS = ['One replica', 'Two replicas', 'Three replicas', 'Four replicas', 'Five replicas', 'Six replicas', 'Seven replicas', 'Eight replicas'];
const DEFAULT_REPLICAS = 3;

/** "Open the demo lab": the big primary action of the start screen. */
export function DemoLabCard(): ReactElement {
  const controller = useAppController();
  const opening = useAppStore((state) => state.opening);
  const [replicas, setReplicas] = useState<number>(DEFAULT_REPLICAS);
  const [starting, setStarting] = useState(false);

  const open = (): void => {
    setStarting(true);
    void controller.openDemoLab(replicas).finally(() => setStarting(false));
  };

  return (
    <section className="card demo-card" aria-labelledby="demo-lab-title">
      <div className="demo-card-icon" aria-hidden="true">
        <FlaskIcon size={26} />
      </div>
      <div className="demo-card-body">
        <h2 id="demo-lab-title" className="card-title">
          Try it on the built-in demo lab
        </h2>
        <p className="card-text">
          {COUNT_WORDS[replicas - 1] ?? `${replicas} replicas`} of a small demo VM, served by RetroVisor itself: nothing to install.
          Type and draw on them, inject faults (lag, lost keys, a stray banner, a crash) and drive their simulated L0.
        </p>
      </div>
      <div className="demo-card-actions">
        <button type="button" className="button primary large" data-testid="open-demo-lab" disabled={opening} aria-busy={starting} onClick={open}>
          {starting ? <span className="spinner spinner-small spinner-on-accent" aria-hidden="true" /> : <FlaskIcon size={16} />}
          {starting ? 'Starting the demo lab…' : 'Open the demo lab'}
        </button>
        <label className="demo-card-count">
          <span>Replicas</span>
          <select
            className="input select-small"
            data-testid="demo-replica-count"
            value={replicas}
            disabled={opening}
            onChange={(event) => setReplicas(Number(event.target.value))}
          >
            {REPLICA_CHOICES.map((count) => (
              <option key={count} value={count}>
                {count}
              </option>
            ))}
          </select>
        </label>
      </div>
    </section>
  );
}
