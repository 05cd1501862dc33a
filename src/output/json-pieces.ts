/** About how many bytes a piece holds: enough to keep a compressor or a pipe busy, well below V8's large-object size. */
const PIECE = 64 * 1024;

/**
 * The UTF-8 bytes of `${JSON.stringify(value, null, indent)}\n`, byte for byte, in pieces of
 * about 64 KB: the elements of the array under `key` are serialised and encoded one by one, so
 * the report of a large fleet is never one string (35 MB at 10,000 endpoints, pretty-printed).
 *
 * Each element is encoded on its own because one character outside Latin-1 (an em dash in an
 * error message) makes V8 hold a whole joined string in two bytes a character, and encoding that
 * costs several times more: at 10,000 endpoints with 500 such errors, half a second.
 */
export function* jsonPieces<T extends object>(value: T, key: keyof T & string, indent = 0): Generator<Buffer> {
  const list = value[key] as unknown[];
  // The other fields, serialised whole, around a marker that no field before `key` can hold.
  const marker = JSON.stringify(`\u0000${key}`);
  const skeleton = JSON.stringify({ ...value, [key]: `\u0000${key}` }, null, indent);
  const at = skeleton.indexOf(marker);
  const inner = indent > 0 ? `\n${' '.repeat(2 * indent)}` : '';
  const outer = indent > 0 ? `\n${' '.repeat(indent)}` : '';
  let parts: Buffer[] = [Buffer.from(`${skeleton.slice(0, at)}[`)];
  let size = parts[0]!.length;
  for (let i = 0; i < list.length; i++) {
    const text = JSON.stringify(list[i], null, indent) ?? 'null';
    const bytes = Buffer.from(`${i === 0 ? '' : ','}${inner}${inner === '' ? text : text.replaceAll('\n', inner)}`);
    parts.push(bytes);
    size += bytes.length;
    if (size >= PIECE) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  parts.push(Buffer.from(`${list.length > 0 ? outer : ''}]${skeleton.slice(at + marker.length)}\n`));
  yield Buffer.concat(parts);
}
