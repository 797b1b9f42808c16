// The error types live in wire/ (the lowest layer) so the codec can throw them too;
// lib/ code imports them from here.
export { checkInt, ErrorCode, RelayGridError } from "../wire/errors.ts";
