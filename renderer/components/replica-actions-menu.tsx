// A replica's actions menu on its thumbnail (domain state, checkpoint, revert + replay, restart +
// replay, reset, reboot, destroy, start, include again) and the badge showing that the remediation
// manager works on it or has quarantined it. Destructive actions ask first. Runs in the renderer.

import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactElement } from 'react';
import type { ReplicaActionName } from '../../common/contract';
import { useAppController } from '../app-context';
import { useAppStore } from '../store';
import {
  REPLICA_ACTION_TEXT,
  actionQuestion,
  actionsMenuBlocked,
  remediationBadgeText,
  remediationRequestKey,
  replicaActionAvailability,
  visibleReplicaActions,
} from '../workspace/remediation-display';
import { ShieldIcon } from './remediation-panel';

/** Space kept between the menu and the window's edges. */
const EDGE_PX = 8;

function MoreIcon({ size = 16 }: { readonly size?: number }): ReactElement {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="currentColor" aria-hidden="true" focusable="false">
      <circle cx="12" cy="5" r="1.8" />
      <circle cx="12" cy="12" r="1.8" />
      <circle cx="12" cy="19" r="1.8" />
    </svg>
  );
}

/** Which replica the menu acts on. */
export interface ReplicaActionsMenuProps {
  readonly replicaId: string;
}

/** The "⋮" button and its menu. */
export function ReplicaActionsMenu({ replicaId }: ReplicaActionsMenuProps): ReactElement {
  const controller = useAppController();
  const label = useAppStore((state) => state.replicas[replicaId]?.label ?? replicaId);
  const hasView = useAppStore((state) => state.remediation !== null);
  const canAct = useAppStore((state) => state.remediation?.canAct ?? false);
  const managerState = useAppStore((state) => state.remediation?.replicas.find((replica) => replica.replicaId === replicaId)?.state);
  const requests = useAppStore((state) => state.remediationRequests);
  const [open, setOpen] = useState(false);
  const [asking, setAsking] = useState<ReplicaActionName | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  const blocked = actionsMenuBlocked(hasView ? { canAct } : null, managerState);
  const actions = visibleReplicaActions(managerState);

  const close = useCallback((returnFocus: boolean) => {
    setOpen(false);
    setAsking(null);
    if (returnFocus) buttonRef.current?.focus();
  }, []);

  // Placed in the window (the strip clips what overflows it): below the button, or above when there is no room.
  useLayoutEffect(() => {
    const menu = menuRef.current;
    const button = buttonRef.current;
    if (!open || menu === null || button === null) return;
    const anchor = button.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = menu;
    const below = anchor.bottom + 4;
    const top = below + height <= window.innerHeight - EDGE_PX ? below : Math.max(EDGE_PX, anchor.top - 4 - height);
    const left = Math.min(Math.max(EDGE_PX, anchor.right - width), window.innerWidth - width - EDGE_PX);
    menu.style.top = `${Math.round(top)}px`;
    menu.style.left = `${Math.round(left)}px`;
  }, [open, asking]);

  // Focus goes into the menu: the first item that can run, or "Cancel" when a destructive action asks first.
  useEffect(() => {
    const menu = menuRef.current;
    if (!open || menu === null) return;
    const target = asking !== null ? menu.querySelector<HTMLElement>('[data-testid="replica-action-cancel"]') : (menu.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])') ?? menu.querySelector<HTMLElement>('[role="menuitem"]'));
    target?.focus();
  }, [open, asking]);

  // A press outside, a scroll of the strip or a resize closes it (it would float away from its button).
  useEffect(() => {
    if (!open) return undefined;
    const onPointerDown = (event: PointerEvent): void => {
      const target = event.target;
      if (target instanceof Node && (menuRef.current?.contains(target) || buttonRef.current?.contains(target))) return;
      close(false);
    };
    const onMove = (event: Event): void => {
      if (event.target instanceof Node && menuRef.current?.contains(event.target)) return;
      close(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    window.addEventListener('scroll', onMove, true);
    window.addEventListener('resize', onMove);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      window.removeEventListener('scroll', onMove, true);
      window.removeEventListener('resize', onMove);
    };
  }, [open, close]);

  const run = (action: ReplicaActionName): void => {
    close(true);
    void controller.replicaAction(replicaId, action);
  };

  const choose = (action: ReplicaActionName): void => {
    if (!replicaActionAvailability(action, managerState, canAct).enabled) return;
    if (requests.includes(remediationRequestKey('action', replicaId, action))) return;
    if (REPLICA_ACTION_TEXT[action].asksFirst) setAsking(action);
    else run(action);
  };

  const onMenuKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>): void => {
    const menu = menuRef.current;
    if (menu === null) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      if (asking !== null) setAsking(null);
      else close(true);
      return;
    }
    const items = Array.from(menu.querySelectorAll<HTMLElement>(asking !== null ? 'button' : '[role="menuitem"]'));
    const index = items.indexOf(document.activeElement as HTMLElement);
    const move = (next: number): void => {
      event.preventDefault();
      items[(next + items.length) % items.length]?.focus();
    };
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowRight':
        move(index + 1);
        return;
      case 'ArrowUp':
      case 'ArrowLeft':
        move(index < 0 ? items.length - 1 : index - 1);
        return;
      case 'Home':
        move(0);
        return;
      case 'End':
        move(items.length - 1);
        return;
      case 'Tab':
        // In the question, Tab stays on its two buttons; in the menu it leaves (and closes) it.
        if (asking !== null) move(event.shiftKey ? index - 1 : index + 1);
        else close(false);
        return;
      default:
    }
  };

  return (
    <span className="replica-actions" title={blocked ?? undefined}>
      <button
        ref={buttonRef}
        type="button"
        className="icon-button replica-actions-button"
        data-testid={`replica-actions-${replicaId}`}
        aria-label={`Actions on ${label}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        title={blocked ?? `Actions on ${label}'s domain (L0)`}
        disabled={blocked !== null}
        onClick={() => (open ? close(false) : setOpen(true))}
      >
        <MoreIcon size={15} />
      </button>
      {open ? (
        <div
          ref={menuRef}
          id={menuId}
          className="actions-menu"
          role={asking === null ? 'menu' : 'alertdialog'}
          aria-label={asking === null ? `Actions on ${label}` : `${REPLICA_ACTION_TEXT[asking].label} ${label}?`}
          data-testid="replica-actions-menu"
          data-replica-id={replicaId}
          onKeyDown={onMenuKeyDown}
        >
          {asking === null ? (
            actions.map((action) => {
              const { enabled, reason } = replicaActionAvailability(action, managerState, canAct);
              const busy = requests.includes(remediationRequestKey('action', replicaId, action));
              const text = REPLICA_ACTION_TEXT[action];
              return (
                <button
                  key={action}
                  type="button"
                  role="menuitem"
                  tabIndex={-1}
                  className={`actions-menu-item${text.asksFirst ? ' actions-menu-danger' : ''}${action === 'destroy' || action === 'include' ? ' actions-menu-separated' : ''}`}
                  data-testid={`replica-action-${action}`}
                  aria-disabled={!enabled || busy}
                  title={reason ?? text.title}
                  onClick={() => choose(action)}
                >
                  <span className="actions-menu-label">{text.label}</span>
                  {busy ? <span className="spinner spinner-tiny" aria-hidden="true" /> : text.asksFirst ? <span className="actions-menu-hint">asks first</span> : null}
                </button>
              );
            })
          ) : (
            <div className="actions-menu-question">
              <p className="actions-menu-question-text">{actionQuestion(asking, label)}</p>
              <div className="actions-menu-question-buttons">
                <button type="button" className="button small" data-testid="replica-action-cancel" onClick={() => setAsking(null)}>
                  Cancel
                </button>
                <button type="button" className="button small danger-solid" data-testid="replica-action-confirm" data-action={asking} onClick={() => run(asking)}>
                  {REPLICA_ACTION_TEXT[asking].label}
                </button>
              </div>
            </div>
          )}
        </div>
      ) : null}
    </span>
  );
}

/** The thumbnail's badge while the manager remediates the replica or has quarantined it. */
export function RemediationBadge({ replicaId }: ReplicaActionsMenuProps): ReactElement | null {
  const replica = useAppStore((state) => state.remediation?.replicas.find((entry) => entry.replicaId === replicaId));
  const text = remediationBadgeText(replica);
  if (replica === undefined || text === null) return null;
  return (
    <span className={`remediation-badge remediation-badge-${replica.state}`} data-testid="remediation-badge" data-state={replica.state} title={replica.detail} role="status">
      {replica.state === 'remediating' ? <span className="spinner spinner-tiny" aria-hidden="true" /> : <ShieldIcon size={11} />}
      {text}
    </span>
  );
}
