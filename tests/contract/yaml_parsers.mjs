#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// openapi.yaml must read the same in every YAML parser a client may use, not only
// in a forgiving one. Two independent parsers read it:
//   - eemeli/yaml (npm `yaml`, pure JavaScript, YAML 1.2 core schema), strict:
//     duplicate keys, warnings and every other error refuse the document;
//   - libyaml (C, YAML 1.1) through PyYAML's C loader (Debian python3-yaml), with
//     duplicate keys and ':' inside flow scalars refused (yaml_libyaml.py).
// They share no code and follow different YAML versions, so a construct one of them
// reads otherwise than the other (yes/no, octal, dates, 1:20) shows as a difference
// between the two documents, which fails too.
//   node yaml_parsers.mjs [file.yaml ...]   (default: ../../openapi.yaml)
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The strict parse; returns {doc} or {errors: [text]}.
export function parseStrict(text) {
  const doc = YAML.parseDocument(text, { strict: true, uniqueKeys: true, prettyErrors: true, version: '1.2' });
  const errors = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (errors.length) return { errors };
  return { doc: doc.toJS({ maxAliasCount: 0 }) };
}

// libyaml's parse as JSON; returns {doc} or {errors: [text]}.
export function parseLibyaml(file) {
  try {
    const out = execFileSync('python3', [path.join(HERE, 'yaml_libyaml.py'), file], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { doc: JSON.parse(out) };
  } catch (e) {
    return { errors: [String(e.stderr || e.message).trim()] };
  }
}

// The first path where a and b differ, or null.
export function firstDifference(a, b, at = '') {
  if (isDeepStrictEqual(a, b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}/${k}`);
      if (d) return d;
    }
  }
  return `${at || '/'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

export function check(file) {
  const failures = [];
  const strict = parseStrict(fs.readFileSync(file, 'utf8'));
  const libyaml = parseLibyaml(file);
  for (const e of strict.errors || []) failures.push(`yaml (strict): ${e}`);
  for (const e of libyaml.errors || []) failures.push(e);
  if (strict.doc !== undefined && libyaml.doc !== undefined) {
    const d = firstDifference(strict.doc, libyaml.doc);
    if (d) failures.push(`the two parsers read it differently at ${d}`);
  }
  return failures;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : [path.resolve(HERE, '../../openapi.yaml')];
  let failed = 0;
  for (const f of files) {
    const failures = check(f);
    for (const m of failures) console.log(`FAIL ${f}: ${m}`);
    if (failures.length) failed++;
    else console.log(`${f}: yaml (strict, YAML 1.2) and libyaml (YAML 1.1) read the same document`);
  }
  process.exitCode = failed ? 1 : 0;
}
