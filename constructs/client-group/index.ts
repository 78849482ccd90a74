/** Nomad client groups: the auto-scaling group construct, draining on termination, and the security group of a client region. */
export { ClientAutoScalingGroup, CLIENT_GROUP_DEFAULTS, CLIENT_METADATA_OPTIONS, DRAIN_HOOK_NAME, type ClientAutoScalingGroupProps } from "./client-auto-scaling-group";
export {
  DRAIN_PARAMETERS,
  DRAIN_SCRIPT,
  DrainRole,
  drainDocument,
  drainDocumentName,
  drainRolePolicy,
  drainTimings,
  RegionDrain,
  TERMINATE_ACTION_DETAIL_TYPE,
  type DrainTimings,
} from "./drain";
export { RegionClientSecurityGroup } from "./security-group";
