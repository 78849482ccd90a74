/**
 * Node configuration: what every machine of a Bitte cluster runs, rendered from the spec as
 * cloud-init user data, and the first-boot bootstrap (the on-node half of HashiStackBootstrap).
 */
export type { NodeContext, NodeFile, NodeRole, NodeUserDataProps } from "./types";
export { NODE_ROLES } from "./types";
export { renderUserData } from "./user-data";
export { renderNodeFiles, DASHBOARD_FILES } from "./files";
export { AUTO_JOIN_TAG_KEY, autoJoinTagValue, autoJoin } from "./join";
export { ssmAccess, SSM_PARAMETERS, type SsmAccess } from "./ssm";
export { DATA_VOLUME_MOUNT, PATHS } from "./paths";
export { CLIENT_DRAIN_DEADLINE_SECONDS, CLIENT_DRAIN_GRACE_SECONDS, WORKLOAD_IDENTITY } from "./nomad";
export { VAULT_TLS_SERVER_NAME } from "./vault";
export { CONSUL_SERVICES } from "./consul";
export { METRICS, METRIC_NAMES } from "./metrics";
export { GRAFANA_STACK_VERSIONS, APT_REPOSITORIES, rolePrograms } from "./packages";
export { resolveNode } from "./context";
