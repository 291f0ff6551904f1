import type { EmailSender } from '../alerts/send';

/**
 * E-mail alerts in AWS: published to one SNS topic with the address as the message attribute
 * `email`; each address is an e-mail subscription of the topic with the filter policy
 * {"email": ["<address>"]} (docs/alerts.md), confirmed once by its owner. The SDK client is
 * loaded on first use and comes from the Lambda runtime.
 */
export function createSnsEmailSender(topicArn: string): EmailSender {
  let client: Promise<{ publish: (input: object) => Promise<unknown> }> | undefined;
  const load = () =>
    (client ??= import('@aws-sdk/client-sns').then(({ SNSClient, PublishCommand }) => {
      const sns = new SNSClient({});
      return { publish: (input: object) => sns.send(new PublishCommand(input as never)) };
    }));
  return async (message) => {
    await (
      await load()
    ).publish({
      TopicArn: topicArn,
      Subject: message.subject.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
      Message: message.text,
      MessageAttributes: {
        email: { DataType: 'String', StringValue: message.to },
        destination_id: { DataType: 'String', StringValue: message.destination_id },
      },
    });
  };
}
