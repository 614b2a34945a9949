/**
 * Where an S3 object is reachable, by calculation only: `getUrl` is synchronous and must not
 * ask the SDK, whose region and endpoint providers are asynchronous.
 */

export interface ObjectUrlOptions {
  bucket: string;
  /** Without a trailing `/`. */
  publicBaseUrl: string | undefined;
  region: string | undefined;
  endpoint: string | undefined;
  forcePathStyle: boolean;
}

/**
 * `publicBaseUrl/key`; else, on a custom endpoint, `endpoint/bucket/key` (path style) or
 * `scheme://bucket.host/key`; else on AWS `https://bucket.s3[.region].amazonaws.com/key`, as the
 * original builds it (path style when asked, or when the bucket has a dot, which no wildcard
 * certificate covers).
 */
export function objectUrl(options: ObjectUrlOptions, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const { bucket, publicBaseUrl, region, endpoint, forcePathStyle } = options;
  if (publicBaseUrl !== undefined) return `${publicBaseUrl}/${path}`;
  if (endpoint !== undefined) {
    const base = new URL(endpoint);
    const basePath = base.pathname.replace(/\/+$/, '');
    if (forcePathStyle) return `${base.origin}${basePath}/${bucket}/${path}`;
    return `${base.protocol}//${bucket}.${base.host}${basePath}/${path}`;
  }
  const host = region === undefined ? 's3.amazonaws.com' : `s3.${region}.amazonaws.com`;
  if (forcePathStyle || bucket.includes('.')) return `https://${host}/${bucket}/${path}`;
  return `https://${bucket}.${host}/${path}`;
}
