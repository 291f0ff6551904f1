import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { RunQueue } from '../engine/run-queue';

// SendMessageBatch takes at most 10 entries.
const SQS_BATCH_SIZE = 10;
// Batches in flight at once while sending a large claim.
const PARALLEL_BATCHES = 8;
// An entry SQS refused (throttled, internal error) is sent again this many times.
const ENTRY_RETRIES = 2;

/** The body of one run-queue message: the worker function reads exactly this. */
export interface RunMessage {
  run_id: string;
}

/**
 * SQS as the run queue: one message per run (so a partial batch response can hand back exactly
 * the runs that failed), sent 10 to a SendMessageBatch call. Entries SQS refuses are sent again;
 * send() rejects, naming how many, if any is still refused, so the caller withdraws them (a run
 * already delivered is then left to its worker, since only runs not picked up are withdrawn).
 */
export function createSqsRunQueue(client: SQSClient, queueUrl: string): RunQueue {
  // Imported when first needed (the Lambda runtime provides the SDK): a static import would be
  // loaded at every function's cold start, sending or not.
  const sdk = () => import('@aws-sdk/client-sqs');
  const sendBatch = async (runIds: string[]): Promise<number> => {
    const { SendMessageBatchCommand } = await sdk();
    let entries: SendMessageBatchRequestEntry[] = runIds.map((runId, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify({ run_id: runId } satisfies RunMessage),
    }));
    for (let attempt = 0; attempt <= ENTRY_RETRIES && entries.length > 0; attempt += 1) {
      const answer = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      const refused = new Set((answer.Failed ?? []).map((failure) => failure.Id));
      entries = entries.filter((entry) => refused.has(entry.Id));
    }
    return entries.length;
  };

  return {
    send: async (runIds) => {
      const batches: string[][] = [];
      for (let start = 0; start < runIds.length; start += SQS_BATCH_SIZE) {
        batches.push(runIds.slice(start, start + SQS_BATCH_SIZE));
      }
      let refused = 0;
      let next = 0;
      const lane = async () => {
        for (let batch = batches[next++]; batch; batch = batches[next++]) {
          refused += await sendBatch(batch);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_BATCHES, batches.length) }, lane));
      if (refused > 0) throw new Error(`SQS refused ${refused} of ${runIds.length} run messages`);
    },
  };
}

/** Reads a run-queue message body; null when it is not one (a retry cannot fix that). */
export function parseRunMessage(body: string): RunMessage | null {
  try {
    const value: unknown = JSON.parse(body);
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as RunMessage).run_id === 'string'
    ) {
      return { run_id: (value as RunMessage).run_id };
    }
  } catch {
    // not JSON
  }
  return null;
}
