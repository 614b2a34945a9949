/**
 * The public types, pinned: a change to one of them fails `vitest` (its typecheck step) here,
 * not in a user's build.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  ContextError,
  FileSystemStore,
  HttpExposedFileSystemStore,
  Image,
  ImageAttachError,
  ImageNotFoundError,
  InvalidOptionError,
  MirrorStore,
  MultipleImageSet,
  NoOriginalImageError,
  SingleImageSet,
  Store,
  ThumbnailFormat,
  UploadError,
} from '../../src/index.js';
import {
  attachedImage,
  type AttachableImage,
  type AttachedImage,
  type FileInput,
  type ImageAttachErrorCode,
  type ImageLike,
  type ListedFile,
  type Middleware,
  type StoredFileStat,
} from '../../src/index.js';
import type { S3SandboxStore, S3Store } from '../../src/s3.js';
import type { MemoryStore, PlacedSource, TestStoreCopyOptions } from '../../src/testing.js';
import { testStore } from '../../src/testing.js';

type Primitives = Pick<Store, 'putFile' | 'getFile' | 'getUrl' | 'deleteFile'>;
type Helpers = Pick<Store, 'store' | 'delete' | 'open' | 'locate' | 'middleware'>;

describe('stores', () => {
  it('keep the Store contract exactly', () => {
    expectTypeOf<Pick<FileSystemStore, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<HttpExposedFileSystemStore, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<MirrorStore, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<S3Store, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<S3SandboxStore, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<MemoryStore, keyof Primitives>>().toEqualTypeOf<Primitives>();
    expectTypeOf<Pick<FileSystemStore, keyof Helpers>>().toEqualTypeOf<Helpers>();
    expectTypeOf<Pick<S3Store, keyof Helpers>>().toEqualTypeOf<Helpers>();
  });

  it('type the primitives of the seed with positional arguments', () => {
    expectTypeOf<Store['putFile']>().parameters.toEqualTypeOf<
      [FileInput, string, bigint | number, number, number, string, boolean]
    >();
    expectTypeOf<Store['putFile']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Store['getFile']>().parameters.toEqualTypeOf<Parameters<Store['getUrl']>>();
    expectTypeOf<Store['getFile']>().returns.toEqualTypeOf<Promise<Readable>>();
    expectTypeOf<Store['getUrl']>().returns.toEqualTypeOf<string>();
    expectTypeOf<Store['deleteFile']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Store['store']>().parameters.toEqualTypeOf<[ImageLike, FileInput]>();
    expectTypeOf<Store['middleware']>().returns.toEqualTypeOf<Middleware>();
  });

  it('mark the optional capabilities optional', () => {
    expectTypeOf<Store['statFile']>().toEqualTypeOf<
      ((...key: Parameters<Store['getUrl']>) => Promise<StoredFileStat | undefined>) | undefined
    >();
    expectTypeOf<NonNullable<Store['listFiles']>>().returns.toEqualTypeOf<
      AsyncIterable<ListedFile>
    >();
  });

  it('ship the conformance suite as a function', () => {
    expectTypeOf(testStore).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(testStore).returns.toEqualTypeOf<void>();
  });

  it('give the copy option’s place the type of the store tested', () => {
    expectTypeOf<TestStoreCopyOptions<S3Store>['place']>().parameters.toEqualTypeOf<
      [S3Store, Buffer]
    >();
    expectTypeOf<TestStoreCopyOptions['place']>().returns.toEqualTypeOf<Promise<PlacedSource>>();
    expectTypeOf<PlacedSource>().toEqualTypeOf<{
      readonly source: string;
      readonly version?: string;
    }>();
    testStore('typed', () => ({}) as S3Store, {
      copy: {
        place: (store) => {
          expectTypeOf(store).toEqualTypeOf<S3Store>();
          return Promise.resolve({ source: store.bucket });
        },
      },
    });
  });
});

describe('image sets', () => {
  it('return promises of the image model', () => {
    expectTypeOf<SingleImageSet<Image>['original']>().returns.toEqualTypeOf<
      Promise<Image | null>
    >();
    expectTypeOf<SingleImageSet<Image>['requireOriginal']>().returns.toEqualTypeOf<
      Promise<Image>
    >();
    expectTypeOf<SingleImageSet<Image>['fromFile']>().returns.toEqualTypeOf<Promise<Image>>();
    expectTypeOf<SingleImageSet<Image>['generateThumbnail']>().returns.toEqualTypeOf<
      Promise<Image>
    >();
    expectTypeOf<SingleImageSet<Image>['images']>().returns.toEqualTypeOf<Promise<Image[]>>();
    expectTypeOf<SingleImageSet<Image>['toHTML']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<MultipleImageSet<Image>['count']>().returns.toEqualTypeOf<Promise<number>>();
  });

  it('give sets async srcset, toHTML and toPictureHTML taking typed options', () => {
    expectTypeOf<SingleImageSet<Image>['srcset']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<SingleImageSet<Image>['toPictureHTML']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<SingleImageSet<Image>['toPictureHTML']>()
      .parameter(0)
      .toExtend<{ formats?: readonly ThumbnailFormat[] } | undefined>();
    expectTypeOf<Image['placeholder']>().toEqualTypeOf<string | null | undefined>();
  });

  it('give an image a synchronous toHTML and locate', () => {
    expectTypeOf<Image['toHTML']>().returns.toEqualTypeOf<string>();
    expectTypeOf<Image['locate']>().returns.toEqualTypeOf<string>();
  });
});

describe('express', () => {
  it('types res.locals.image through attachedImage', () => {
    expectTypeOf(attachedImage).parameter(0).toEqualTypeOf<ServerResponse>();
    expectTypeOf(attachedImage).returns.toEqualTypeOf<AttachedImage>();
    expectTypeOf(attachedImage<Image>).returns.toEqualTypeOf<AttachedImage<Image>>();
    expectTypeOf<Image>().toExtend<AttachableImage>();
  });
});

describe('errors', () => {
  it('carry literal codes from one union', () => {
    expectTypeOf<ImageAttachError['code']>().toEqualTypeOf<ImageAttachErrorCode>();
    expectTypeOf<ImageNotFoundError['code']>().toEqualTypeOf<'ENOENT'>();
    expectTypeOf<ContextError['code']>().toEqualTypeOf<'E_NO_STORE_CONTEXT'>();
    expectTypeOf<InvalidOptionError['code']>().toEqualTypeOf<'E_INVALID_OPTION'>();
    expectTypeOf<NoOriginalImageError['code']>().toEqualTypeOf<'E_NO_ORIGINAL'>();
    expectTypeOf<InvalidOptionError['option']>().toEqualTypeOf<string>();
    expectTypeOf<UploadError['field']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ImageAttachError['status']>().toEqualTypeOf<number>();
  });

  it('keep every code but ENOENT in the E_ namespace', () => {
    expectTypeOf<Exclude<ImageAttachErrorCode, 'ENOENT'>>().toExtend<`E_${string}`>();
  });
});
