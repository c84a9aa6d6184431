import type { StoredObject } from './model';

/**
 * Stored objects are immutable and shared by every watcher, so each is encoded once, not once per
 * watcher: a change fanned out to 1,000 watch streams is stringified one time. Weak maps, so an
 * object's text goes when the object does.
 */
const objectText = new WeakMap<StoredObject, string>();
const specText = new WeakMap<StoredObject, string>();

export function objectJson(object: StoredObject): string {
  let text = objectText.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    objectText.set(object, text);
  }
  return text;
}

export function specJson(object: StoredObject): string {
  let text = specText.get(object);
  if (text === undefined) {
    text = JSON.stringify(object.spec);
    specText.set(object, text);
  }
  return text;
}
