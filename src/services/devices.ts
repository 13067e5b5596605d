/** A user's devices (spec: client-server-api, Device Management). */
import type { Kysely } from 'kysely';
import { notFound } from '../errors.js';
import type { DB, Device } from '../storage/schema.js';
import {
  deleteDevices,
  getDevice,
  listDevices,
  updateDeviceDisplayName,
} from '../storage/devices.js';

/** A device as the spec's `Device` schema shows it. */
export interface ClientDevice {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

function toClientDevice(device: Device): ClientDevice {
  return {
    device_id: device.device_id,
    ...(device.display_name !== null ? { display_name: device.display_name } : {}),
    ...(device.last_seen_ip !== null ? { last_seen_ip: device.last_seen_ip } : {}),
    ...(device.last_seen_ts !== null ? { last_seen_ts: device.last_seen_ts } : {}),
  };
}

export class Devices {
  constructor(private readonly db: Kysely<DB>) {}

  async list(userId: string): Promise<ClientDevice[]> {
    return (await listDevices(this.db, userId)).map(toClientDevice);
  }

  /** One of the user's devices, or 404 M_NOT_FOUND. */
  async get(userId: string, deviceId: string): Promise<ClientDevice> {
    const device = await getDevice(this.db, userId, deviceId);
    if (!device) throw notFound('Unknown device');
    return toClientDevice(device);
  }

  /** Renames a device; 404 when the user has no such device. */
  async rename(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    if (!(await updateDeviceDisplayName(this.db, userId, deviceId, displayName))) {
      throw notFound('Unknown device');
    }
  }

  /** Deletes devices and so revokes their access tokens; unknown ids are ignored. */
  async delete(userId: string, deviceIds: readonly string[]): Promise<void> {
    await deleteDevices(this.db, userId, deviceIds);
  }
}
