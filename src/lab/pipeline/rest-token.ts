// The tenant's access token for the REST calls the shards make (server-side RPC, shared-attribute
// writes: the `rpc` and `attributes` workloads). The lab logs in once (src/thingsboard/client.ts,
// which refreshes the JWT before it expires) and hands the token to the engine, which relays it to
// every shard over IPC; it is checked again every minute and a renewed one is handed over too.
// The token is never logged, reported or shown (only over the shards' IPC channel).
import { clientFromConfig, type TbSettings } from '../../thingsboard/client.js';
import { describeError } from '../../common/errors.js';

/** How often the lab asks its session for the token (the session renews it ahead of its expiry), ms. */
const RECHECK_MS = 60_000;

export interface TokenFeed {
  /** The first token reached the engine (resolves false when the login failed: the failure was logged). */
  readonly first: Promise<boolean>;
  stop(): Promise<void>;
}

export function feedRestToken(cfg: TbSettings, give: (token: string) => void, log: (line: string) => void): TokenFeed {
  const client = clientFromConfig(cfg);
  let last = '';
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const check = async (): Promise<boolean> => {
    const token = await client.accessToken();
    if (!stopped && token !== last) {
      last = token;
      give(token);
    }
    return true;
  };
  const first = check().then(
    (ok) => {
      if (!stopped)
        timer = setInterval(() => void check().catch((e: unknown) => log(`REST token renewal failed: ${describeError(e)}`)), RECHECK_MS);
      return ok;
    },
    (e: unknown) => {
      log(`rpc/attributes workloads: no REST login, no calls will be made: ${describeError(e)}`);
      return false;
    },
  );
  return {
    first,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await first;
      await client.close();
    },
  };
}
