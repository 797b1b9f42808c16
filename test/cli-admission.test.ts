/**
 * Issue 18 item 7 from the command line, as real processes on 127.0.0.1 (every wait bounded):
 * `relaygrid lobby --join-token-keys` admits only `relaygrid peer --token` holders; a peer
 * without a token, or with a bad one, prints one line and exits 2 (the caller must bring a
 * valid token).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createJoinToken, createJoinTokenKeys } from "../platform/node/index.ts";
import { lineOf, runCli, startCli, within } from "./support/cli-process.ts";

const START_MS = 20_000;
const EXIT_MS = 10_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("cli: lobby --join-token-keys admits a peer --token holder and refuses one without a token with one line and exit 2", async () => {
  const keys = createJoinTokenKeys();
  const lobby = startCli(["lobby", "--host", "127.0.0.1", "--port", "0", "--join-token-keys", hex(keys.publicKey)]);
  try {
    const addr = (await lineOf(lobby, /^relaygrid lobby listening on (\S+)/, START_MS))[1] as string;
    const token = hex(createJoinToken({ secretKey: keys.secretKey, grid: "cup-final", player: "p1" }));
    const holder = startCli(["peer", "-l", addr, "-g", "cup-final", "-c", "--token", token], { stdin: true });
    try {
      await lineOf(holder, /^joined grid "cup-final" as peer \d+/, START_MS);
      const stranger = await runCli(["peer", "-l", addr, "-g", "cup-final"]);
      assert.is(stranger.code, 2, stranger.err.join("\n"));
      assert.equal(stranger.err.length, 1, stranger.err.join("\n"));
      assert.match(stranger.err[0] ?? "", /^relaygrid peer: .*no join token for grid "cup-final"/);
      // The holder's token, copied to a second client, admits nobody else.
      const copy = await runCli(["peer", "-l", addr, "-g", "cup-final", "--token", token]);
      assert.is(copy.code, 2, copy.err.join("\n"));
      assert.match(copy.err[0] ?? "", /already used by another session/);
      holder.child.stdin?.end();
      assert.is(await within("the holder exits after stdin ends", EXIT_MS, holder.exited), 0);
    } finally {
      holder.kill();
    }
  } finally {
    lobby.kill();
  }
});

test("cli: --token that is not hex, and --join-token-keys that is not a key, are one-line caller mistakes (exit 2)", async () => {
  const token = await runCli(["peer", "-l", "127.0.0.1:9", "--token", "xyz"]);
  assert.is(token.code, 2);
  assert.equal(token.err.length, 1, token.err.join("\n"));
  assert.match(token.err[0] ?? "", /--token must be hex/);
  const keys = await runCli(["lobby", "--port", "0", "--join-token-keys", "abcd"]);
  assert.is(keys.code, 2);
  assert.equal(keys.err.length, 1, keys.err.join("\n"));
  assert.match(keys.err[0] ?? "", /joinTokenKeys\[0\] must be 32 bytes or 64 hex characters/);
});

test.run();
