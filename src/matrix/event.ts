/** The shapes of room events: the signed server format and what clients are sent. */

/** A persistent data unit: a room event in the room version 11 format, as servers sign it. */
export interface Pdu {
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  depth: number;
  prev_events: string[];
  auth_events: string[];
  hashes: { sha256: string };
  signatures: Record<string, Record<string, string>>;
  unsigned?: Record<string, unknown>;
  /** Room versions before 11 carried the redacted event id here; 11 keeps it in content. */
  redacts?: string;
}

/** A PDU before hashing and signing. */
export type UnsignedPdu = Omit<Pdu, 'hashes' | 'signatures'>;

/** An event as the Client-Server API sends it (spec schema `ClientEvent`). */
export interface ClientEvent {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  unsigned?: Record<string, unknown>;
  redacts?: string;
}

/** Key of a state entry in maps keyed by (type, state_key). */
export function stateKey(type: string, key: string): string {
  return `${type}\u0000${key}`;
}
