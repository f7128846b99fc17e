// Thresholds, the parser: `ack_p99<200ms`, `connected_min>=0.99*devices` → a validated Threshold.
// Parsed and checked against the metric table before anything connects; evaluation is in thresholds.ts.
//
// Grammar (EBNF; blanks are allowed between tokens; docs/thresholds.md says the same for users):
//
//   threshold = metric , op , value ;
//   metric    = lower , { lower | digit | "_" } ;      (* a name of THRESHOLD_METRICS *)
//   op        = "<" | "<=" | ">" | ">=" | "==" | "!=" ;
//   value     = factor , { "*" , factor } ;          (* the product of its factors *)
//   factor    = number , [ unit ] | "devices" ;        (* devices = configured devices of the run *)
//   number    = digits , [ "." , digits ] | "." , digits ;
//   unit      = "ms" | "s" | "%" | "k" | "M" ;         (* ms ×1 · s ×1000 · % ×0.01 · k ×1e3 · M ×1e6 *)
//
// Validation against the metric's kind (threshold-metrics.ts): durations take ms/s (a bare number
// is ms); ratios take % or a bare fraction; counts and rates take k, M and `devices`; flags 0 or 1.
import { LabError } from '../common/errors.js';
import { THRESHOLD_METRICS, isThresholdMetric, type MetricKind } from './threshold-metrics.js';

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed, validated threshold. The limit is `coefficient × devices^perDevice`. */
export interface Threshold {
  expression: string;
  metric: string;
  kind: MetricKind;
  op: ThresholdOp;
  coefficient: number;
  perDevice: boolean;
}

const UNITS: Record<string, { factor: number; kinds: readonly MetricKind[] }> = {
  ms: { factor: 1, kinds: ['duration'] },
  s: { factor: 1000, kinds: ['duration'] },
  '%': { factor: 0.01, kinds: ['ratio'] },
  k: { factor: 1e3, kinds: ['count', 'rate'] },
  M: { factor: 1e6, kinds: ['count', 'rate'] },
};
const UNIT_HELP: Record<MetricKind, string> = {
  duration: 'a duration such as 200ms or 1.5s (a bare number is ms)',
  ratio: 'a fraction such as 0.001 or a percentage such as 0.1%',
  count: 'a number, optionally with k or M, or a multiple of devices such as 0.99*devices',
  rate: 'a rate per second, optionally with k or M, or a multiple of devices such as 0.9*devices',
  flag: '0 or 1',
};

class ParseError extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

/** The metric names an expression may use, with their kinds (default: THRESHOLD_METRICS; `tblab limit` has its own). */
export interface MetricTable {
  metrics: Readonly<Record<string, { kind: MetricKind }>>;
  /** Where the list is documented, for the error message. */
  doc: string;
}
const RUN_METRICS: MetricTable = { metrics: THRESHOLD_METRICS, doc: 'docs/thresholds.md' };

/** Parses and validates one expression; throws THRESHOLDS_INVALID naming the column and what was expected. */
export function parseThreshold(expression: string, table: MetricTable = RUN_METRICS): Threshold {
  try {
    return parseOrFail(expression, table);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw new LabError('THRESHOLDS_INVALID', { message: describe(expression, e), details: { expression, column: e.column } });
  }
}

/** Parses every expression and reports all problems at once. */
export function parseThresholds(expressions: readonly string[]): Threshold[] {
  const out: Threshold[] = [];
  const problems: string[] = [];
  for (const x of expressions) {
    try {
      out.push(parseOrFail(x));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      problems.push(describe(x, e));
    }
  }
  if (problems.length) {
    const head = problems.length === 1 ? 'Invalid --threshold' : `${problems.length} invalid --threshold expressions`;
    throw new LabError('THRESHOLDS_INVALID', {
      message: `${head}:\n${problems.map((p) => '  ' + p.replace(/\n/g, '\n  ')).join('\n')}`,
      details: { expressions },
    });
  }
  return out;
}

function describe(expression: string, e: ParseError): string {
  return `${JSON.stringify(expression)}: ${e.message}\n${' '.repeat(e.column + 1)}^ (column ${e.column + 1})`;
}

function parseOrFail(expression: string, table: MetricTable = RUN_METRICS): Threshold {
  const src = expression;
  let pos = 0;
  const blanks = () => {
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  };
  blanks();
  const mStart = pos;
  while (pos < src.length && /[A-Za-z0-9_]/.test(src[pos])) pos++;
  const metric = src.slice(mStart, pos);
  if (!metric) throw new ParseError(mStart, 'expected a metric name such as ack_p99 or failed_ratio');
  if (table === RUN_METRICS ? !isThresholdMetric(metric) : !Object.prototype.hasOwnProperty.call(table.metrics, metric)) {
    const near = closest(metric, Object.keys(table.metrics));
    throw new ParseError(
      mStart,
      `unknown metric ${JSON.stringify(metric)}${near ? `; did you mean ${near}?` : ''} (the list is in ${table.doc})`,
    );
  }
  const def = table.metrics[metric];
  blanks();
  const opMatch = /^(<=|>=|==|!=|<|>)/.exec(src.slice(pos));
  if (!opMatch) throw new ParseError(pos, 'expected a comparison: <, <=, >, >=, == or !=');
  const op = opMatch[1] as ThresholdOp;
  pos += op.length;

  const vStart = pos;
  let coefficient = 1;
  let perDevice = false;
  for (;;) {
    blanks();
    const fStart = pos;
    if (src.startsWith('devices', pos) && !/[A-Za-z0-9_]/.test(src[pos + 7] ?? '')) {
      if (def.kind !== 'count' && def.kind !== 'rate')
        throw new ParseError(fStart, `${metric} is a ${def.kind}: devices is not allowed; expected ${UNIT_HELP[def.kind]}`);
      if (perDevice) throw new ParseError(fStart, 'devices may appear only once');
      perDevice = true;
      pos += 7;
    } else {
      const num = /^(\d+(?:\.\d+)?|\.\d+)/.exec(src.slice(pos));
      if (!num) throw new ParseError(fStart, `expected ${UNIT_HELP[def.kind]}`);
      pos += num[1].length;
      let value = Number(num[1]);
      blanks();
      const uStart = pos;
      while (pos < src.length && /[A-Za-z%]/.test(src[pos])) pos++;
      const unit = src.slice(uStart, pos);
      if (unit) {
        const u = UNITS[unit];
        if (!u) throw new ParseError(uStart, `unknown unit ${JSON.stringify(unit)}; expected ${UNIT_HELP[def.kind]}`);
        if (!u.kinds.includes(def.kind))
          throw new ParseError(uStart, `${metric} is a ${def.kind}: ${unit} does not apply; expected ${UNIT_HELP[def.kind]}`);
        value *= u.factor;
      }
      coefficient *= value;
    }
    blanks();
    if (pos >= src.length) break;
    if (src[pos] !== '*') throw new ParseError(pos, `unexpected ${JSON.stringify(src[pos])}; expected * or the end of the expression`);
    pos++;
  }
  if (def.kind === 'flag' && (perDevice || (coefficient !== 0 && coefficient !== 1)))
    throw new ParseError(vStart, `${metric} is a flag: expected 0 or 1`);
  return { expression: expression.trim(), metric, kind: def.kind, op, coefficient, perDevice };
}

/** The nearest metric names within two edits (`ack_p90 or ack_p99`), for "did you mean". */
function closest(word: string, names: readonly string[]): string | null {
  let best: string[] = [];
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(word.toLowerCase(), n);
    if (d < bestD) {
      best = [n];
      bestD = d;
    } else if (d === bestD) best.push(n);
  }
  return best.length ? best.slice(0, 3).join(' or ') : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
