-- The content repository: uploaded files and their cached thumbnails (spec: client-server-api,
-- Content repository). The bytes live on disk, named by their sha256, so identical uploads are
-- stored once; these tables hold what the server knows about each media id.

CREATE TABLE media (
  media_id text PRIMARY KEY,
  uploader text NOT NULL,
  created_ts bigint NOT NULL,
  unused_expires_ts bigint,
  upload_name text,
  content_type text,
  size bigint,
  sha256 text,
  uploaded_ts bigint,
  sanitize_outcome text,
  sanitize_changes text
);
COMMENT ON TABLE media IS 'one row per local mxc:// id, created by an upload or by POST /media/v1/create';
COMMENT ON COLUMN media.uploader IS 'user id of the creator; only they may upload to a created id';
COMMENT ON COLUMN media.unused_expires_ts IS 'for an id created before its upload: when it expires unless uploaded; null otherwise';
COMMENT ON COLUMN media.upload_name IS 'the filename the uploader gave, served in Content-Disposition';
COMMENT ON COLUMN media.content_type IS 'type of the stored (sanitized) bytes; null until uploaded';
COMMENT ON COLUMN media.sha256 IS 'hex sha256 of the stored bytes, which names the file in the store; null until uploaded';
COMMENT ON COLUMN media.sanitize_outcome IS 'clean or sanitized: what the sanitization pipeline did';
COMMENT ON COLUMN media.sanitize_changes IS 'JSON array of the changes the pipeline made, for admins';
CREATE INDEX media_pending ON media (uploader, unused_expires_ts) WHERE sha256 IS NULL;
CREATE INDEX media_sha256 ON media (sha256);

CREATE TABLE media_thumbnails (
  media_id text NOT NULL REFERENCES media (media_id) ON DELETE CASCADE,
  width integer NOT NULL,
  height integer NOT NULL,
  method text NOT NULL,
  animated boolean NOT NULL,
  content_type text NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  created_ts bigint NOT NULL,
  PRIMARY KEY (media_id, width, height, method, animated)
);
COMMENT ON TABLE media_thumbnails IS 'thumbnails generated once on request, stored in the same content-addressed store';
COMMENT ON COLUMN media_thumbnails.width IS 'the width of the size box generated (the image may be smaller for scale)';
COMMENT ON COLUMN media_thumbnails.height IS 'the height of the size box generated';
COMMENT ON COLUMN media_thumbnails.animated IS 'whether the thumbnail keeps the animation of its source';
CREATE INDEX media_thumbnails_sha256 ON media_thumbnails (sha256);
