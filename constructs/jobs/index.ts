/** Nomad job files: loading, HCL2 variables from the spec, synth-time checks. */
export * from "./checks";
export * from "./loader";
export { terraformLiteral } from "./escape";
export { clientDatacenters, SUPPLIED_VARIABLES, suppliedVariables } from "./variables";
export { directoryParseCache, type ParseCache } from "./parse-cache";
