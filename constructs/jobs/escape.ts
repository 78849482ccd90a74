/**
 * Terraform reads `${` and `%{` in any string of the configuration as interpolation and template
 * directives. A jobspec embedded verbatim would have its HCL2 expressions (`${var.datacenters}`,
 * `${node.class}`) evaluated by Terraform instead of Nomad; doubling the sigil makes Terraform
 * pass them through literally (`$${` → `${`, `%%{` → `%{`).
 */
export function terraformLiteral(text: string): string {
  // Replacement functions, not strings: in a replacement string `$$` means one `$`.
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** What Terraform makes of a string written by `terraformLiteral`: the inverse, for tests. */
export function terraformUnescape(text: string): string {
  return text.replace(/\$\$\{/g, () => "${").replace(/%%\{/g, () => "%{");
}
