// Entry of a shard child process (forked by the supervisor with serialization 'advanced'):
// receives `init`, runs a Shard, relays control messages, exits after its final snapshot.
// The workload implementations come from workload-factories.ts (one per row kind); the rest of
// the engine only knows the contract in src/device/workload.ts.
import { Shard, type ShardOutput } from './shard.js';
import type { FromShard, ToShard } from './protocol.js';
import { describeError } from '../common/errors.js';
import { workloadFactories } from './workload-factories.js';

function send(m: FromShard, then?: () => void): void {
  if (process.send) process.send(m, undefined, undefined, then ? () => then() : undefined);
}

let shard: Shard | null = null;

process.on('message', (m: ToShard) => {
  try {
    switch (m.type) {
      case 'init': {
        const out: ShardOutput = {
          snapshot: (snapshot, final) => send({ type: 'snapshot', snapshot, final }, final ? () => process.disconnect() : undefined),
        };
        const { devices, settings } = m;
        shard = new Shard(m.shardId, settings, devices, out, workloadFactories(settings));
        shard.start(m.paused);
        send({ type: 'ready', shardId: m.shardId, pid: process.pid });
        return;
      }
      case 'pause':
        shard?.setPaused(m.paused);
        return;
      case 'stop':
        shard?.stop(m.drainMs);
        return;
      case 'hurry':
        shard?.hurry();
        return;
      case 'rest-token':
        shard?.setRestToken(m.token);
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    send({ type: 'fatal', shardId: shard?.id ?? -1, message: describeError(e) }, () => process.exit(1));
  }
});

// stdout/stderr are the supervisor's: closed early by a reader (`tblab run | head`), they must not end the shard
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

// the supervisor went away (crash or kill): nothing left to report to
process.on('disconnect', () => process.exit(0));
// Ctrl+C signals the whole process group; the supervisor decides when and how shards stop
process.on('SIGINT', () => {});
