// The embedded ThingsBoard emulator's public surface (docs/emulator.md). Imports src/shared only.
export { createEmulator, type Emulator, type EmulatorAddress } from './emulator.js';
export type { EmulatorOptions, RateLimitOptions } from './options.js';
export type { Faults } from './faults.js';
export { NO_FAULTS, validateFaults } from './faults.js';
export type { EmulatorEvents, EmulatorEventMap, DisconnectReason, TelemetryEvent } from './events.js';
export type { EmulatorStats, DeviceDetail } from './stats.js';
export type { DeviceStats, Store } from './store.js';
export { parseRateLimit } from './rate-limit.js';
