import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseRunMessage } from '../aws/sqs-run-queue';
import { RunWorker, type WorkerDeps } from '../engine/worker';
import { addRunMetrics } from './metrics';

/**
 * The worker function: SQS delivers batches of run messages (one run id each, sent by run-now or
 * a dispatching sweep); each run is picked up (at most once however often it is delivered: see
 * pickUpRuns) and run through the engine's run path, its outcome written before the invocation
 * answers. Partial batch responses (Powertools batch): only the messages whose pick-up failed
 * (the database was unreachable) come back for another delivery; a failed *run* is an outcome,
 * recorded like any other, not a failed message. A message that is not a run message is logged
 * and dropped, since no delivery can fix it. If writing the outcomes fails the invocation throws:
 * the messages come back, their runs are picked up already, and a sweep declares them lost after
 * their lease.
 */
export function runQueuedJobs(deps: WorkerDeps) {
  const worker = new RunWorker(deps);
  const processor = new BatchProcessor(EventType.SQS);
  const runRecord = async (record: SQSRecord) => {
    const message = parseRunMessage(record.body);
    if (!message) {
      deps.log.error('dropped a message that is not a run message', {
        message_id: record.messageId,
      });
      return;
    }
    await worker.pickUpAndRun([message.run_id]);
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const before = { ...worker.counts };
    const response = await processPartialResponse(event, runRecord, processor, { context });
    await worker.flush();
    addRunMetrics({
      succeeded: worker.counts.succeeded - before.succeeded,
      failed: worker.counts.failed - before.failed,
      timed_out: worker.counts.timed_out - before.timed_out,
    });
    return response;
  };
}
