/**
 * The cluster specs tests start from: one place for the fields every test spec repeats (the core
 * region and its three zones, a client group), so a test names only what it is about.
 */
import type { ClientGroupSpec, ClusterSpec } from "../../clusters/spec";

/** The core region every test spec uses and its three zones (exist in the zone table). */
export const TEST_CORE_REGION = "eu-central-1";
export const TEST_CORE_ZONES: readonly string[] = ["eu-central-1a", "eu-central-1b", "eu-central-1c"];

/** A client group: `workers`, m6i.large, 1/1/2 in the core region, unless overridden. */
export function testGroup(overrides: Partial<ClientGroupSpec> = {}): ClientGroupSpec {
  return { name: "workers", region: TEST_CORE_REGION, instanceType: "m6i.large", min: 1, desired: 1, max: 2, ...overrides };
}

/**
 * A valid spec named `name` (domain `<name>.example.com`), core in the test region's three zones,
 * one `testGroup()`; every field can be overridden.
 */
export function testClusterSpec(name: string, overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return { name, domain: `${name}.example.com`, coreRegion: TEST_CORE_REGION, coreZones: [...TEST_CORE_ZONES], clientGroups: [testGroup()], ...overrides };
}
