/**
 * What every Bitte machine gets, whether an instance or a launch template: IMDSv2 only, the
 * device names, and volumes encrypted with the cluster key.
 */

/** IMDSv2 only; hop limit 1 keeps the metadata service off anything but the host itself. */
export const METADATA_OPTIONS = Object.freeze({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" });

/** Root device of the Ubuntu images. */
export const ROOT_DEVICE = "/dev/sda1";

/** Device name the data volume is attached as (on Nitro it appears as an NVMe disk). */
export const DATA_VOLUME_DEVICE = "/dev/sdf";

/** A launch template's EBS volume: gp3, encrypted with the cluster key, gone with its instance. */
export function templateVolume(sizeGb: number, kmsKeyArn: string): { volumeType: string; volumeSize: number; encrypted: string; kmsKeyId: string; deleteOnTermination: string } {
  return { volumeType: "gp3", volumeSize: sizeGb, encrypted: "true", kmsKeyId: kmsKeyArn, deleteOnTermination: "true" };
}
