/**
 * The image `findThumbnail(size, { fallback: 'larger' })` answers with while the asked size does
 * not exist yet (its thumbnail job has not run): the smallest image at least as large on every
 * asked side, so that a browser scales it down rather than up; when none is that large, the
 * largest there is.
 */
import type { Image } from './image.js';

export function nearestLarger<I extends Pick<Image, 'width' | 'height'>>(
  images: readonly I[],
  size: { width?: number; height?: number },
): I | undefined {
  const area = (image: I) => image.width * image.height;
  const covers = (image: I) =>
    (size.width === undefined || image.width >= size.width) &&
    (size.height === undefined || image.height >= size.height);
  const larger = images.filter(covers);
  const pool = larger.length > 0 ? larger : images;
  const pick = larger.length > 0 ? Math.min : Math.max;
  const best = pick(...pool.map(area));
  return pool.find((image) => area(image) === best);
}
