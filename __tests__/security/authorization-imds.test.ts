/**
 * Issue 12, finding 2: no task on a client reaches the instance metadata service. Every launch
 * template and instance has IMDSv2 with hop limit 1 (a bridged container is one hop further), and
 * the client's user data loads the IMDS guard before Docker and Nomad.
 */
import example from "../../clusters/example";
import { IMDS_GUARD, imdsGuardRules } from "../../constructs/node-config/imds-guard";
import { renderNodeFiles } from "../../constructs/node-config";
import { clientsStack, coreStack } from "../harness/stacks";
import { resources, userDataOf } from "../harness/synth";

const MACHINES = [...resources(coreStack(example).json, "aws_instance"), ...resources(coreStack(example).json, "aws_launch_template"), ...resources(clientsStack(example).json, "aws_launch_template")];

test("every machine, clients included, has IMDSv2 with hop limit 1", () => {
  expect(resources(clientsStack(example).json, "aws_launch_template").length).toBeGreaterThan(0);
  for (const m of MACHINES) {
    const o = m.config.metadata_options as { http_tokens?: string; http_put_response_hop_limit?: number };
    expect({ where: m.address, tokens: o.http_tokens, hops: o.http_put_response_hop_limit }).toEqual({ where: m.address, tokens: "required", hops: 1 });
  }
});

test("the client's user data loads the IMDS guard before Docker and Nomad start", () => {
  for (const lt of resources(clientsStack(example).json, "aws_launch_template")) {
    const userData = userDataOf(lt);
    expect(userData).toContain(IMDS_GUARD.rules);
    expect(userData).toMatch(/- - systemctl\s+- start\s+- bitte-imds-guard/);
  }
  const files = renderNodeFiles({ cluster: example, role: "client", nodeClass: "workers" });
  const unit = files.find((f) => f.path === `/etc/systemd/system/${IMDS_GUARD.unit}.service`)?.content ?? "";
  expect(unit).toMatch(/^Before=.*docker\.service.*nomad\.service/m);
  expect(files.find((f) => f.path === "/etc/systemd/system/nomad.service")?.content).toMatch(new RegExp(`^After=.*${IMDS_GUARD.unit}\\.service`, "m"));
  expect(files.find((f) => f.path === IMDS_GUARD.rules)?.content).toBe(imdsGuardRules());
});

test("only clients run tasks, so only clients carry the guard", () => {
  for (const role of ["core", "monitoring", "routing"] as const) {
    expect(renderNodeFiles({ cluster: example, role, nodeName: role === "core" ? example.coreNodes[0].name : undefined }).some((f) => f.path === IMDS_GUARD.rules)).toBe(false);
  }
});
