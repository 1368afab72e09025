#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Checks recorded HTTP responses against openapi.yaml.
//
//   node validate.mjs <log.jsonl> [--spec <openapi.yaml>] [--allow-empty] [--coverage]
//
// The log is what tests/http/harness.c appends when CARBONTREE_CONTRACT_LOG names a
// file: one JSON object per response ({via, method, path, query, status,
// content_type, headers, body, body_truncated, body_lossy, error}).
//
// Each record is matched to its operation by path template and method (HEAD is
// checked as GET, without a body). For an operation the checks are:
//   - the status is documented for the operation (an undocumented status fails);
//   - the response's content type is one the status documents (none when it
//     documents no content, e.g. 204 and 304: then the body must be empty);
//   - a JSON body parses and validates against the documented schema (ajv, JSON
//     Schema 2020-12, formats checked); a text body (CSV, YAML) against its string
//     schema;
//   - every documented response header that is present validates against its
//     schema, and X-Request-Id is present (every answer the service writes has it).
//
// Explicit rules for answers that no single operation documents:
//   R1 transport: libmicrohttpd answers 400, 413, 414 and 431 itself (a
//      Content-Length it cannot read, a request line or headers over the
//      connection memory) with a short HTML page and neither Content-Type nor
//      X-Request-Id (openapi.yaml, info: "Transport limits"). A record with one of
//      those statuses and neither header is accepted as such, on any path.
//   R2 no response: status 0 (connection refused, reset or closed before a status
//      line, or the client's timeout) is not an answer; it is counted and skipped.
//   R3 unknown path: a path that matches no template must answer 404 with the
//      NotFound response (components/responses/NotFound), or, decided before
//      routing, 414 or 431 with the UriTooLong or HeaderFieldsTooLarge response.
//   R4 method not allowed: a method a known path does not define (other than HEAD
//      on a GET path and OPTIONS) must answer 405 with the MethodNotAllowed
//      response (components/responses/MethodNotAllowed) and an Allow header.
//   R5 OPTIONS on a known path that does not declare it answers 204 with an Allow
//      header and no body (openapi.yaml, info: "HEAD and OPTIONS"; every path of
//      openapi.yaml declares its OPTIONS and, beside GET, its HEAD, which are then
//      checked as any operation).
// Prints "N responses validated, M failures" and exits 1 when M > 0 (or when the
// log holds no responses at all, unless --allow-empty).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SPEC = path.resolve(HERE, '../../openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const TRANSPORT_STATUSES = new Set([400, 413, 414, 431]);
// Answers decided before the route is looked up, so on unknown paths too.
const BEFORE_ROUTING = { 414: 'UriTooLong', 431: 'HeaderFieldsTooLarge' };
const SPEC_ID = 'https://carbontree.dev/openapi.yaml';

export function loadSpec(file = DEFAULT_SPEC) {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

function pointerEscape(s) {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

function mediaBase(contentType) {
  return contentType ? contentType.split(';')[0].trim().toLowerCase() : null;
}

function isJsonMedia(media) {
  return media === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(media);
}

export function createValidator(doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: SPEC_ID }, undefined, undefined, false);
  const compiled = new Map();

  // Follows $ref (local only) from the node at pointer; returns the target.
  function deref(node, pointer) {
    let hops = 0;
    while (node && typeof node === 'object' && typeof node.$ref === 'string') {
      if (!node.$ref.startsWith('#/') || ++hops > 16) throw new Error(`unsupported $ref ${node.$ref}`);
      pointer = node.$ref.slice(1);
      node = pointer
        .split('/')
        .slice(1)
        .reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), doc);
      if (node === undefined) throw new Error(`dangling $ref ${pointer}`);
    }
    return { node, pointer };
  }

  function schemaValidator(pointer) {
    if (!compiled.has(pointer)) compiled.set(pointer, ajv.compile({ $ref: `${SPEC_ID}#${pointer}` }));
    return compiled.get(pointer);
  }

  const templates = Object.keys(doc.paths || {}).map((template) => {
    const names = [];
    const source = template
      .split('/')
      .map((seg) => {
        const m = /^\{([^}]+)\}$/.exec(seg);
        if (m) {
          names.push(m[1]);
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    return { template, regex: new RegExp(`^${source}$`), params: names.length };
  });

  // Every template p matches, fewest parameters first. A path may match several:
  // /v1/models/gpt2/footprint is the footprint of the bare model gpt2 and the
  // model gpt2/footprint, and the server answers for whichever is registered.
  function findPaths(p) {
    return templates.filter((t) => t.regex.test(p)).sort((a, b) => a.params - b.params);
  }

  // Checks one response (resolved object at pointer) against a record.
  function checkResponse(rec, response, pointer, { head }, failures) {
    const { node: resp, pointer: respPointer } = deref(response, pointer);
    const media = mediaBase(rec.content_type);
    const headers = rec.headers || {};
    const content = resp.content || null;
    const body = rec.body ?? '';

    if (!content) {
      if (media && body.length > 0)
        failures.push(`documents no body, got ${rec.content_type} (${body.length} bytes)`);
      else if (!head && body.length > 0) failures.push(`documents no body, got ${body.length} bytes`);
    } else if (!media) {
      if (!(head && body.length === 0) || Object.keys(content).length > 0)
        failures.push(`no Content-Type; documented: ${Object.keys(content).join(', ')}`);
    } else if (!Object.prototype.hasOwnProperty.call(content, media)) {
      failures.push(`Content-Type ${rec.content_type} is not documented (documented: ${Object.keys(content).join(', ')})`);
    } else if (!head && content[media].schema) {
      const schemaPointer = `${respPointer}/content/${pointerEscape(media)}/schema`;
      let value;
      let parsed = true;
      if (rec.body_truncated) {
        parsed = false; // a body over the log's cap cannot be checked; say so
        failures.push('body truncated in the log; not validated');
      } else if (isJsonMedia(media)) {
        try {
          value = JSON.parse(body);
        } catch (e) {
          parsed = false;
          failures.push(`body is not JSON: ${e.message}`);
        }
      } else {
        value = body;
      }
      if (parsed) {
        const validate = schemaValidator(schemaPointer);
        if (!validate(value)) {
          for (const err of validate.errors.slice(0, 8))
            failures.push(`body${err.instancePath || ''} ${err.message}${err.params && err.params.additionalProperty ? ` '${err.params.additionalProperty}'` : ''}${err.params && err.params.unevaluatedProperty ? ` '${err.params.unevaluatedProperty}'` : ''} (${err.schemaPath})`);
        }
      }
    }
    for (const [name, h] of Object.entries(resp.headers || {})) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) continue;
      const { node: header, pointer: headerPointer } = deref(h, `${respPointer}/headers/${pointerEscape(name)}`);
      if (!header.schema) continue;
      let v = value;
      const type = deref(header.schema, `${headerPointer}/schema`).node.type;
      if (type === 'integer' || type === 'number') v = /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value;
      const validate = schemaValidator(`${headerPointer}/schema`);
      if (!validate(v)) failures.push(`header ${name}: '${value}' ${validate.errors[0].message}`);
    }
    if (headers['x-request-id'] === undefined && Object.keys(headers).length > 0)
      failures.push('no X-Request-Id header');
  }

  // Returns {rule, operation, failures[]} for one record: the first matching
  // template's verdict that has no failure, else the best-matching template's.
  function validate(rec) {
    const rawPath = String(rec.path || '');
    let candidates = findPaths(rawPath);
    if (candidates.length === 0) {
      try {
        candidates = findPaths(decodeURIComponent(rawPath));
      } catch {
        /* no template */
      }
    }
    if (candidates.length <= 1) return validateAt(rec, candidates[0] || null);
    let first = null;
    for (const t of candidates) {
      const verdict = validateAt(rec, t);
      if (verdict.failures.length === 0) return verdict;
      first = first || verdict;
    }
    return first;
  }

  // The verdict on one record read as a request to template found (null: none).
  function validateAt(rec, found) {
    const failures = [];
    const method = String(rec.method || '').toUpperCase();
    const status = Number(rec.status) || 0;
    const headers = rec.headers || {};
    const where = `${method} ${rec.path}${rec.query != null ? `?${rec.query}` : ''} -> ${status}`;

    if (status === 0) return { rule: 'R2 no response', operation: null, failures, where };
    if (TRANSPORT_STATUSES.has(status) && !rec.content_type && headers['x-request-id'] === undefined)
      return { rule: 'R1 transport', operation: null, failures, where };

    if (!found) {
      const before = BEFORE_ROUTING[status];
      if (before) checkResponse(rec, doc.components.responses[before], `/components/responses/${before}`, { head: method === 'HEAD' }, failures);
      else if (status !== 404) failures.push(`unknown path answered ${status}, expected 404`);
      else checkResponse(rec, doc.components.responses.NotFound, '/components/responses/NotFound', { head: method === 'HEAD' }, failures);
      return { rule: 'R3 unknown path', operation: null, failures, where };
    }
    const item = doc.paths[found.template];
    const lower = method.toLowerCase();
    let op = METHODS.includes(lower) ? item[lower] : undefined;
    let opMethod = lower;
    if (!op && lower === 'head' && item.get) {
      op = item.get;
      opMethod = 'get';
    }
    if (!op) {
      if (lower === 'options') {
        if (status !== 204) failures.push(`OPTIONS answered ${status}, expected 204`);
        if (!headers.allow && Object.keys(headers).length > 0) failures.push('OPTIONS without an Allow header');
        if ((rec.body || '').length > 0) failures.push('OPTIONS answered with a body');
        return { rule: 'R5 options', operation: `OPTIONS ${found.template}`, failures, where };
      }
      if (status !== 405) failures.push(`undefined method answered ${status}, expected 405`);
      else {
        checkResponse(rec, doc.components.responses.MethodNotAllowed, '/components/responses/MethodNotAllowed', { head: lower === 'head' }, failures);
        if (!headers.allow && Object.keys(headers).length > 0) failures.push('405 without an Allow header');
      }
      return { rule: 'R4 method not allowed', operation: `${method} ${found.template}`, failures, where };
    }
    const operation = `${opMethod.toUpperCase()} ${found.template}`;
    const responses = op.responses || {};
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
    if (!key) {
      failures.push(`status ${status} is not documented for ${operation} (documented: ${Object.keys(responses).join(', ')})`);
      return { rule: null, operation, failures, where };
    }
    const base = `/paths/${pointerEscape(found.template)}/${opMethod}/responses/${key}`;
    checkResponse(rec, responses[key], base, { head: lower === 'head' }, failures);
    return { rule: null, operation, status: key, failures, where };
  }

  function operations() {
    const list = [];
    for (const [template, item] of Object.entries(doc.paths || {}))
      for (const m of METHODS) if (item[m]) list.push({ operation: `${m.toUpperCase()} ${template}`, statuses: Object.keys(item[m].responses || {}) });
    return list;
  }

  // The validator of an operation's JSON request body (e.g. 'post',
  // '/v1/estimates'): a function of the decoded body returning true or false, with
  // the reasons in its .errors.
  function requestBody(method, template) {
    const op = (doc.paths[template] || {})[method];
    if (!op || !op.requestBody) throw new Error(`${method.toUpperCase()} ${template} takes no body`);
    const { node: body, pointer } = deref(op.requestBody, `/paths/${pointerEscape(template)}/${method}/requestBody`);
    if (!body.content || !body.content['application/json']) throw new Error(`${method.toUpperCase()} ${template} takes no JSON body`);
    return schemaValidator(`${pointer}/content/application~1json/schema`);
  }

  return { validate, operations, requestBody };
}

export function readLog(file) {
  const records = [];
  const problems = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line));
      } catch (e) {
        problems.push(`line ${i + 1}: not JSON (${e.message})`);
      }
    });
  return { records, problems };
}

// Validates every record of the log; returns the exit status.
export function run(argv, out = process.stdout) {
  const args = argv.slice();
  let specFile = DEFAULT_SPEC;
  let allowEmpty = false;
  let coverage = false;
  const files = [];
  while (args.length) {
    const a = args.shift();
    if (a === '--spec') specFile = args.shift();
    else if (a === '--allow-empty') allowEmpty = true;
    else if (a === '--coverage') coverage = true;
    else files.push(a);
  }
  if (files.length !== 1) {
    out.write('usage: node validate.mjs <log.jsonl> [--spec openapi.yaml] [--allow-empty] [--coverage]\n');
    return 2;
  }
  if (!fs.existsSync(files[0])) {
    out.write(`${files[0]}: no such log (was CARBONTREE_CONTRACT_LOG set for the tests?)\n`);
    return 1;
  }
  const validator = createValidator(loadSpec(specFile));
  const { records, problems } = readLog(files[0]);
  const rules = {};
  const seen = new Map();
  let validated = 0;
  let failures = problems.length;
  for (const p of problems) out.write(`FAIL ${p}\n`);
  for (const rec of records) {
    const result = validator.validate(rec);
    if (result.rule === 'R2 no response') {
      rules[result.rule] = (rules[result.rule] || 0) + 1;
      continue;
    }
    validated++;
    if (result.rule) rules[result.rule] = (rules[result.rule] || 0) + 1;
    if (result.operation) {
      if (!seen.has(result.operation)) seen.set(result.operation, new Set());
      seen.get(result.operation).add(String(rec.status));
    }
    if (result.failures.length) {
      failures++;
      out.write(`FAIL ${result.where}${result.operation ? ` [${result.operation}]` : ''}${result.rule ? ` [${result.rule}]` : ''}\n`);
      for (const f of result.failures) out.write(`     ${f}\n`);
      out.write(`     body: ${String(rec.body || '').slice(0, 300).replace(/\n/g, '\\n')}\n`);
    }
  }
  const ruleText = Object.entries(rules)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  if (coverage) {
    for (const { operation, statuses } of validator.operations()) {
      const got = seen.get(operation);
      out.write(`  ${got ? 'seen  ' : 'unseen'} ${operation}${got ? ` (${[...got].sort().join(', ')} of ${statuses.join(', ')})` : ''}\n`);
    }
  }
  const covered = validator.operations().filter((o) => seen.has(o.operation)).length;
  out.write(`${validated} responses validated, ${failures} failures (${covered} of ${validator.operations().length} operations exercised${ruleText ? `; ${ruleText}` : ''})\n`);
  if (validated === 0 && !allowEmpty) {
    out.write('no responses in the log\n');
    return 1;
  }
  return failures > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = run(process.argv.slice(2));
}
