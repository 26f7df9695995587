/** Cloudflare Queues: at most 100 messages in one `sendBatch`. */
export const MAX_BATCH_MESSAGES = 100;
/** Cloudflare Queues: at most 256 KB in one `sendBatch`; a margin is kept for each message's envelope. */
export const MAX_BATCH_BYTES = 256 * 1000;
const ENVELOPE_BYTES = 200;

const encoder = new TextEncoder();

/**
 * Splits items into the batches one `sendBatch` takes: at most 100 messages and 256 KB
 * each, in order. `bodyOf` names the message body of an item (the item itself by default).
 */
export function batchesOf<T>(items: T[], bodyOf: (item: T) => unknown = (item) => item): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = encoder.encode(JSON.stringify(bodyOf(item))).length + ENVELOPE_BYTES;
    if (current.length && (current.length === MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Sends every message, in as few `sendBatch` calls as the queue's limits allow (see
 * `batchesOf`). The one way the hub sends to a queue.
 */
export async function sendAll<T>(queue: Queue<T>, bodies: T[], opts: { delaySeconds?: number } = {}): Promise<void> {
  for (const batch of batchesOf(bodies)) {
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const, ...(opts.delaySeconds ? { delaySeconds: opts.delaySeconds } : {}) })));
  }
}
