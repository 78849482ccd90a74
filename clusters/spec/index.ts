/** The cluster spec: types, validation with defaults, the region table and CIDR planning. */
export * from "./types";
export * from "./define";
export { KNOWN_REGIONS, REGION_INDEX } from "./regions";
export { checkPackageMirror, type PackageMirrorSpec } from "./package-mirror";
