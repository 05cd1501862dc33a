/** About how much text a piece holds: enough to keep a compressor or a pipe busy, well below V8's large-object size. */
const PIECE = 64 * 1024;

/**
 * The text of `${JSON.stringify(value, null, indent)}\n`, byte for byte, in pieces of about
 * 64 KB: the elements of the array under `key` are serialised one by one, so the report of a
 * large fleet never becomes one string (35 MB at 10,000 endpoints, pretty-printed).
 */
export function* jsonPieces<T extends object>(value: T, key: keyof T & string, indent = 0): Generator<string> {
  const list = value[key] as unknown[];
  // The other fields, serialised whole, around a marker that no field before `key` can hold.
  const marker = JSON.stringify(`\u0000${key}`);
  const skeleton = JSON.stringify({ ...value, [key]: `\u0000${key}` }, null, indent);
  const at = skeleton.indexOf(marker);
  const inner = indent > 0 ? `\n${' '.repeat(2 * indent)}` : '';
  const outer = indent > 0 ? `\n${' '.repeat(indent)}` : '';
  let piece = `${skeleton.slice(0, at)}[`;
  for (let i = 0; i < list.length; i++) {
    const text = JSON.stringify(list[i], null, indent) ?? 'null';
    piece += `${i === 0 ? '' : ','}${inner}${inner === '' ? text : text.replaceAll('\n', inner)}`;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}${list.length > 0 ? outer : ''}]${skeleton.slice(at + marker.length)}\n`;
}
