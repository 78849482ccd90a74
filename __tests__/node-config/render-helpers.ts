import cluster from "../../clusters/example";
import { renderNodeFiles, renderUserData, type NodeUserDataProps } from "../../constructs/node-config";

/** One node of every role (and every client region) of the example cluster. */
export const NODES: readonly (NodeUserDataProps & { readonly label: string })[] = [
  ...cluster.coreNodes.map((n) => ({ label: n.name, cluster, role: "core" as const, nodeName: n.name })),
  { label: "client eu-central-1", cluster, role: "client", nodeClass: "workers" },
  { label: "client us-east-2", cluster, role: "client", region: "us-east-2", nodeClass: "workers" },
  { label: "monitoring", cluster, role: "monitoring" },
  { label: "routing", cluster, role: "routing" },
];

export { cluster };

export function fileOf(props: NodeUserDataProps, path: string): string {
  const f = renderNodeFiles(props).find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} for ${props.role}`);
  return f.content;
}

/** Parsed JSON or YAML under test: shape asserted by the tests themselves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function jsonOf(props: NodeUserDataProps, path: string): Json {
  return JSON.parse(fileOf(props, path));
}

export { renderNodeFiles, renderUserData };
