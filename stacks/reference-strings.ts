/**
 * Strings for `stacks/startup.ts`'s resolver: which are plain (resolve to themselves), and the
 * commonest string that is not, one whose tokens are all references (`vpc.id`,
 * `remoteState.getString(…)`, `${aws_subnet.x.id}` in a policy document): four thousand per
 * pass over the 16-region cluster, each of which costs cdktf's resolver a dozen contexts, three
 * tokenizer passes and the fragment machinery.
 *
 * What cdktf 0.21.0 does with such a string at the top of a configuration (lib/tokens/private/
 * resolve.js string branch, resolvable.js `resolveString`/`resolveToken`, string-fragments.js
 * `mapTokens`/`join`): it splits it into literals and tokens, resolves each token in a context
 * whose `suppressBraces` is unset unless an escape `${` precedes it, re-resolves what the token
 * returns, joins the pieces as strings, and then decodes number tokens in the result. A
 * `Reference` (lib/tfExpression.js) resolves to `${identifier}`, or to its cross-stack
 * identifier, registering the cross-stack reference in the preparing run. So for a string with
 * no escape, no list or map marker, and tokens that are all references returning plain strings,
 * the result is the literals with each token replaced by what `Reference.resolve` returns, and
 * that is what is computed here, calling the real `Reference.resolve` (cross-stack references
 * included). Anything else, and a result in which cdktf would look for number tokens, is left
 * to cdktf (undefined). Installed only over the code it was written against (cdktf-internals.ts).
 */
import { cdktfModule, unchanged } from "./cdktf-internals";

interface Context {
  readonly scope: unknown;
  readonly preparing: boolean;
  suppressBraces?: boolean;
}
interface Resolvable {
  resolve(context: Context): unknown;
}

const { Token } = cdktfModule<{ Token: { STRING_MAP_TOKEN_VALUE: string; ANY_MAP_TOKEN_VALUE: string } }>("tokens/token");
const { TokenMap } = cdktfModule<{ TokenMap: { instance(): { stringTokenMap: Map<string, unknown> } } }>("tokens/private/token-map");
const { ref } = cdktfModule<{ ref(identifier: string, stack: unknown): object }>("tfExpression");
const { DefaultTokenResolver } = cdktfModule<{ DefaultTokenResolver: { prototype: Record<string, unknown> } }>("tokens/resolvable");
const { TokenizedStringFragments } = cdktfModule<{ TokenizedStringFragments: { prototype: Record<string, unknown> } }>("tokens/string-fragments");
const { TokenString } = cdktfModule<{ TokenString: { prototype: Record<string, unknown> } }>("tokens/private/encoding");
const resolveModule = cdktfModule<{ resolve: unknown }>("tokens/private/resolve");

/** cdktf's `Reference` (not exported). */
const Reference = (Object.getPrototypeOf(ref("", undefined)) as { constructor: unknown }).constructor as { prototype: Resolvable };

// cdktf's NUMBER_TOKEN_REGEX (tokens/private/encoding.js), unanchored and without the g flag.
const NUMBER_TOKEN = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;
// cdktf's STRING_TOKEN_REGEX: `${TfToken[` key `]}`, the key in VALID_KEY_CHARS.
const STRING_TOKEN = /\$\{TfToken\[([a-zA-Z0-9:._-]+)\]\}/g;

/** A string cdktf's resolver gives back unchanged: no token marker, no number-token look-alike, not a map token's value. */
export function plainString(s: string): boolean {
  return !s.includes("TfToken[") && !NUMBER_TOKEN.test(s) && s !== Token.STRING_MAP_TOKEN_VALUE && s !== Token.ANY_MAP_TOKEN_VALUE;
}

/**
 * Whether the shortcut is in use (false: cdktf is not the code it reproduces). resolve.js's
 * `resolve` is fingerprinted here, before startup.ts replaces it.
 */
export const referenceStringsTrimmed = unchanged(
  {
    resolve: "c994da7dc9aece4b",
    resolveToken: "a38e29e43cb67b46",
    resolveString: "9a9390204dc5d13d",
    mapTokens: "2e75d7279e090eba",
    join: "d0598b879cd34d49",
    referenceResolve: "04e95cd69ef257c1",
    split: "df7dd57afaf54f72",
    tokenizeNext: "ac2bbef3516dff76",
  },
  {
    resolve: resolveModule.resolve,
    resolveToken: DefaultTokenResolver.prototype.resolveToken,
    resolveString: DefaultTokenResolver.prototype.resolveString,
    mapTokens: TokenizedStringFragments.prototype.mapTokens,
    join: TokenizedStringFragments.prototype.join,
    referenceResolve: Reference.prototype.resolve,
    split: TokenString.prototype.split,
    tokenizeNext: TokenString.prototype.tokenizeNext,
  },
);
const tokens = TokenMap.instance().stringTokenMap;

/**
 * A string whose tokens are all references, resolved as cdktf's resolver resolves it at the top
 * of a configuration (`scope` the stack, `preparing` the run); undefined for anything else.
 */
export function resolveReferenceString(s: string, scope: unknown, preparing: boolean): string | undefined {
  if (!referenceStringsTrimmed || s.includes("#{TfToken[") || s.includes("&{TfToken[")) return undefined;
  let out = "";
  let last = 0;
  STRING_TOKEN.lastIndex = 0;
  for (let m = STRING_TOKEN.exec(s); m !== null; m = STRING_TOKEN.exec(s)) {
    const literal = s.slice(last, m.index);
    // An escape changes how the tokens after it resolve (no braces).
    if (literal.includes("${")) return undefined;
    const token = tokens.get(m[1]);
    if (token === undefined || (token as object).constructor !== Reference) return undefined;
    let value: unknown;
    try {
      value = (token as Resolvable).resolve({ scope, preparing, suppressBraces: undefined });
    } catch {
      // cdktf's resolver raises it again, with its message (registering is idempotent).
      return undefined;
    }
    if (typeof value !== "string" || !plainString(value)) return undefined;
    out += literal + value;
    last = STRING_TOKEN.lastIndex;
  }
  const rest = s.slice(last);
  if (rest.includes("${")) return undefined;
  out += rest;
  return plainString(out) ? out : undefined;
}
