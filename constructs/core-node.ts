import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { Construct } from "constructs";
import { DATA_VOLUME_DEVICE, METADATA_OPTIONS } from "./instance-defaults";
import { userDataBase64 } from "./user-data";


export interface CoreNodeProps {
  readonly provider: AwsProvider;
  /** Node name (`core-1`, `monitoring`): the `Name` tag. */
  readonly name: string;
  /** `core` or `monitoring`: the `Role` tag. */
  readonly role: string;
  readonly zone: string;
  readonly subnetId: string;
  /** Fixed private address of the node's own interface. */
  readonly privateIp: string;
  readonly securityGroupIds: string[];
  readonly instanceType: string;
  readonly ami: string;
  readonly instanceProfileName: string;
  /** Cloud-init user data; sent gzip-compressed (EC2 takes at most 16 KiB). */
  readonly userData: string;
  /** Key for the root and data volumes. */
  readonly kmsKeyArn: string;
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  /**
   * Extra tags on the instance (auto-join tags).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * A fixed node: an instance on its own network interface with a fixed private IP and a separate
 * encrypted data volume, so a replaced instance comes back with the same address and data.
 * AMI and user-data changes do not replace it on deploy; nodes are rolled one at a time
 * (`bitte rebuild`), each after the quorum is healthy again.
 */
export class CoreNode extends Construct {
  readonly instance: Instance;
  readonly networkInterface: NetworkInterface;
  readonly dataVolume: EbsVolume;

  constructor(scope: Construct, id: string, props: CoreNodeProps) {
    super(scope, id);
    const { provider } = props;
    const tags = { Name: props.name, Role: props.role, ...props.tags };
    this.networkInterface = new NetworkInterface(this, "eni", {
      provider,
      subnetId: props.subnetId,
      privateIps: [props.privateIp],
      securityGroups: props.securityGroupIds,
      description: `Bitte ${props.name}`,
      tags: { Name: props.name, Role: props.role },
    });
    this.dataVolume = new EbsVolume(this, "data", {
      provider,
      availabilityZone: props.zone,
      size: props.dataVolumeGb,
      type: "gp3",
      encrypted: true,
      kmsKeyId: props.kmsKeyArn,
      tags: { Name: `${props.name}-data`, Role: props.role },
    });
    this.instance = new Instance(this, "instance", {
      provider,
      ami: props.ami,
      instanceType: props.instanceType,
      iamInstanceProfile: props.instanceProfileName,
      networkInterface: [{ deviceIndex: 0, networkInterfaceId: this.networkInterface.id }],
      metadataOptions: { ...METADATA_OPTIONS },
      monitoring: true,
      rootBlockDevice: { volumeType: "gp3", volumeSize: props.rootVolumeGb, encrypted: true, kmsKeyId: props.kmsKeyArn, deleteOnTermination: true },
      userDataBase64: userDataBase64(props.userData),
      tags,
      volumeTags: { Name: `${props.name}-root`, Role: props.role },
      lifecycle: { ignoreChanges: ["ami", "user_data", "user_data_base64"] },
    });
    new VolumeAttachment(this, "data-attachment", {
      provider,
      deviceName: DATA_VOLUME_DEVICE,
      instanceId: this.instance.id,
      volumeId: this.dataVolume.id,
      // Stop services cleanly rather than yank the raft disk from a running node.
      stopInstanceBeforeDetaching: true,
    });
  }
}
