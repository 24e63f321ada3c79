// The divergence-detection engine's public surface: import from 'common/divergence'.
// Pure TypeScript over pixel buffers; see docs/divergence.md for the rules.

export {
  BLINK_WINDOW_MS,
  CONFIRM_MS,
  DivergenceEngine,
  MAX_BLINK_STATES,
  SETTLE_MS,
  TILE_SIZE_PX,
  type Divergence,
  type DivergenceEvent,
  type DivergenceOptions,
  type DivergenceState,
  type DivergenceStats,
  type ReplicaSize,
} from './divergence-engine';
export { describeDivergence, describeDivergenceState } from './divergence-status';
export { MAX_REPLICAS } from './partition';
export { clipToFramebuffer, type PixelRect } from './pixel-rect';
export { swapRedAndBlue, type PixelOrder } from './pixel-order';
export { type Tolerance } from './tile-pixels';
