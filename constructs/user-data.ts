import { gzipSync, strToU8 } from "fflate";

/** EC2 rejects user data over 16 KiB (before base64). */
export const USER_DATA_LIMIT = 16384;

/**
 * Cloud-init user data as EC2 takes it: gzip (cloud-init detects and inflates it), then base64.
 * Done here rather than with Terraform's `base64gzip()` so the text never passes through HCL
 * string escaping (shell `${…}`, quotes, backslashes stay exactly as rendered). A pure-JS gzip with
 * a fixed timestamp keeps the bytes identical across machines and Node versions, so an unchanged
 * spec never rolls a launch template.
 */
export function userDataBase64(userData: string): string {
  const gz = gzipSync(strToU8(userData), { level: 9, mtime: 0 });
  if (gz.length > USER_DATA_LIMIT) {
    throw new Error(`user data is ${gz.length} bytes compressed, over EC2's ${USER_DATA_LIMIT}; move large files out of the node configuration`);
  }
  return Buffer.from(gz).toString("base64");
}
