// The JSON Schema of the config file, from the options table, for editors
// (`# yaml-language-server: $schema=…`) and for tools that check configs before they ship.
// The loader stays the judge: it also checks what a schema cannot (files, groups, names).
import type { AnyOption, Mapping } from './options.js';
import { ROOT } from './options.js';
import type { JsonSchema } from './values.js';

/** An empty value (`scan:`) means "not set" to the loader. */
function orNull(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}

function optionSchema(o: AnyOption): JsonSchema {
  const value = o.presence === 'required' ? o.type.schema : orNull(o.type.schema);
  const out: JsonSchema = { description: o.description, ...value };
  if (o.presence === 'default') out.default = o.default;
  return out;
}

function objectSchema(m: Mapping): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, child] of Object.entries(m.children)) {
    properties[name] = child.kind === 'option' ? optionSchema(child) : mappingSchema(child);
    if (child.kind === 'option' ? child.presence === 'required' : child.required) required.push(name);
  }
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false, ...m.schemaExtra };
}

function mappingSchema(m: Mapping): JsonSchema {
  const value = m.list ? { type: 'array', items: objectSchema(m), ...(m.required ? { minItems: 1 } : {}) } : objectSchema(m);
  return { description: m.description, ...(m.required ? value : orNull(value)) };
}

export function configSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'chainwatch configuration',
    ...objectSchema(ROOT),
  };
}
