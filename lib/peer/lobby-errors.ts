/** What a lobby Error reply (PROTOCOL.md 4.6) means to the application: the RelayGridError code it becomes. */
import { ErrorCode } from "../errors.ts";
import { LobbyErrorCode } from "../../wire/index.ts";

/** The RelayGridError code for a lobby's Error code. */
export function errorCodeOf(code: number): ErrorCode {
  if (code === LobbyErrorCode.UnknownGrid) return ErrorCode.UnknownGrid;
  if (code === LobbyErrorCode.GridFull) return ErrorCode.GridFull;
  if (code === LobbyErrorCode.NotAdmitted) return ErrorCode.NotAdmitted;
  return ErrorCode.Rejected;
}
