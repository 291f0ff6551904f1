import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSqsRunQueue, parseRunMessage } from '../../lib/aws/sqs-run-queue';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-central-1.amazonaws.com/123456789012/crm-cron-runs';
const runIds = (count: number) =>
  Array.from({ length: count }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

type Entries = { Id: string; MessageBody: string }[];
const sentEntries = () =>
  sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries as Entries);

beforeEach(() => {
  sqs.reset();
});

describe('SQS run queue', () => {
  it('sends one message per run, ten to a batch, each body naming its run', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const ids = runIds(25);
    await createSqsRunQueue(new SQSClient({}), QUEUE_URL).send(ids);

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.QueueUrl)).toEqual([
      QUEUE_URL,
      QUEUE_URL,
      QUEUE_URL,
    ]);
    const batches = sentEntries();
    expect(batches.map((entries) => entries.length).sort()).toEqual([10, 10, 5]);
    const bodies = batches.flat().map((entry) => parseRunMessage(entry.MessageBody)?.run_id);
    expect(bodies.sort()).toEqual([...ids].sort());
  });

  it('sends again the entries SQS refused, and only those', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: '3', SenderFault: false, Code: 'InternalError' },
          { Id: '7', SenderFault: false, Code: 'InternalError' },
        ],
      })
      .resolves({ Failed: [] });
    const ids = runIds(10);
    await createSqsRunQueue(new SQSClient({}), QUEUE_URL).send(ids);

    const [first, second] = sentEntries();
    expect(first).toHaveLength(10);
    expect(second!.map((entry) => parseRunMessage(entry.MessageBody)?.run_id)).toEqual([
      ids[3],
      ids[7],
    ]);
  });

  it('rejects, naming how many, when SQS keeps refusing an entry', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError' }] });
    await expect(createSqsRunQueue(new SQSClient({}), QUEUE_URL).send(runIds(4))).rejects.toThrow(
      'SQS refused 1 of 4 run messages',
    );
    // The first send and its two retries.
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('rejects when SQS cannot be reached', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ETIMEDOUT'));
    await expect(createSqsRunQueue(new SQSClient({}), QUEUE_URL).send(runIds(3))).rejects.toThrow(
      'ETIMEDOUT',
    );
  });

  it('sends nothing for no runs', async () => {
    await createSqsRunQueue(new SQSClient({}), QUEUE_URL).send([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it.each([['not json'], ['{}'], ['{"run_id": 7}'], ['null'], ['[]']])(
    'reads %s as no run message',
    (body) => {
      expect(parseRunMessage(body)).toBeNull();
    },
  );
});
