// The demo panel, beside the composite while the session is the built-in demo lab: per replica, its
// domain state and lasting faults, fault injection (lag, lost keys, typed text, banner, freeze,
// crash) and the simulated L0's power and snapshot actions. Collapsible. Runs in the renderer.

import { useState, type FormEvent, type ReactElement, type ReactNode } from 'react';
import type { DemoL0Action, DemoReplicaStatus } from '../../common/contract';
import type { DomainState } from '../../common/l0';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import { CameraIcon, ChevronLeftIcon, ChevronRightIcon, CloseIcon, FlaskIcon, PowerIcon, RetryIcon, UndoIcon } from './icons';

const DOMAIN_TONE: Readonly<Record<DomainState, 'ok' | 'warn' | 'bad' | 'off'>> = {
  running: 'ok',
  'shut off': 'off',
  paused: 'warn',
  crashed: 'bad',
  unknown: 'off',
};

// Which simulated L0 actions make sense in which domain state (the back end checks too, with virsh's rules).
const L0_ALLOWED: Readonly<Record<DemoL0Action, readonly DomainState[]>> = {
  reset: ['running', 'crashed'],
  destroy: ['running', 'crashed'],
  start: ['shut off', 'crashed'],
  'snapshot-create': ['running', 'shut off'],
  'snapshot-revert': ['running', 'shut off', 'crashed'],
};

/** Beyond this many replicas the list goes two to a row, and "running" is left to the dot. */
const COMPACT_LIST_ABOVE = 4;

/** A lasting fault's chip text: "lag=0-300" → "lag 0-300 ms". */
function faultChip(fault: string): string {
  const [kind = fault, value] = fault.split('=');
  if (kind === 'lag') return `lag ${value ?? ''} ms`;
  if (kind === 'drop-key') return `drop every ${value ?? ''}`;
  return kind;
}

/** The demo lab's control panel; renders nothing when the session is not the demo lab. */
export function DemoPanel(): ReactElement | null {
  const demo = useAppStore((state) => state.demo);
  const open = useAppStore((state) => state.demoPanelOpen);
  const setOpen = useAppStore((state) => state.setDemoPanelOpen);
  const message = useAppStore((state) => state.demoMessage);
  const [chosenId, setChosenId] = useState<string | null>(null);

  if (demo === null) return null;
  if (!open) {
    return (
      <aside className="demo-panel demo-panel-collapsed" data-testid="demo-panel" data-collapsed="true" aria-label="Demo lab">
        <button type="button" className="demo-rail" data-testid="demo-panel-toggle" aria-expanded="false" title="Show the demo lab panel" onClick={() => setOpen(true)}>
          <ChevronLeftIcon size={15} />
          <FlaskIcon size={16} />
          <span className="demo-rail-text">Demo lab</span>
        </button>
      </aside>
    );
  }

  const selected = demo.replicas.find((replica) => replica.id === chosenId) ?? demo.replicas[0];
  return (
    <aside className="demo-panel" data-testid="demo-panel" data-collapsed="false" aria-label="Demo lab">
      <header className="demo-panel-header">
        <FlaskIcon size={17} className="demo-panel-icon" />
        <div className="demo-panel-titles">
          <h2 className="demo-panel-title">Demo lab</h2>
          <p className="demo-panel-subtitle">Faults and the simulated L0</p>
        </div>
        <button type="button" className="icon-button" data-testid="demo-panel-toggle" aria-expanded="true" title="Hide the panel" onClick={() => setOpen(false)}>
          <ChevronRightIcon size={15} />
        </button>
      </header>

      <div className={`demo-replica-list${demo.replicas.length > COMPACT_LIST_ABOVE ? ' demo-replica-list-compact' : ''}`} role="tablist" aria-label="Demo replicas">
        {demo.replicas.map((replica) => (
          <ReplicaTab key={replica.id} replica={replica} selected={replica.id === selected?.id} onSelect={() => setChosenId(replica.id)} />
        ))}
      </div>

      {selected !== undefined ? <ReplicaControls key={selected.id} replica={selected} /> : null}

      <footer className="demo-panel-footer" data-testid="demo-message" aria-live="polite">
        {message ?? 'Faults act on one replica only: watch its thumbnail.'}
      </footer>
    </aside>
  );
}

function ReplicaTab({ replica, selected, onSelect }: { replica: DemoReplicaStatus; selected: boolean; onSelect: () => void }): ReactElement {
  return (
    <button
      type="button"
      role="tab"
      className="demo-replica-tab"
      data-testid="demo-replica-tab"
      data-demo-replica-id={replica.id}
      data-domain-state={replica.domainState}
      data-faults={replica.faults.join(' ')}
      aria-selected={selected}
      title={`${replica.label}: ${replica.domainState}`}
      onClick={onSelect}
    >
      <span className={`state-dot tone-${DOMAIN_TONE[replica.domainState]}`} aria-hidden="true" />
      <span className="demo-replica-name">{replica.label}</span>
      <span className={`demo-domain-state tone-text-${DOMAIN_TONE[replica.domainState]}${replica.domainState === 'running' ? ' demo-domain-running' : ''}`}>
        {replica.domainState}
      </span>
      {replica.faults.length > 0 ? (
        <span className="demo-chips">
          {replica.faults.map((fault) => (
            <span key={fault} className="demo-chip">
              {faultChip(fault)}
            </span>
          ))}
        </span>
      ) : null}
    </button>
  );
}

/** One labelled "value + button" row that submits on Enter. */
function FaultForm(props: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly action: string;
  readonly unit?: string;
  readonly placeholder?: string;
  readonly inputMode?: 'numeric' | 'text';
  readonly disabled: boolean;
  readonly busy: boolean;
  readonly onSubmit: () => void;
}): ReactElement {
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (!props.disabled && props.value.trim() !== '') props.onSubmit();
  };
  return (
    <form className="demo-form" onSubmit={submit}>
      <label className="demo-form-label" htmlFor={`demo-${props.id}-input`}>
        {props.label}
      </label>
      <span className="demo-form-field">
        <input
          id={`demo-${props.id}-input`}
          className="input demo-input"
          data-testid={`demo-${props.id}-input`}
          value={props.value}
          placeholder={props.placeholder}
          inputMode={props.inputMode ?? 'text'}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => props.onChange(event.target.value)}
        />
        {props.unit !== undefined ? <span className="demo-form-unit">{props.unit}</span> : null}
      </span>
      <button type="submit" className="button small" data-testid={`demo-${props.id}-apply`} disabled={props.disabled || props.value.trim() === ''}>
        {props.busy ? <span className="spinner spinner-tiny" aria-hidden="true" /> : null}
        {props.action}
      </button>
    </form>
  );
}

function ActionButton(props: {
  readonly testId: string;
  readonly title: string;
  readonly disabled: boolean;
  readonly busy: boolean;
  readonly danger?: boolean;
  readonly onClick: () => void;
  readonly children: ReactNode;
}): ReactElement {
  return (
    <button
      type="button"
      className={`button small demo-action${props.danger ? ' demo-danger' : ''}`}
      data-testid={props.testId}
      title={props.title}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.busy ? <span className="spinner spinner-tiny" aria-hidden="true" /> : null}
      {props.children}
    </button>
  );
}

function ReplicaControls({ replica }: { replica: DemoReplicaStatus }): ReactElement {
  const demo = useAppController().demo;
  const pending = useAppStore((state) => state.demoPending);
  const [lag, setLag] = useState('200');
  const [dropEvery, setDropEvery] = useState('5');
  const [injected, setInjected] = useState('hello from the L1');
  const [banner, setBanner] = useState('HACKED');

  const id = replica.id;
  const running = replica.domainState === 'running';
  const idle = pending === null;
  const busy = (action: string): boolean => pending?.replicaId === id && pending.action === action;
  const fault = (spec: string): void => void demo.setFault(id, spec);
  const l0 = (action: DemoL0Action): void => void demo.l0Action(id, action);
  const l0Disabled = (action: DemoL0Action): boolean =>
    !idle || !L0_ALLOWED[action].includes(replica.domainState) || (action === 'snapshot-revert' && replica.snapshots.length === 0);
  const frozen = replica.faults.includes('freeze');

  return (
    <div className="demo-controls" role="tabpanel" data-testid="demo-controls" data-demo-replica-id={id} aria-label={`${replica.label} controls`}>
      <div className="demo-controls-heading">
        <h3 className="demo-controls-title">{replica.label}</h3>
        <span className="demo-endpoint" title="Its VNC endpoint">
          {replica.endpoint}
        </span>
      </div>

      <h4 className="demo-section-title">Faults</h4>
      <FaultForm
        id="lag"
        label="Lag"
        value={lag}
        onChange={setLag}
        unit="ms"
        placeholder="200 or 0-300"
        inputMode="numeric"
        action="Apply"
        disabled={!idle}
        busy={busy('lag')}
        onSubmit={() => fault(`lag=${lag.trim()}`)}
      />
      <FaultForm
        id="drop"
        label="Drop every"
        value={dropEvery}
        onChange={setDropEvery}
        unit="th key"
        placeholder="5"
        inputMode="numeric"
        action="Apply"
        disabled={!idle}
        busy={busy('drop-key')}
        onSubmit={() => fault(`drop-key=${dropEvery.trim()}`)}
      />
      <FaultForm
        id="inject"
        label="Inject"
        value={injected}
        onChange={setInjected}
        placeholder="text (\n presses Return)"
        action="Type"
        disabled={!idle || !running}
        busy={busy('inject')}
        onSubmit={() => fault(`inject=${injected}`)}
      />
      <FaultForm
        id="banner"
        label="Banner"
        value={banner}
        onChange={setBanner}
        placeholder="HACKED"
        action="Paint"
        disabled={!idle || !running}
        busy={busy('banner')}
        onSubmit={() => fault(`banner=${banner}`)}
      />
      <div className="demo-button-row">
        <ActionButton testId="demo-freeze" title="Send no screen updates until the faults are cleared" disabled={!idle || frozen} busy={busy('freeze')} onClick={() => fault('freeze')}>
          Freeze
        </ActionButton>
        <ActionButton testId="demo-crash" title="Kill its VNC server: connections cut, port refused until Start or Reset" disabled={!idle || !running} busy={busy('crash')} danger onClick={() => fault('crash')}>
          Crash
        </ActionButton>
        <ActionButton testId="demo-clear" title="Remove lag, dropped keys and freeze (a banner stays until Reset or Revert)" disabled={!idle || replica.faults.length === 0} busy={busy('clear')} onClick={() => void demo.clearFaults(id)}>
          <CloseIcon size={12} /> Clear faults
        </ActionButton>
      </div>

      <h4 className="demo-section-title">
        Simulated L0 <span className="demo-section-note">domain {id}</span>
      </h4>
      <div className="demo-button-row">
        <ActionButton testId="demo-l0-reset" title="Press the reset button: the guest reboots, viewers stay connected" disabled={l0Disabled('reset')} busy={busy('reset')} onClick={() => l0('reset')}>
          <RetryIcon size={12} /> Reset
        </ActionButton>
        <ActionButton testId="demo-l0-destroy" title="Pull the plug: the domain is shut off" disabled={l0Disabled('destroy')} busy={busy('destroy')} danger onClick={() => l0('destroy')}>
          <PowerIcon size={12} /> Destroy
        </ActionButton>
        <ActionButton testId="demo-l0-start" title="Boot the domain" disabled={l0Disabled('start')} busy={busy('start')} onClick={() => l0('start')}>
          <PowerIcon size={12} /> Start
        </ActionButton>
      </div>
      <div className="demo-button-row">
        <ActionButton testId="demo-l0-snapshot-create" title="Capture the domain's state" disabled={l0Disabled('snapshot-create')} busy={busy('snapshot-create')} onClick={() => l0('snapshot-create')}>
          <CameraIcon size={12} /> Snapshot
        </ActionButton>
        <ActionButton
          testId="demo-l0-snapshot-revert"
          title={replica.snapshots.length === 0 ? 'Take a snapshot first' : `Restore ${replica.snapshots.at(-1) ?? ''}`}
          disabled={l0Disabled('snapshot-revert')}
          busy={busy('snapshot-revert')}
          onClick={() => l0('snapshot-revert')}
        >
          <UndoIcon size={12} /> Revert
        </ActionButton>
        <span className="demo-snapshots" data-testid="demo-snapshots">
          {replica.snapshots.length === 0 ? 'no snapshot' : `${replica.snapshots.length} snapshot${replica.snapshots.length === 1 ? '' : 's'}`}
        </span>
      </div>
    </div>
  );
}
