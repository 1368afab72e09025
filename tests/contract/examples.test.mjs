// SPDX-License-Identifier: Apache-2.0
// Every request example of openapi.yaml, run in document order against an empty
// carbontree, gets the status it documents, and its answer validates against the
// contract (validate.mjs). Each example also validates against its request schema
// with standard JSON Schema 2020-12 (the linter checks examples more loosely).
//
// An example's request is its operation with:
//   - path parameters from the parameters' own examples, or from the example's
//     x-path-parameters (e.g. {namespace: acme, name: llama-3.1-8b-support});
//   - the admin token of the test's server as bearer token, and a fresh
//     Idempotency-Key where the operation takes one;
// and its documented status is the operation's first 2xx answer, or the example's
// x-status where the operation has several (PUT answers 201 when it creates).
// A reader who runs the examples in order on an empty server gets the same
// statuses, and no example deletes what the reader made.
//   CARBONTREE_BIN=build/dev/carbontree node --test examples.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createValidator, loadSpec } from './validate.mjs';
import { startServer } from './server.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const doc = loadSpec();
const validator = createValidator(doc);
let server;

function deref(node) {
  while (node && node.$ref) {
    node = node.$ref
      .slice(2)
      .split('/')
      .reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return node;
}

// Every request example, in document order.
export function requestExamples() {
  const list = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method];
      const body = deref(op.requestBody);
      const examples = body?.content?.['application/json']?.examples || {};
      const params = [...(item.parameters || []), ...(op.parameters || [])].map(deref);
      const success = Object.keys(op.responses).find((s) => /^2/.test(s));
      for (const [name, ex] of Object.entries(examples)) {
        const example = deref(ex);
        list.push({ template, method, name, example, params, status: Number(example['x-status'] ?? success) });
      }
    }
  }
  return list;
}

function target(template, params, example) {
  const given = example['x-path-parameters'] || {};
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    const value = given[name] ?? params.find((p) => p.in === 'path' && p.name === name)?.example;
    assert.ok(value !== undefined, `no example for the path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

const examples = requestExamples();
let n = 0;
for (const { template, method, name, example, params, status } of examples) {
  test(`${method.toUpperCase()} ${template} example ${name}: ${status}`, async () => {
    const validate = validator.requestBody(method, template);
    assert.ok(validate(example.value), `the example does not validate: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    const path = target(template, params, example);
    const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
    if (params.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) headers['Idempotency-Key'] = `example-${++n}`;
    const res = await fetch(server.base + path, { method: method.toUpperCase(), headers, body: JSON.stringify(example.value) });
    const text = await res.text();
    assert.equal(res.status, status, `${method.toUpperCase()} ${path} answered ${res.status}: ${text}`);
    const hdrs = {};
    res.headers.forEach((v, k) => (hdrs[k] = v));
    const result = validator.validate({ method: method.toUpperCase(), path, query: null, status: res.status, content_type: res.headers.get('content-type'), headers: hdrs, body: text });
    assert.deepEqual(result.failures, [], `the answer breaks the contract: ${text}`);
  });
}

test('the examples cover every operation that takes a JSON body', () => {
  const covered = new Set(examples.map((e) => `${e.method} ${e.template}`));
  for (const [template, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k)))
      if (deref(item[method].requestBody)?.content?.['application/json'])
        assert.ok(covered.has(`${method} ${template}`), `${method.toUpperCase()} ${template} has no request example`);
});
