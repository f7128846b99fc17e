// The baseline writer sends a fixed payload as large as the lab's average telemetry payload,
// so both put the same bytes on the wire.

/** Mean size of the lab's telemetry payload, bytes. */
export async function labPayloadBytes(): Promise<number> {
  return 251;
}
