/**
 * The image per architecture reaches the machines: a Graviton group's launch template and a
 * Graviton core node use the arm64 image, x86_64 ones the x86_64 image, one lookup each.
 */
import { defineCluster, DEFAULT_ARM64_IMAGE_NAME, DEFAULT_IMAGE_NAME, type ClusterSpec } from "../../clusters/spec";
import { clientsStack, coreStack } from "../harness/stacks";
import { testClusterSpec, testGroup } from "../harness/specs";
import { ref, resources } from "../harness/synth";

const spec: ClusterSpec = testClusterSpec("arch", {
  clientGroups: [testGroup({ name: "x86", min: 0 }), testGroup({ name: "arm", instanceType: ["m7g.large", "c7g.large"], min: 0 })],
  core: { instanceType: "m7g.large" },
  adminCidrs: ["198.51.100.0/24"],
});

function imageName(json: ReturnType<typeof clientsStack>["json"], address: string): { name: unknown; architecture: unknown } {
  const ami = resources(json, "aws_ami", "data").find((d) => `${d.address}.id` === address);
  if (!ami) throw new Error(`no data source ${address}`);
  const filters = ami.config.filter as { name: string; values: string[] }[];
  return { name: filters.find((f) => f.name === "name")?.values[0], architecture: filters.find((f) => f.name === "architecture")?.values[0] };
}

describe("image per architecture in the stacks", () => {
  const cluster = defineCluster(spec);

  test("client launch templates take their group's architecture's image", () => {
    const { json } = clientsStack(cluster);
    const lt = (group: string) => resources(json, "aws_launch_template").find((t) => t.config.name === `bitte-arch-${group}`);
    expect(imageName(json, ref(lt("x86")?.config.image_id))).toEqual({ name: DEFAULT_IMAGE_NAME, architecture: undefined });
    expect(imageName(json, ref(lt("arm")?.config.image_id))).toEqual({ name: DEFAULT_ARM64_IMAGE_NAME, architecture: "arm64" });
    expect(resources(json, "aws_ami", "data")).toHaveLength(2);
  });

  test("a Graviton core runs the arm64 image while monitoring and routing keep x86_64", () => {
    const { json } = coreStack(cluster);
    const core1 = resources(json, "aws_instance").find((i) => (i.config.tags as Record<string, string>)?.Name === "core-1");
    expect(imageName(json, ref(core1?.config.ami)).name).toBe(DEFAULT_ARM64_IMAGE_NAME);
    const monitoring = resources(json, "aws_instance").find((i) => (i.config.tags as Record<string, string>)?.Name === "monitoring");
    expect(imageName(json, ref(monitoring?.config.ami)).name).toBe(DEFAULT_IMAGE_NAME);
    expect(resources(json, "aws_ami", "data")).toHaveLength(2);
  });
});
