/** Asserts that `fn` throws RelayGridError(invalid-config) with a message matching `why`. */
import * as assert from "uvu/assert";
import { ErrorCode, RelayGridError } from "../../lib/errors.ts";

export function assertInvalidConfig(fn: () => unknown, why: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RelayGridError && e.code === ErrorCode.InvalidConfig && why.test(e.message), String(e));
    return;
  }
  assert.unreachable(`no error (expected one matching ${why})`);
}
