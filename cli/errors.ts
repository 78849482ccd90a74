/**
 * Errors a command reports to the operator: what failed, and what to do about it.
 */

export class CliError extends Error {
  /**
   * @param message what failed
   * @param hint what the operator can do about it
   * @param exitCode process exit code (default 1)
   */
  constructor(message: string, readonly hint?: string, readonly exitCode: number = 1) {
    super(message);
    this.name = "CliError";
  }
}

/** The AWS SDK error fields we look at. */
interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly Code?: string;
}

/**
 * Turns an AWS SDK error into a CliError that says what the operator should do. `action` names
 * the call, e.g. "ec2:DescribeInstances in eu-central-1".
 */
export function explainAwsError(err: unknown, action: string): Error {
  if (err instanceof CliError) return err;
  const e = (err ?? {}) as AwsErrorLike;
  const name = e.name ?? e.Code ?? "Error";
  const message = e.message ?? String(err);
  if (name === "CredentialsProviderError" || /could not load credentials/i.test(message)) {
    return new CliError(`${action}: no AWS credentials found.`, "Set AWS_PROFILE (and run `aws sso login` for SSO profiles) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then retry.");
  }
  if (/ExpiredToken|RequestExpired|TokenRefreshRequired/.test(name) || /token.*expired/i.test(message)) {
    return new CliError(`${action}: the AWS credentials have expired.`, "Refresh them (e.g. `aws sso login --profile $AWS_PROFILE`) and retry.");
  }
  if (/InvalidClientTokenId|UnrecognizedClientException|AuthFailure|SignatureDoesNotMatch/.test(name)) {
    return new CliError(`${action}: AWS rejected the credentials (${name}).`, "Check AWS_PROFILE / AWS_ACCESS_KEY_ID: the key is unknown or revoked.");
  }
  if (/AccessDenied|UnauthorizedOperation|AccessDeniedException/.test(name)) {
    return new CliError(`${action}: access denied (${message}).`, "Grant the calling principal this action; `bitte deployer-policy` prints what deploying needs.");
  }
  return new CliError(`${action} failed: ${name}: ${message}`);
}

/** Runs an AWS call, translating its errors. */
export async function awsCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw explainAwsError(err, action);
  }
}
