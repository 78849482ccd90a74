import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import type { Cluster } from "../../clusters/spec";
import { alertTopicName } from "../node-config/alerting";

export interface AlertTopicProps {
  readonly provider: AwsProvider;
  readonly cluster: Cluster;
  /** The cluster key in the topic's region: the topic is encrypted at rest with it. */
  readonly kmsKeyArn: string;
}

/**
 * The SNS topic Alertmanager sends every alert to (`bitte-<cluster>-alerts`, in the core region),
 * with the spec's e-mail subscriptions. The webhook receiver is Alertmanager's own, not SNS's, so
 * its token never reaches Terraform.
 */
export class AlertTopic extends Construct {
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const { provider, cluster } = props;
    this.topic = new SnsTopic(this, "topic", { provider, name: alertTopicName(cluster), kmsMasterKeyId: props.kmsKeyArn, tags: { Role: "monitoring" } });
    cluster.operations.alerts.email.forEach((endpoint, i) => {
      new SnsTopicSubscription(this, `email-${i}`, { provider, topicArn: this.topic.arn, protocol: "email", endpoint });
    });
  }
}
