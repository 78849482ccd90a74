import type { Cluster } from "../../clusters/spec";
import type { NodeContext, NodeRole, NodeUserDataProps } from "./types";

/**
 * Applies the props' defaults in one typed place and checks that the node exists in the spec.
 * Errors say what is wrong and how to fix it.
 */
export function resolveNode(props: NodeUserDataProps): NodeContext {
  const { cluster, role } = props;
  const region = props.region ?? cluster.coreRegion;
  if (!cluster.regions.some((r) => r.name === region)) {
    throw new Error(`node-config: region ${JSON.stringify(region)} hosts nothing in cluster ${cluster.name}; use one of ${cluster.regions.map((r) => r.name).join(", ")}`);
  }
  const base = { cluster, role, region, consulDatacenter: cluster.coreRegion, nomadDatacenter: region };
  switch (role) {
    case "core": {
      const node = cluster.coreNodes.find((n) => n.name === props.nodeName);
      if (!node) throw new Error(`node-config: a core node needs nodeName, one of ${cluster.coreNodes.map((n) => n.name).join(", ")} (got ${JSON.stringify(props.nodeName)})`);
      fixedInCoreRegion(cluster, role, region);
      return { ...base, nodeName: node.name, privateIp: node.privateIp, isServer: true, hasDataVolume: true };
    }
    case "monitoring": {
      const node = cluster.monitoringNode;
      if (props.nodeName !== undefined && props.nodeName !== node.name) throw new Error(`node-config: the monitoring node is named ${JSON.stringify(node.name)}; leave nodeName out`);
      fixedInCoreRegion(cluster, role, region);
      return { ...base, nodeName: node.name, privateIp: node.privateIp, isServer: false, hasDataVolume: true };
    }
    case "client": {
      const groups = cluster.clientGroups.filter((g) => g.region === region);
      const nodeClass = props.nodeClass ?? groups[0]?.nodeClass;
      if (!groups.some((g) => g.nodeClass === nodeClass)) {
        throw new Error(`node-config: no client group in ${region} has node class ${JSON.stringify(nodeClass)}; use one of ${groups.map((g) => g.nodeClass).join(", ") || "(none: add a client group in this region)"}`);
      }
      return { ...base, nodeClass, isServer: false, hasDataVolume: true };
    }
    case "routing":
      fixedInCoreRegion(cluster, role, region);
      return { ...base, isServer: false, hasDataVolume: false };
  }
}

function fixedInCoreRegion(cluster: Cluster, role: NodeRole, region: string): void {
  if (region !== cluster.coreRegion) throw new Error(`node-config: ${role} nodes run in the core region ${cluster.coreRegion}, not ${region}; leave region out`);
}
