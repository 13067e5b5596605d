/**
 * The content repository: uploads (direct, or to an id created ahead), downloads and thumbnails
 * of local media (spec: client-server-api, Content repository).
 *
 * Access rule: the spec does not tie media to rooms; knowing an `mxc://` URI is what grants
 * access. So any authenticated user of this server may fetch any local media id, and the legacy
 * unauthenticated endpoints serve it to anyone unless `media.require_auth_for_legacy` is on.
 * https://spec.matrix.org/v1.16/client-server-api/#content-repo-security-considerations
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Config, MediaConfig } from '../config/config.js';
import { MatrixError, forbidden, limitExceeded, notFound, tooLarge } from '../errors.js';
import type { Logger } from '../log.js';
import { essenceOf } from '../media/headers.js';
import { sanitizeUpload, type MediaPolicy } from '../media/sanitize/index.js';
import { MediaStore } from '../media/store.js';
import {
  chooseThumbnailSize,
  isThumbnailable,
  renderThumbnail,
  ThumbnailError,
  type ThumbnailMethod,
} from '../media/thumbnailer.js';
import {
  completePendingMedia,
  countPendingMedia,
  deleteExpiredPendingMedia,
  getMedia,
  getThumbnail,
  insertPendingMedia,
  insertThumbnail,
  insertUploadedMedia,
  isFileReferenced,
  type StoredMediaFields,
} from '../storage/media.js';
import type { DB } from '../storage/schema.js';
import type { Requester } from './sessions.js';

/** The spec's `media-id` alphabet; anything else cannot name local media. */
const MEDIA_ID_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/** The spec's default wait for a not-yet-uploaded id, and the most this server waits. */
const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_TIMEOUT_MS = 60_000;
/** How often a waiting download looks again (uploads finished by other processes). */
const POLL_INTERVAL_MS = 1_000;

/** The sanitization policy the `media` configuration describes. */
export function mediaPolicyOf(media: MediaConfig): MediaPolicy {
  return {
    allowedTypes: media.allowed_types,
    blockedTypes: media.blocked_types,
    encryptedAttachments: media.encrypted_attachments,
    blockMacroDocuments: media.block_macro_documents,
    maxArchiveExpandedBytes: media.max_archive_expanded_bytes,
    clamd: media.clamd,
  };
}

/** An upload's body and what the request said about it. */
export interface UploadInput {
  body: Readable;
  contentType: string | undefined;
  contentLength: number | undefined;
  fileName: string | undefined;
  /** The request's logger, so that log lines about the upload carry its request id. */
  log: Logger;
}

/** A stored file ready to be served. */
export interface ServableFile {
  sha256: string;
  size: number;
  contentType: string;
  fileName: string | null;
}

export interface ThumbnailRequest {
  width: number;
  height: number;
  method: ThumbnailMethod;
  animated: boolean;
}

/** Uploads, downloads and thumbnails of this server's media (the use cases behind src/api/media). */
export class Media {
  readonly store: MediaStore;
  private readonly policy: MediaPolicy;
  /** Wakes downloads waiting for an id uploaded by this process. */
  private readonly uploaded = new EventEmitter();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.store = new MediaStore(config.media.store_path);
    this.policy = mediaPolicyOf(config.media);
    this.uploaded.setMaxListeners(0);
  }

  /** The limits clients see at GET /media/config. */
  limits(): { 'm.upload.size': number } {
    return { 'm.upload.size': this.config.media.max_upload_size };
  }

  /** Stores an upload under a new media id and returns its `mxc://` URI. */
  async upload(requester: Requester, input: UploadInput): Promise<string> {
    const mediaId = newMediaId();
    const fields = await this.receive(requester, mediaId, input);
    await insertUploadedMedia(this.db, mediaId, requester.userId, fields);
    return this.mxc(mediaId);
  }

  /** Creates a media id whose content the same user uploads later (POST /media/v1/create). */
  async create(requester: Requester): Promise<{ content_uri: string; unused_expires_at: number }> {
    const now = Date.now();
    const expired = await deleteExpiredPendingMedia(this.db, now);
    if (expired > 0) this.log.debug({ count: expired }, 'expired unused media ids deleted');
    const pending = await countPendingMedia(this.db, requester.userId, now);
    if (pending >= this.config.media.max_pending_uploads) {
      // The spec asks for 429 when a user holds too many pending uploads; they free up as the
      // ids are uploaded or expire, so suggest waiting a minute.
      throw limitExceeded(60_000);
    }
    const mediaId = newMediaId();
    const expiresAt = now + this.config.media.unused_id_lifetime_ms;
    await insertPendingMedia(this.db, mediaId, requester.userId, now, expiresAt);
    return { content_uri: this.mxc(mediaId), unused_expires_at: expiresAt };
  }

  /** Uploads the content of an id created earlier by the same user. */
  async uploadTo(
    requester: Requester,
    serverName: string,
    mediaId: string,
    input: UploadInput,
  ): Promise<void> {
    const row = this.isLocal(serverName, mediaId) ? await getMedia(this.db, mediaId) : undefined;
    if (!row || isExpired(row.unused_expires_ts, row.sha256)) {
      throw notFound('Unknown media ID');
    }
    if (row.uploader !== requester.userId) {
      throw forbidden('Only the user who created this media ID may upload to it');
    }
    if (row.sha256 !== null) {
      throw new MatrixError('M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    }
    const fields = await this.receive(requester, mediaId, input);
    if (!(await completePendingMedia(this.db, mediaId, fields))) {
      // Another upload to the same id finished first; keep its file, not ours.
      await this.removeIfUnreferenced(fields.sha256);
      throw new MatrixError('M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    }
    this.uploaded.emit(mediaId);
  }

  /**
   * The stored file of a local media id. An id created but not yet uploaded is waited for up to
   * `timeoutMs` (the spec's `timeout_ms`), then refused with 504 M_NOT_YET_UPLOADED.
   */
  async getFile(
    serverName: string,
    mediaId: string,
    timeoutMs: number | undefined,
    signal: AbortSignal,
  ): Promise<ServableFile> {
    if (!this.isLocal(serverName, mediaId)) {
      // TODO: fetch remote media over federation; only this server's media is served today.
      throw notFound('Media not found');
    }
    const wait = Math.min(Math.max(0, timeoutMs ?? DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS);
    const deadline = Date.now() + wait;
    for (;;) {
      const row = await getMedia(this.db, mediaId);
      if (!row || isExpired(row.unused_expires_ts, row.sha256)) throw notFound('Media not found');
      if (row.sha256 !== null) {
        return {
          sha256: row.sha256,
          size: row.size ?? 0,
          contentType: row.content_type ?? 'application/octet-stream',
          fileName: row.upload_name,
        };
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) {
        throw new MatrixError('M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
      }
      await this.waitForUpload(mediaId, Math.min(left, POLL_INTERVAL_MS), signal);
    }
  }

  /** The thumbnail of a local image, generated on first request and cached after. */
  async getThumbnail(
    serverName: string,
    mediaId: string,
    request: ThumbnailRequest,
    timeoutMs: number | undefined,
    signal: AbortSignal,
  ): Promise<ServableFile> {
    const source = await this.getFile(serverName, mediaId, timeoutMs, signal);
    if (!isThumbnailable(source.contentType)) {
      throw new MatrixError('M_UNKNOWN', 'Cannot generate thumbnails for the requested content', {
        status: 400,
      });
    }
    const box = chooseThumbnailSize(
      request.width,
      request.height,
      request.method,
      this.config.media.thumbnail_sizes,
    );
    const key = { mediaId, ...box, animated: request.animated };
    const cached = await getThumbnail(this.db, key);
    if (cached) return thumbnailFile(cached.sha256, cached.size, cached.content_type);

    let rendered;
    try {
      rendered = await renderThumbnail(this.store.pathOf(source.sha256), box, request.animated);
    } catch (err) {
      if (!(err instanceof ThumbnailError)) throw err;
      if (err.kind === 'too_large') throw tooLarge('Content is too large to thumbnail');
      this.log.debug({ mediaId, err: err.message }, 'thumbnail failed');
      throw new MatrixError('M_UNKNOWN', 'Cannot generate thumbnails for the requested content', {
        status: 400,
      });
    }
    const sha256 = await this.store.put(rendered.bytes);
    const size = rendered.bytes.length;
    await insertThumbnail(this.db, key, {
      content_type: rendered.contentType,
      size,
      sha256,
      created_ts: Date.now(),
    });
    return thumbnailFile(sha256, size, rendered.contentType);
  }

  /**
   * Receives an upload into the store: streamed to a temporary file under the size limit, passed
   * through the sanitization pipeline, then moved into place under the sha256 of its final bytes.
   * A blocked upload is refused with 403 M_FORBIDDEN carrying the reason, and no trace of its
   * bytes stays on disk.
   */
  private async receive(
    requester: Requester,
    mediaId: string,
    input: UploadInput,
  ): Promise<StoredMediaFields> {
    const max = this.config.media.max_upload_size;
    if (input.contentLength !== undefined && input.contentLength > max) {
      input.body.resume();
      throw tooLarge(`Upload is larger than the limit of ${max} bytes`);
    }
    const received = await this.store.receive(input.body, max);
    const declaredType = input.contentType?.trim() || undefined;
    let result;
    try {
      result = await sanitizeUpload(
        {
          path: received.path,
          declaredType,
          fileName: input.fileName,
          size: received.size,
          // Matrix has no flag for encrypted attachments; clients upload them as opaque
          // application/octet-stream, which is the only hint the server gets.
          encrypted:
            declaredType === undefined || essenceOf(declaredType) === 'application/octet-stream',
        },
        this.policy,
      );
    } catch (err) {
      await this.store.discard(received.path);
      throw err;
    }
    if (result.outcome === 'blocked') {
      await this.store.discard(received.path);
      // For the admin: who tried to upload what kind of file and why it was refused (never the
      // bytes). Logged at info although it ends in a 4xx, because it is a security decision an
      // admin should be able to find, not a routine client error.
      input.log.info(
        {
          userId: requester.userId,
          mediaId,
          declaredType,
          size: received.size,
          reason: result.reason,
        },
        'upload blocked',
      );
      throw forbidden(`Upload refused: ${result.reason}`);
    }
    let finalFile = { size: received.size, sha256: received.sha256 };
    try {
      if (result.outcome === 'sanitized' || result.path !== received.path) {
        finalFile = await this.store.hashFile(result.path);
      }
      await this.store.commit(result.path, finalFile.sha256);
    } finally {
      await this.store.discard(received.path);
      await this.store.discard(result.path);
    }
    if (result.outcome === 'sanitized') {
      input.log.info(
        { userId: requester.userId, mediaId, changes: result.changes },
        'upload sanitized',
      );
    }
    return {
      upload_name: input.fileName ?? null,
      content_type: result.contentType,
      size: finalFile.size,
      sha256: finalFile.sha256,
      uploaded_ts: Date.now(),
      sanitize_outcome: result.outcome,
      sanitize_changes: JSON.stringify(result.changes),
    };
  }

  /** Deletes a stored file that no media id or thumbnail names. */
  private async removeIfUnreferenced(sha256: string): Promise<void> {
    // FIXME: an upload of the same bytes committed between this check and the delete would lose
    // its file; the window is a few milliseconds and needs identical bytes racing a refused PUT.
    if (!(await isFileReferenced(this.db, sha256))) await this.store.remove(sha256);
  }

  private waitForUpload(mediaId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((done) => {
      const finish = () => {
        this.uploaded.off(mediaId, finish);
        signal.removeEventListener('abort', finish);
        timer.abort();
        done();
      };
      const timer = new AbortController();
      sleep(ms, undefined, { signal: timer.signal }).then(finish, () => undefined);
      this.uploaded.on(mediaId, finish);
      signal.addEventListener('abort', finish);
    });
  }

  private isLocal(serverName: string, mediaId: string): boolean {
    return serverName === this.config.server_name && MEDIA_ID_PATTERN.test(mediaId);
  }

  private mxc(mediaId: string): string {
    return `mxc://${this.config.server_name}/${mediaId}`;
  }
}

function newMediaId(): string {
  // 144 random bits in the spec's media-id alphabet (URL-safe base64).
  return randomBytes(18).toString('base64url');
}

function isExpired(expiresTs: number | null, sha256: string | null): boolean {
  return sha256 === null && expiresTs !== null && expiresTs <= Date.now();
}

function thumbnailFile(sha256: string, size: number, contentType: string): ServableFile {
  const extension = contentType.split('/')[1] ?? 'bin';
  return { sha256, size, contentType, fileName: `thumbnail.${extension}` };
}
