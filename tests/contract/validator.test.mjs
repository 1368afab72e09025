// SPDX-License-Identifier: Apache-2.0
// Tests of validate.mjs itself: it must pass what the contract documents and catch
// a wrong member, an undocumented status and a wrong content type.
//   node --test validator.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createValidator, loadSpec, run } from './validate.mjs';

const validator = createValidator(loadSpec());

const HEADERS = { 'content-type': 'application/json', 'x-request-id': '5f0c9a1e00000007' };

function record(overrides) {
  return {
    via: 'curl',
    method: 'GET',
    path: '/healthz',
    query: null,
    status: 200,
    content_type: 'application/json',
    headers: HEADERS,
    body: '{"status":"ok"}\n',
    body_truncated: false,
    body_lossy: false,
    error: null,
    ...overrides,
  };
}

const model = {
  id: 'acme/llama-support',
  namespace: 'acme',
  name: 'llama-support',
  parents: [{ id: 'meta-llama/Llama-3.1-8B', relation: 'finetune' }],
  depth: 1,
  children_count: 0,
  version: 1,
  created_at: '2026-11-26T15:21:17.880Z',
  updated_at: '2026-11-26T15:21:17.880Z',
  task: null,
  license: null,
  url: null,
  parameters: null,
  inference: null,
};

function modelRecord(body) {
  return record({
    path: '/v1/models/acme/llama-support',
    headers: { ...HEADERS, etag: '"v1"' },
    body: JSON.stringify(body),
  });
}

const problem404 = {
  type: 'https://carbontree.dev/problems/not-found',
  title: 'Not found',
  status: 404,
  detail: 'no route /v1/nothing; GET /openapi.yaml lists every route',
  instance: '/v1/nothing',
  request_id: '5f0c9a1e00000007',
  errors: [],
};

test('a documented answer passes', () => {
  assert.deepEqual(validator.validate(record({})).failures, []);
  assert.deepEqual(validator.validate(modelRecord(model)).failures, []);
});

test('a wrong member in a response body is caught', () => {
  const wrongType = validator.validate(modelRecord({ ...model, depth: 'one' }));
  assert.ok(wrongType.failures.some((f) => f.includes('/depth')), wrongType.failures.join('\n'));
  const extra = validator.validate(modelRecord({ ...model, owner: 'acme' }));
  assert.ok(extra.failures.some((f) => f.includes("'owner'")), extra.failures.join('\n'));
  const { inference, ...withoutInference } = model;
  assert.equal(inference, null);
  const missing = validator.validate(modelRecord(withoutInference));
  assert.ok(missing.failures.some((f) => f.includes('inference')), missing.failures.join('\n'));
});

test('a wrong member in a problem body is caught', () => {
  const result = validator.validate(
    record({
      path: '/v1/models/acme/nope',
      status: 404,
      content_type: 'application/problem+json',
      body: JSON.stringify({ ...problem404, status: 400 }),
    }),
  );
  assert.ok(result.failures.some((f) => f.includes('/status')), result.failures.join('\n'));
});

test('an undocumented status is caught', () => {
  const result = validator.validate(record({ status: 418 }));
  assert.ok(result.failures.some((f) => f.includes('status 418 is not documented')), result.failures.join('\n'));
  const created = validator.validate(record({ method: 'POST', path: '/v1/compare', status: 201 }));
  assert.ok(created.failures.some((f) => f.includes('not documented')), created.failures.join('\n'));
});

test('a wrong content type is caught', () => {
  const text = validator.validate(record({ content_type: 'text/plain', headers: { ...HEADERS, 'content-type': 'text/plain' } }));
  assert.ok(text.failures.some((f) => f.includes('Content-Type text/plain is not documented')), text.failures.join('\n'));
  const problemAsJson = validator.validate(
    record({ path: '/v1/models/acme/nope', status: 404, content_type: 'application/json', body: JSON.stringify(problem404) }),
  );
  assert.ok(problemAsJson.failures.some((f) => f.includes('not documented')), problemAsJson.failures.join('\n'));
  const noBodyExpected = validator.validate(
    record({ method: 'DELETE', path: '/v1/models/acme/x', status: 204, content_type: 'application/json', body: '{}' }),
  );
  assert.ok(noBodyExpected.failures.length > 0);
});

test('a body that is not JSON is caught', () => {
  const result = validator.validate(record({ body: 'ok' }));
  assert.ok(result.failures.some((f) => f.includes('not JSON')), result.failures.join('\n'));
});

test('a documented header with a wrong value is caught', () => {
  const result = validator.validate(
    record({ path: '/v1/models/acme/llama-support', headers: { ...HEADERS, etag: 'v1' }, body: JSON.stringify(model) }),
  );
  assert.ok(result.failures.some((f) => f.startsWith('header ETag')), result.failures.join('\n'));
  const noId = validator.validate(record({ headers: { 'content-type': 'application/json' } }));
  assert.ok(noId.failures.some((f) => f.includes('X-Request-Id')), noId.failures.join('\n'));
});

test('the explicit rules accept what they describe and nothing else', () => {
  // R1: libmicrohttpd's own HTML answers
  const mhd = validator.validate(
    record({ status: 431, content_type: null, headers: { connection: 'close' }, body: '<html>…</html>' }),
  );
  assert.equal(mhd.rule, 'R1 transport');
  assert.deepEqual(mhd.failures, []);
  // ...but not a 431 from the service with a JSON body
  const not431 = validator.validate(record({ status: 418, content_type: null, headers: { connection: 'close' }, body: '' }));
  assert.ok(not431.failures.length > 0);
  // R2: no response
  assert.equal(validator.validate(record({ status: 0, content_type: null, headers: {}, body: '' })).rule, 'R2 no response');
  // R3: unknown paths answer the NotFound problem
  const unknown = validator.validate(
    record({ path: '/v1/nothing', status: 404, content_type: 'application/problem+json', body: JSON.stringify(problem404) }),
  );
  assert.equal(unknown.rule, 'R3 unknown path');
  assert.deepEqual(unknown.failures, []);
  assert.ok(validator.validate(record({ path: '/v1/nothing', status: 200 })).failures.length > 0);
  // R4: a method the path does not define is 405 with Allow
  const put = validator.validate(
    record({
      method: 'PUT',
      path: '/healthz',
      status: 405,
      content_type: 'application/problem+json',
      headers: { ...HEADERS, allow: 'OPTIONS, GET, HEAD' },
      body: JSON.stringify({
        ...problem404,
        type: 'https://carbontree.dev/problems/method-not-allowed',
        title: 'Method not allowed',
        status: 405,
        instance: '/healthz',
      }),
    }),
  );
  assert.equal(put.rule, 'R4 method not allowed');
  assert.deepEqual(put.failures, []);
  assert.ok(validator.validate(record({ method: 'PUT', status: 200 })).failures.length > 0);
  // HEAD is checked as GET, without a body
  assert.deepEqual(validator.validate(record({ method: 'HEAD', body: '' })).failures, []);
  assert.ok(validator.validate(record({ method: 'HEAD', status: 201, body: '' })).failures.length > 0);
});

test('the command line counts and fails', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'));
  const log = path.join(dir, 'log.jsonl');
  const output = () => {
    let text = '';
    return { write: (s) => (text += s), text: () => text };
  };
  try {
    fs.writeFileSync(log, `${JSON.stringify(record({}))}\n${JSON.stringify(record({ status: 418 }))}\n`);
    let out = output();
    assert.equal(run([log], out), 1);
    assert.match(out.text(), /2 responses validated, 1 failures/);
    fs.writeFileSync(log, `${JSON.stringify(record({}))}\n`);
    out = output();
    assert.equal(run([log], out), 0);
    assert.match(out.text(), /1 responses validated, 0 failures/);
    fs.writeFileSync(log, '');
    assert.equal(run([log], output()), 1);
    assert.equal(run([log, '--allow-empty'], output()), 0);
    fs.writeFileSync(log, 'not json\n');
    assert.equal(run([log], output()), 1);
    assert.equal(run([path.join(dir, 'missing.jsonl')], output()), 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every path declares its OPTIONS, and its HEAD beside GET', () => {
  const spec = loadSpec();
  for (const [template, item] of Object.entries(spec.paths)) {
    assert.ok(item.options, `${template} does not declare OPTIONS`);
    assert.equal(Boolean(item.head), Boolean(item.get), `${template}: HEAD is declared exactly where GET is`);
  }
});

test('an unknown path may answer 414 or 431 problems (decided before routing), not other statuses', () => {
  const problem = (status, slug, title) =>
    record({
      path: '/nowhere',
      status,
      content_type: 'application/problem+json',
      body: JSON.stringify({ ...problem404, type: `https://carbontree.dev/problems/${slug}`, title, status, instance: '/nowhere' }),
    });
  assert.deepEqual(validator.validate(problem(414, 'uri-too-long', 'URI too long')).failures, []);
  assert.deepEqual(validator.validate(problem(431, 'header-fields-too-large', 'Request header fields too large')).failures, []);
  assert.ok(validator.validate(problem(431, 'uri-too-long', 'URI too long')).failures.length > 0);
  assert.ok(validator.validate(problem(409, 'conflict', 'Conflict')).failures.length > 0);
});
