/**
 * A bounded HTTP/1.1 client for the HTTP tests (node:http): any method, any headers (fetch
 * will not send a foreign Host), and the first part of a server-sent event stream.
 */
import { request as httpRequest } from "node:http";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? "GET", headers: init.headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Reads `url` as an event stream until `done(text so far)` holds, then hangs up; returns the text. */
export function readEvents(url: string, done: (text: string) => boolean, timeoutMs = 5000): Promise<{ status: number; headers: Reply["headers"]; text: string }> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${url}: stream did not get there within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 300))}`));
    }, timeoutMs);
    const req = httpRequest(url, (res) => {
      res.setEncoding("utf8");
      let ended = false;
      const check = (): void => {
        if (!ended && !done(text) && res.statusCode === 200) return;
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      };
      res.on("data", (c: string) => {
        text += c;
        check();
      });
      res.on("end", () => {
        ended = true;
        check();
      });
      check();
    });
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** The `data:` payloads of one event type in an event-stream text, parsed as JSON. */
export function eventsOf(text: string, type: string): unknown[] {
  const out: unknown[] = [];
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n");
    if (!lines.includes(`event: ${type}`)) continue;
    const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
    out.push(JSON.parse(data));
  }
  return out;
}
