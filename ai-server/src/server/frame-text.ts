/**
 * The UTF-8 JSON of a frame, made once per frame object: a frame sent to many sockets (a
 * `history` several joins share, a live frame to every watcher) is serialised and encoded
 * once, and its bytes are shared by every socket's queue.
 */
const encoded = new WeakMap<object, Buffer>();

export function frameBytes(frame: object): Buffer {
  let bytes = encoded.get(frame);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(frame), 'utf8');
    encoded.set(frame, bytes);
  }
  return bytes;
}
