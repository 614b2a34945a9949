/**
 * A real store with failures switched on at will: every put, or every delete, fails while its
 * switch is on. The switches are shorthands for {@link FaultStore} rules.
 */
import { OrphanFileWarning } from '../../src/index.js';
import { FaultStore, type FaultOperation } from '../support/fault-store.js';

export class FailingStore extends FaultStore {
  #failing = new Set<FaultOperation>();

  get failPuts(): boolean {
    return this.#failing.has('putFile');
  }

  set failPuts(on: boolean) {
    this.#switch('putFile', on);
  }

  get failDeletes(): boolean {
    return this.#failing.has('deleteFile');
  }

  set failDeletes(on: boolean) {
    this.#switch('deleteFile', on);
  }

  #switch(operation: FaultOperation, on: boolean): void {
    this.clear(operation);
    this.#failing.delete(operation);
    if (!on) return;
    this.#failing.add(operation);
    this.fail({ operation, times: Infinity });
  }
}

/** Collects the library's orphan-file warnings until `stop()`; `first` resolves with the first. */
export function captureWarnings(): {
  list: OrphanFileWarning[];
  first: Promise<OrphanFileWarning>;
  stop: () => void;
} {
  const list: OrphanFileWarning[] = [];
  let resolveFirst!: (warning: OrphanFileWarning) => void;
  const first = new Promise<OrphanFileWarning>((resolve) => (resolveFirst = resolve));
  const listener = (warning: Error) => {
    if (!(warning instanceof OrphanFileWarning)) return;
    list.push(warning);
    resolveFirst(warning);
  };
  process.on('warning', listener);
  return { list, first, stop: () => process.off('warning', listener) };
}
