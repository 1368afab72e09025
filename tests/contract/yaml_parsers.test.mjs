// SPDX-License-Identifier: Apache-2.0
// Tests of yaml_parsers.mjs: openapi.yaml passes both parsers, and each construct a
// strict parser refuses or reads otherwise fails the check.
//   node --test yaml_parsers.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { check } from './yaml_parsers.mjs';

function checkText(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-yaml-'));
  const file = path.join(dir, 'doc.yaml');
  fs.writeFileSync(file, text);
  try {
    return check(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('openapi.yaml reads the same in both parsers', () => {
  assert.deepEqual(check(path.resolve(import.meta.dirname, '../../openapi.yaml')), []);
});

test('a quoted scope list passes', () => {
  assert.deepEqual(checkText("scopes: ['models:write', admin]\n"), []);
});

test('a colon in a plain flow scalar fails', () => {
  const failures = checkText('scopes: [models:write, admin]\n');
  assert.equal(failures.length, 1);
  assert.match(failures[0], /line 1: plain scalar 'models:write'/);
});

test('a key given twice fails in both parsers', () => {
  const failures = checkText('a: 1\nb: 2\na: 3\n');
  assert.ok(failures.some((f) => f.startsWith('yaml (strict)')), failures.join('\n'));
  assert.ok(failures.some((f) => /libyaml: .*given twice/.test(f)), failures.join('\n'));
});

test('a scalar the two YAML versions type differently fails', () => {
  const failures = checkText('enabled: yes\n');
  assert.deepEqual(failures, ['the two parsers read it differently at /enabled: "yes" vs true']);
});

test('an unquoted date fails (a timestamp in YAML 1.1)', () => {
  const failures = checkText('day: 2026-01-02\n');
  assert.equal(failures.length, 1);
  assert.match(failures[0], /libyaml: .*not JSON serializable/);
});

test('a syntax error fails in both parsers', () => {
  const failures = checkText('a: [1, 2\n');
  assert.equal(failures.length, 2, failures.join('\n'));
});
