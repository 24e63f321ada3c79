// Small inline SVG icons and the RetroVisor mark (no image files, nothing for the CSP to allow).
// Runs in the renderer.

import { useId, type ReactElement } from 'react';

interface IconProps {
  readonly size?: number;
  readonly className?: string;
}

function Svg({ size = 16, className, children }: IconProps & { readonly children: ReactElement | ReactElement[] }): ReactElement {
  return (
    <svg
      className={className}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** The RetroVisor mark: a rear-view mirror holding stacked screens. */
export function BrandMark({ size = 28, className }: IconProps): ReactElement {
  // One gradient per instance: SVG ids are document-wide.
  const gradientId = `${useId()}-mark`;
  return (
    <svg className={className} width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id={gradientId} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#7aa7ff" />
          <stop offset="1" stopColor="#4f6bff" />
        </linearGradient>
      </defs>
      <rect x="2" y="7" width="28" height="16" rx="8" fill={`url(#${gradientId})`} />
      <rect x="7" y="11" width="8" height="8" rx="1.5" fill="#0e1320" opacity="0.9" />
      <rect x="17" y="11" width="8" height="8" rx="1.5" fill="#0e1320" opacity="0.55" />
      <rect x="14" y="23" width="4" height="5" rx="1" fill="#4f6bff" />
    </svg>
  );
}

/** A document (open a profile). */
export function FileIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
      <path d="M14 3v5h5" />
    </Svg>
  );
}

/** A lightning bolt (quick connect). */
export function BoltIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M13 2 4 14h7l-1 8 9-12h-7z" />
    </Svg>
  );
}

/** Four corners pointing in (fit to window). */
export function FitIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />
    </Svg>
  );
}

/** Four corners pointing out (enter full screen). */
export function FullscreenIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M8 3H3v5M16 3h5v5M8 21H3v-5M16 21h5v-5" />
    </Svg>
  );
}

/** Four corners folded in (leave full screen). */
export function ExitFullscreenIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M3 8h5V3M21 8h-5V3M3 16h5v5M21 16h-5v5" />
    </Svg>
  );
}

/** An arrow into a tray (download, export). */
export function DownloadIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M12 4v11M7 10l5 5 5-5M5 20h14" />
    </Svg>
  );
}

/** A cross (close, dismiss). */
export function CloseIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M6 6l12 12M18 6 6 18" />
    </Svg>
  );
}

/** A star (the reference replica). */
export function StarIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="m12 3 2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z" />
    </Svg>
  );
}

/** A circular arrow (retry now). */
export function RetryIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M20 11a8 8 0 1 0-2.3 5.7" />
      <path d="M20 4v7h-7" />
    </Svg>
  );
}

/** A key (passwords). */
export function KeyIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <circle cx="8" cy="15" r="4" />
      <path d="m11 12 9-9M16 7l3 3M14 9l2 2" />
    </Svg>
  );
}

/** A warning triangle (problems). */
export function AlertIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M12 3 2 20h20z" />
      <path d="M12 10v4M12 17.5v.01" />
    </Svg>
  );
}

/** A broken link (disconnected, lost back end). */
export function LinkOffIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M9 15 15 9" />
      <path d="M10.5 6.5 12 5a4.2 4.2 0 0 1 6 6l-1.5 1.5M13.5 17.5 12 19a4.2 4.2 0 0 1-6-6l1.5-1.5" />
      <path d="M3 3l18 18" />
    </Svg>
  );
}

/** A padlock (reached through an SSH tunnel). */
export function TunnelIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <rect x="4" y="10" width="16" height="10" rx="2" />
      <path d="M8 10V7a4 4 0 0 1 8 0v3" />
    </Svg>
  );
}

/** A flask (the built-in demo lab). */
export function FlaskIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M9 3h6M10 3v6L4.5 18.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3" />
      <path d="M7.5 15h9" />
    </Svg>
  );
}

/** A chevron pointing right (expand, collapse sideways). */
export function ChevronRightIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="m9 5 7 7-7 7" />
    </Svg>
  );
}

/** A chevron pointing left. */
export function ChevronLeftIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="m15 5-7 7 7 7" />
    </Svg>
  );
}

/** A power symbol (simulated L0 power actions). */
export function PowerIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M12 3v8" />
      <path d="M6.3 7.3a8 8 0 1 0 11.4 0" />
    </Svg>
  );
}

/** A camera (take a snapshot). */
export function CameraIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z" />
      <circle cx="12" cy="13.5" r="3.5" />
    </Svg>
  );
}

/** An arrow turning back (revert to a snapshot). */
export function UndoIcon(props: IconProps): ReactElement {
  return (
    <Svg {...props}>
      <path d="M9 14 4 9l5-5" />
      <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
    </Svg>
  );
}

/** A bell (notifications on), crossed out when `off`. */
export function BellIcon({ size = 16, className, off = false }: IconProps & { readonly off?: boolean }): ReactElement {
  return (
    <Svg size={size} {...(className === undefined ? {} : { className })}>
      <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z" />
      <path d="M10 20.5a2 2 0 0 0 4 0" />
      {off ? <path d="M4 4l16 16" /> : <g />}
    </Svg>
  );
}
