import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { chooseThumbnailSize, isThumbnailable, MAX_GENERATED_SIDE } from './thumbnailer.js';

const sizes = parseConfig({}, {}).media.thumbnail_sizes;

describe('chooseThumbnailSize', () => {
  it.each([
    [96, 96, 'crop', { width: 96, height: 96, method: 'crop' }],
    [40, 40, 'crop', { width: 96, height: 96, method: 'crop' }],
    [10, 10, 'crop', { width: 32, height: 32, method: 'crop' }],
    [64, 64, 'scale', { width: 320, height: 240, method: 'scale' }],
    [700, 500, 'scale', { width: 800, height: 600, method: 'scale' }],
    [120, 120, 'crop', { width: 120, height: 120, method: 'crop' }],
    [5000, 900, 'scale', { width: MAX_GENERATED_SIDE, height: 900, method: 'scale' }],
  ] as const)('serves %ix%i %s with %o', (width, height, method, expected) => {
    expect(chooseThumbnailSize(width, height, method, sizes)).toEqual(expected);
  });
});

describe('isThumbnailable', () => {
  it('takes raster images but not SVG or documents', () => {
    expect(isThumbnailable('image/jpeg')).toBe(true);
    expect(isThumbnailable('image/svg+xml')).toBe(false);
    expect(isThumbnailable('application/pdf')).toBe(false);
  });
});
