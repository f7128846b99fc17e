// Credentials written into a URL (`http://user:pw@host`, or `user:pw@host` as MQTT_HOST) never leave
// the process: every string that shows a configured URL or host (reports, console lines, errors, the
// dashboard, tokens.json) is built with redactUrl(), and the CLI's error printer passes its text
// through redactText() as a last net for messages built by libraries.

/** What replaces the user-info part. */
export const REDACTED = '***';

// scheme://userinfo@ — the authority ends at the first / ? # (WHATWG URL), the user-info at its last @
const SCHEME_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
const BARE_USERINFO = /^([^/?#\s:@]*(?::[^/?#\s]*)?)@(?=[^@]*$)/;
const IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi;

/** A URL with any user name and password replaced by `***`; other values unchanged. */
export function redactUrl<T extends string | null | undefined>(value: T): T {
  if (typeof value !== 'string') return value;
  return value.replace(SCHEME_USERINFO, `$1${REDACTED}@`) as T;
}

/** A host setting (MQTT_HOST) that may be a URL or `user:pw@host`: the user-info replaced by `***`. */
export function redactHost(value: string): string {
  if (value.includes('://')) return redactUrl(value);
  return value.replace(BARE_USERINFO, `${REDACTED}@`);
}

/**
 * Free text with the user-info of every `scheme://user:pw@` URL in it replaced by `***`, and each of
 * `hosts` (raw host settings such as MQTT_HOST, which a socket error may quote) by its redacted form.
 */
export function redactText(text: string, hosts: readonly (string | undefined)[] = []): string {
  let out = text.replace(IN_TEXT, `$1${REDACTED}@`);
  for (const h of hosts) {
    const safe = h ? redactHost(h) : h;
    if (h && safe !== h) out = out.split(h).join(safe);
  }
  return out;
}

/** Whether two configured URLs name the same server, whatever credentials either carries (or had redacted). */
export function sameServer(a: string | null | undefined, b: string | null | undefined): boolean {
  return redactUrl(a ?? '') === redactUrl(b ?? '');
}
