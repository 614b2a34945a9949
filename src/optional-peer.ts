/**
 * Optional peer dependencies: telling "this package is not installed", which becomes a
 * `MissingDependencyError` naming the install command, from a failure inside an installed
 * package, which is reported as it is.
 */

/**
 * Whether loading `name` failed because `name` itself is not installed: `require()`'s
 * `MODULE_NOT_FOUND` or `import()`'s `ERR_MODULE_NOT_FOUND`, naming that package (and not one
 * it imports).
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as NodeJS.ErrnoException;
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}
