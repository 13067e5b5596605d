/** Media ids, their stored files' metadata, and cached thumbnails (the content repository). */
import type { Executor } from './database.js';
import type { MediaRow, MediaThumbnailRow } from './schema.js';

export type { MediaRow, MediaThumbnailRow };

/** What is recorded once an upload's bytes are stored. */
export interface StoredMediaFields {
  upload_name: string | null;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_ts: number;
  sanitize_outcome: string;
  sanitize_changes: string;
}

/** Records a media id whose bytes are already stored (POST /upload). */
export async function insertUploadedMedia(
  db: Executor,
  mediaId: string,
  uploader: string,
  fields: StoredMediaFields,
): Promise<void> {
  await db
    .insertInto('media')
    .values({
      media_id: mediaId,
      uploader,
      created_ts: fields.uploaded_ts,
      unused_expires_ts: null,
      ...fields,
    })
    .execute();
}

/** Records a media id created ahead of its upload (POST /create), expiring at `expiresTs`. */
export async function insertPendingMedia(
  db: Executor,
  mediaId: string,
  uploader: string,
  createdTs: number,
  expiresTs: number,
): Promise<void> {
  await db
    .insertInto('media')
    .values({ media_id: mediaId, uploader, created_ts: createdTs, unused_expires_ts: expiresTs })
    .execute();
}

/**
 * Fills in a pending media id with its stored bytes. Returns false when the id was uploaded in the
 * meantime (or has gone), so that the caller can refuse the second upload.
 *
 * ```sql
 * UPDATE media SET ... WHERE media_id = $1 AND sha256 IS NULL
 * ```
 */
export async function completePendingMedia(
  db: Executor,
  mediaId: string,
  fields: StoredMediaFields,
): Promise<boolean> {
  const result = await db
    .updateTable('media')
    .set({ ...fields, unused_expires_ts: null })
    .where('media_id', '=', mediaId)
    .where('sha256', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A media id's row, uploaded or not. */
export async function getMedia(db: Executor, mediaId: string): Promise<MediaRow | undefined> {
  return db.selectFrom('media').selectAll().where('media_id', '=', mediaId).executeTakeFirst();
}

/** How many created ids of a user are neither uploaded nor expired at `now`. */
export async function countPendingMedia(
  db: Executor,
  uploader: string,
  now: number,
): Promise<number> {
  const row = await db
    .selectFrom('media')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('uploader', '=', uploader)
    .where('sha256', 'is', null)
    .where('unused_expires_ts', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deletes created ids that were never uploaded and expired before `now`; returns how many. */
export async function deleteExpiredPendingMedia(db: Executor, now: number): Promise<number> {
  const result = await db
    .deleteFrom('media')
    .where('sha256', 'is', null)
    .where('unused_expires_ts', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Whether any media or thumbnail row still names the stored file `sha256`. */
export async function isFileReferenced(db: Executor, sha256: string): Promise<boolean> {
  const media = await db
    .selectFrom('media')
    .select('media_id')
    .where('sha256', '=', sha256)
    .limit(1)
    .executeTakeFirst();
  if (media) return true;
  const thumbnail = await db
    .selectFrom('media_thumbnails')
    .select('media_id')
    .where('sha256', '=', sha256)
    .limit(1)
    .executeTakeFirst();
  return thumbnail !== undefined;
}

export interface ThumbnailKey {
  mediaId: string;
  width: number;
  height: number;
  method: string;
  animated: boolean;
}

/** The cached thumbnail of a media id at one size box, method and animation choice. */
export async function getThumbnail(
  db: Executor,
  key: ThumbnailKey,
): Promise<MediaThumbnailRow | undefined> {
  return db
    .selectFrom('media_thumbnails')
    .selectAll()
    .where('media_id', '=', key.mediaId)
    .where('width', '=', key.width)
    .where('height', '=', key.height)
    .where('method', '=', key.method)
    .where('animated', '=', key.animated)
    .executeTakeFirst();
}

/** Caches a generated thumbnail; a concurrent request that stored the same key first wins. */
export async function insertThumbnail(
  db: Executor,
  key: ThumbnailKey,
  file: { content_type: string; size: number; sha256: string; created_ts: number },
): Promise<void> {
  await db
    .insertInto('media_thumbnails')
    .values({
      media_id: key.mediaId,
      width: key.width,
      height: key.height,
      method: key.method,
      animated: key.animated,
      ...file,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}
