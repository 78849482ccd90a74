import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import { ConfigEntryServiceIntentions } from "@cdktf/provider-consul/lib/config-entry-service-intentions";
import { Construct } from "constructs";
import { intentionProblems, type MeshIntention } from "./mesh";

export interface ConsulMeshDefaultsProps {
  /** Allowed service-to-service calls; everything else is denied. */
  readonly intentions: readonly MeshIntention[];
  /**
   * Default protocol of mesh services. `tcp` works for every service; a service that wants L7
   * features declares `http` in its own service-defaults.
   * @default "tcp"
   */
  readonly protocol?: "tcp" | "http" | "http2" | "grpc";
}

/** Envoy's Prometheus listener in every sidecar, so monitoring can scrape mesh metrics. */
export const ENVOY_METRICS_PORT = 9102;

/**
 * Mesh defaults: the global proxy-defaults entry, a `*` → `*` deny intention, and one
 * service-intentions entry per allowed destination.
 */
export class ConsulMeshDefaults extends Construct {
  constructor(scope: Construct, id: string, props: ConsulMeshDefaultsProps) {
    super(scope, id);
    const problems = intentionProblems(props.intentions);
    if (problems.length > 0) throw new Error(`Invalid mesh intentions:\n  - ${problems.join("\n  - ")}`);

    new ConfigEntry(this, "proxy-defaults", {
      kind: "proxy-defaults",
      name: "global",
      configJson: JSON.stringify({
        Config: { protocol: props.protocol ?? "tcp", envoy_prometheus_bind_addr: `0.0.0.0:${ENVOY_METRICS_PORT}` },
      }),
    });

    // Consul already denies by default when ACLs default to deny; the explicit entry keeps the
    // mesh closed if that default ever changes, and shows the intent in the UI.
    new ConfigEntryServiceIntentions(this, "default-deny", {
      name: "*",
      sources: [{ name: "*", action: "deny", type: "consul", description: "Deny all mesh traffic not explicitly allowed" }],
    });

    for (const intention of props.intentions) {
      new ConfigEntryServiceIntentions(this, `allow-${intention.destination}`, {
        name: intention.destination,
        sources: [...intention.allowFrom].sort().map((source) => ({ name: source, action: "allow", type: "consul" })),
      });
    }
  }
}
