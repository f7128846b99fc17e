// The WebSocket telemetry API's inbound messages (docs/thingsboard-behaviour.md#websocket-telemetry-api): the `authCmd`, the
// current `cmds` list with a `type` per command, and the legacy `tsSubCmds`/`attrSubCmds` form.

export type SubKind = 'TIMESERIES' | 'ATTRIBUTES';

export interface SubscribeCmd {
  kind: SubKind;
  cmdId: number;
  entityType: string;
  entityId: string;
  /** Requested keys; undefined = all keys. */
  keys: string[] | undefined;
  scope: string | undefined;
  /** TIMESERIES: a history window first, ms (0 = latest values only). */
  timeWindow: number;
  startTs: number | undefined;
  limit: number;
}

export interface UnsubscribeCmd {
  cmdId: number;
}

/** A command the server answers with an error envelope instead of a subscription. */
export interface RejectedCmd {
  cmdId: number;
  errorCode: WsErrorCode;
  errorMsg: string;
}

export interface ParsedMessage {
  authToken: string | undefined;
  hasAuthCmd: boolean;
  subscribe: SubscribeCmd[];
  unsubscribe: UnsubscribeCmd[];
  rejected: RejectedCmd[];
}

/** `SubscriptionErrorCode`: 1 INTERNAL_ERROR, 2 BAD_REQUEST, 3 UNAUTHORIZED. */
export type WsErrorCode = 1 | 2 | 3;

type Raw = Record<string, unknown>;

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function toSub(kind: SubKind, c: Raw): SubscribeCmd | RejectedCmd {
  const cmdId = Number(c.cmdId ?? 0);
  if (!Number.isInteger(cmdId) || cmdId < 0) return { cmdId, errorCode: 2, errorMsg: 'Cmd id is negative value!' };
  if (typeof c.entityId !== 'string' || c.entityId === '') return { cmdId, errorCode: 2, errorMsg: 'Device id is empty!' };
  const keys =
    typeof c.keys === 'string' && c.keys.trim() !== ''
      ? c.keys
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k)
      : undefined;
  return {
    kind,
    cmdId,
    entityType: typeof c.entityType === 'string' ? c.entityType : 'DEVICE',
    entityId: c.entityId,
    keys,
    scope: typeof c.scope === 'string' ? c.scope : undefined,
    timeWindow: Number(c.timeWindow) > 0 ? Number(c.timeWindow) : 0,
    startTs: Number(c.startTs) > 0 ? Number(c.startTs) : undefined,
    limit: Number(c.limit) > 0 ? Number(c.limit) : 100,
  };
}

function add(out: ParsedMessage, kind: SubKind, c: unknown, unsubscribe: boolean): void {
  if (!isObj(c)) {
    out.rejected.push({ cmdId: 0, errorCode: 2, errorMsg: 'Failed to parse the payload' });
    return;
  }
  if (unsubscribe || c.unsubscribe === true) {
    out.unsubscribe.push({ cmdId: Number(c.cmdId ?? 0) });
    return;
  }
  const r = toSub(kind, c);
  if ('errorCode' in r) out.rejected.push(r);
  else out.subscribe.push(r);
}

/**
 * Parses one text frame; `null` when it is not a JSON object at all. TbWebSocketHandler.processMsg reads each
 * endpoint with its own wrapper and ignores unknown fields: `/api/ws` (`general`) takes WsCommandsWrapper
 * (`authCmd`, `cmds`), the legacy endpoint (`legacy`) TelemetryCmdsWrapper (`tsSubCmds`, `attrSubCmds`,
 * `historyCmds`; its toCommonCmdsWrapper has no `authCmd`, so a legacy session authenticates by `?token=` only).
 */
export function parseWsMessage(text: string, form: 'general' | 'legacy' = 'general'): ParsedMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(json)) return null;
  const auth = form === 'general' ? json.authCmd : undefined;
  const out: ParsedMessage = {
    hasAuthCmd: isObj(auth),
    authToken: isObj(auth) && typeof auth.token === 'string' ? auth.token : undefined,
    subscribe: [],
    unsubscribe: [],
    rejected: [],
  };
  if (form === 'legacy') {
    addLegacy(out, json);
    return out;
  }
  if (Array.isArray(json.cmds)) {
    for (const c of json.cmds) {
      const type = isObj(c) ? String(c.type ?? '') : '';
      const m = /^(TIMESERIES|ATTRIBUTES)(_UNSUBSCRIBE)?$/.exec(type);
      if (m) add(out, m[1] as SubKind, c, m[2] !== undefined);
      else
        out.rejected.push({
          cmdId: isObj(c) ? Number(c.cmdId ?? 0) : 0,
          errorCode: 2,
          errorMsg: `Command type ${type || '(none)'} is not supported by the emulator (TIMESERIES, ATTRIBUTES)`,
        });
    }
  }
  return out;
}

function addLegacy(out: ParsedMessage, json: Raw): void {
  for (const c of Array.isArray(json.tsSubCmds) ? json.tsSubCmds : []) add(out, 'TIMESERIES', c, false);
  for (const c of Array.isArray(json.attrSubCmds) ? json.attrSubCmds : []) add(out, 'ATTRIBUTES', c, false);
  for (const c of Array.isArray(json.historyCmds) ? json.historyCmds : []) {
    const errorMsg = 'historyCmds are not supported by the emulator (use a TIMESERIES subscription with timeWindow)';
    out.rejected.push({ cmdId: isObj(c) ? Number(c.cmdId ?? 0) : 0, errorCode: 2, errorMsg });
  }
}
