/**
 * The JSON text of a frame, made once per frame object: a frame sent to many sockets (a
 * `history` several joins share, a live frame to every watcher) is serialised once.
 */
const texts = new WeakMap<object, string>();

export function frameText(frame: object): string {
  let text = texts.get(frame);
  if (text === undefined) {
    text = JSON.stringify(frame);
    texts.set(frame, text);
  }
  return text;
}
