#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Drives every route of a running carbontree with documented and faulty requests
// and appends each response to a contract log in the harness's format, so that
// validate.mjs also covers the routes the HTTP suites do not reach yet.
//
//   CARBONTREE_TOKEN=<admin token> node exercise.mjs http://127.0.0.1:8080 contract.jsonl
//
// Every request sends CARBONTREE_TOKEN as its bearer token (writes need one; an
// admin token reaches every route). Without it the writes answer 401, which is
// documented too. Use a fresh database: the scenario registers its own models
// (ns "ct-<time>") and creates and revokes a token of its own.
import fs from 'node:fs';

const [base, logFile] = process.argv.slice(2);
if (!base || !logFile) {
  console.error('usage: node exercise.mjs <base-url> <contract.jsonl>');
  process.exit(2);
}
const ns = `ct-${Date.now().toString(36)}`;
let count = 0;
const adminToken = process.env.CARBONTREE_TOKEN || null;

// auth: the bearer token to send (null: no Authorization header).
async function call(method, target, { body, headers = {}, auth = adminToken } = {}) {
  const init = { method, headers: { ...headers } };
  if (auth) init.headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (!Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type'))
      init.headers['Content-Type'] = 'application/json';
  }
  let status = 0;
  let text = '';
  let contentType = null;
  const hdrs = {};
  let error = null;
  try {
    const res = await fetch(base + target, init);
    status = res.status;
    contentType = res.headers.get('content-type');
    res.headers.forEach((v, k) => (hdrs[k] = v));
    text = method === 'HEAD' ? '' : await res.text();
  } catch (e) {
    error = String(e);
  }
  const q = target.indexOf('?');
  fs.appendFileSync(
    logFile,
    `${JSON.stringify({
      via: 'exercise',
      method,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? null : target.slice(q + 1),
      status,
      content_type: contentType,
      headers: hdrs,
      body_truncated: false,
      body: text,
      body_lossy: false,
      error,
    })}\n`,
  );
  count++;
  return { status, headers: hdrs, text };
}

const m = (name) => `/v1/models/${ns}/${name}`;
const key = (k) => ({ 'Idempotency-Key': `${ns}-${k}` });

// models, with a card and a profile
await call('POST', '/v1/models', { body: { id: `${ns}/base`, task: 'text-generation', co2_eq_emissions: { emissions: 420000000, source: 'card', training_type: 'pre-training' } } });
await call('POST', '/v1/models', { body: { id: `${ns}/tune`, parents: [{ id: `${ns}/base` }], co2_eq_emissions: 1500 } });
await call('POST', '/v1/models', { body: { id: `${ns}/other`, base_model: `${ns}/base`, base_model_relation: 'quantized' } });
await call('POST', '/v1/models', { body: { id: `${ns}/bad`, co2_eq_emissions: { source: 'no emissions' } } });
await call('PATCH', m('tune'), { body: { inference: { unit: 'token', energy_kwh_per_inference: { value: 0.0001, low: 0.00008, high: 0.00012 } } } });
await call('PATCH', m('base'), { body: { inference: { unit: 'word', derived_from_training: { ratio: 0.5, token_steps: 128000000000 }, carbon_intensity: { value: 400, unit: 'g/kWh' } } } });
await call('PATCH', m('other'), { body: { inference: { unit: 'image', derived_from_training: { token_steps: 1e9, training_kwh: 5000 } } } });
await call('PATCH', m('other'), { body: { inference: { energy_kwh_per_inference: 1, derived_from_training: { token_steps: 1 } } } });
await call('PATCH', m('other'), { body: { inference: { energy_kwh_per_inference: 1, location: 'FRA', carbon_intensity: { value: 1, unit: 'g/kWh' } } } });
await call('PATCH', m('other'), { body: { inference: null } });
await call('GET', m('tune'));
await call('HEAD', m('tune'));
await call('GET', `/v1/models?namespace=${ns}`);
await call('GET', `/v1/models?q=${ns}/t&include=footprint&policy=equal`);
await call('GET', `/v1/models?q=${ns}&limit=1&include=footprint&format=csv`);
await call('GET', `/v1/models?q=${ns}/&sort=-inferences`);

// activities
const act = await call('POST', `${m('tune')}/activities`, { body: { kind: 'fine_tuning', energy_kwh: { value: 120, low: 100, high: 150 }, carbon_intensity: { value: 0.954, unit: 'lb/kWh' } } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'development', co2e_kg: 1.71, note: 'search' } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'idle', energy_kwh: 3, obtained: 'measured' } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'training', energy_kwh: 3, location: 'nowhere' } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'nap', co2e_kg: -1, extra: true } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'training', co2e_kg: 2, carbon_intensity: { value: 1, unit: 'g/kWh' } } });
await call('POST', `${m('tune')}/activities`, { body: { kind: 'training', method: 'power', power_w: 300, hours: 10 } });
await call('POST', `${m('nope')}/activities`, { body: { kind: 'training', co2e_kg: 1 } });
await call('POST', `${m('tune')}/activities`, { body: '{"kind":' });
await call('POST', `${m('tune')}/activities`, { body: 'kind=x', headers: { 'Content-Type': 'text/plain' } });
await call('GET', `${m('tune')}/activities?limit=1`);
await call('GET', `${m('tune')}/activities?limit=1&cursor=${JSON.parse(act.text || '{}').id ?? 0}`);
await call('GET', `${m('tune')}/activities?limit=0`);
await call('GET', `${m('tune')}/activities?sort=1`);
await call('GET', `${m('nope')}/activities`);
const id = JSON.parse(act.text || '{}').id;
await call('DELETE', `${m('tune')}/activities/${id}`);
await call('DELETE', `${m('tune')}/activities/${id}`);
await call('DELETE', `${m('tune')}/activities/abc`);

// inferences
await call('POST', `${m('tune')}/inferences`, { body: { count: 1000 }, headers: key('a') });
await call('POST', `${m('tune')}/inferences`, { body: { count: 1000 }, headers: key('a') });
await call('POST', `${m('tune')}/inferences`, { body: { count: 5 }, headers: key('a') });
await call('POST', `${m('tune')}/inferences`, { body: { count: 5 } });
await call('POST', `${m('tune')}/inferences`, { body: { count: 1.5, date: '2999-01-01' }, headers: key('b') });
await call('POST', `${m('tune')}/inferences`, { body: { count: 250, date: '2026-01-02' }, headers: key('c') });
await call('POST', `${m('nope')}/inferences`, { body: { count: 1 }, headers: key('d') });
await call('PUT', `${m('tune')}/inference-counters/hub-a`, { body: { total: 123456 } });
await call('PUT', `${m('tune')}/inference-counters/hub-a`, { body: { total: 123456 } });
await call('PUT', `${m('tune')}/inference-counters/hub-a`, { body: { total: 12 } });
await call('PUT', `${m('tune')}/inference-counters/hub-a`, { body: { total: 12, reset: true, date: '2026-01-03' } });
await call('PUT', `${m('tune')}/inference-counters/bad%20name`, { body: { total: 1 } });
await call('PUT', `${m('tune')}/inference-counters/hub-a`, { body: { total: -1, reset: 'yes' } });
await call('POST', '/v1/inference-reports', { body: { reports: [{ model: `${ns}/tune`, count: 10, date: '2026-01-02' }, { model: `${ns}/base`, count: 7 }] }, headers: key('e') });
await call('POST', '/v1/inference-reports', { body: { reports: [{ model: `${ns}/tune`, count: 10, date: '2026-01-02' }, { model: `${ns}/base`, count: 7 }] }, headers: key('e') });
await call('POST', '/v1/inference-reports', { body: { reports: [{ model: `${ns}/nope`, count: 1 }] }, headers: key('f') });
await call('POST', '/v1/inference-reports', { body: { reports: [] }, headers: key('g') });
await call('POST', '/v1/inference-reports', { body: { reports: [{ model: `${ns}/tune`, count: 1 }] } });
await call('GET', `${m('tune')}/inferences`);
await call('GET', `${m('tune')}/inferences?from=2026-01-01&to=2026-01-05`);
await call('GET', `${m('tune')}/inferences?from=2026-01-05&to=2026-01-01`);
await call('GET', `${m('tune')}/inferences?from=2026-02-30`);
await call('GET', `${m('nope')}/inferences`);

// carbon
for (const p of ['', '?policy=none', '?policy=equal', '?policy=usage']) await call('GET', `${m('tune')}/footprint${p}`);
await call('GET', `${m('base')}/footprint`);
await call('GET', `${m('other')}/footprint`);
const fp = await call('GET', `${m('tune')}/footprint?policy=equal`);
await call('GET', `${m('tune')}/footprint?policy=equal`, { headers: { 'If-None-Match': fp.headers.etag || '*' } });
await call('GET', `${m('tune')}/footprint?policy=equal`, { headers: { 'If-None-Match': '*' } });
await call('GET', `${m('tune')}/footprint?policy=most`);
await call('GET', `${m('nope')}/footprint`);
await call('GET', `${m('tune')}/ancestors`);
await call('GET', `${m('base')}/ancestors`);
await call('GET', `${m('tune')}/ancestors?x=1`);
await call('GET', `${m('nope')}/ancestors`);
await call('GET', `${m('base')}/family`);
await call('GET', `${m('base')}/family?limit=1&policy=equal`);
await call('GET', `${m('base')}/family?limit=1&cursor=1`);
await call('GET', `${m('base')}/family`, { headers: { Accept: 'text/csv' } });
await call('GET', `${m('base')}/family?limit=1`, { headers: { Accept: 'text/csv' } });
await call('GET', `${m('base')}/family`, { headers: { 'If-None-Match': '*' } });
await call('GET', `${m('base')}/family?limit=5000`);
await call('GET', `${m('nope')}/family`);
// series, the model's and its family's
await call('GET', `${m('base')}/series?granularity=week`);
await call('GET', `${m('base')}/series?scope=family&granularity=month`);
await call('GET', `${m('base')}/series?scope=family&format=csv`);
await call('GET', `${m('base')}/series?scope=clan`);

// the badge and the explorer page
await call('GET', `${m('tune')}/badge.svg`);
await call('GET', `${m('tune')}/badge.svg?metric=per_inference&policy=equal`);
await call('GET', `${m('tune')}/badge.svg?metric=mean`);
await call('GET', `${m('nope')}/badge.svg`);
await call('GET', '/');
await call('GET', '/explorer/app.js');
await call('GET', '/explorer/app.css');
await call('GET', '/explorer/nope.js');
await call('POST', '/v1/compare', { body: { a: { model: `${ns}/tune` }, b: { fixed_co2e_kg: { value: 5000, low: 4000, high: 6000 }, co2e_g_per_inference: 0.01 }, volume: 1000000 } });
await call('POST', '/v1/compare', { body: { a: { fixed_co2e_kg: 10, co2e_g_per_inference: 5 }, b: { fixed_co2e_kg: 1000, co2e_g_per_inference: 1 }, policy: 'equal' } });
await call('POST', '/v1/compare', { body: { a: { fixed_co2e_kg: 10, co2e_g_per_inference: 5 }, b: { fixed_co2e_kg: 10, co2e_g_per_inference: 5 } } });
await call('POST', '/v1/compare', { body: { a: { model: `${ns}/base` }, b: { model: `${ns}/other` } } });
await call('POST', '/v1/compare', { body: { a: { model: `${ns}/nope` }, b: {} , volume: -1 } });
await call('POST', '/v1/compare', { body: [] });

// method and route matrix on the new paths
for (const p of ['/v1/compare', '/v1/inference-reports', `${m('tune')}/footprint`, `${m('tune')}/inference-counters/hub-a`, `${m('tune')}/activities/1`]) {
  await call('OPTIONS', p);
  await call('PATCH', p, { body: {} });
}
await call('GET', '/v1/estimates');
await call('GET', '/v1/hardware');
await call('GET', '/v1/regions');
await call('GET', '/v1/methodology');
await call('POST', '/v1/estimates', { body: { method: 'energy', energy_kwh: 10 } });

// tokens and authorization
const created = await call('POST', '/v1/tokens', { body: { name: `${ns} writer`, scopes: ['models:write'], namespaces: [ns] } });
const writer = created.status === 201 ? JSON.parse(created.text) : {};
await call('GET', '/v1/tokens?limit=1');
await call('GET', '/v1/tokens?limit=0');
await call('POST', '/v1/tokens', { body: { name: '', scopes: ['root'], namespaces: ['a b'] } });
await call('POST', '/v1/tokens', { body: { name: 'x', scopes: ['admin'], namespaces: ['*'], token: 'ct_mine' } });
await call('POST', '/v1/models', { body: { id: `${ns}/anonymous` }, auth: null });
await call('POST', '/v1/models', { body: { id: `${ns}/anonymous` }, auth: 'ct_unknown' });
await call('POST', '/v1/models', { body: { id: `${ns}/anonymous` }, headers: { Authorization: 'Basic eDp5' }, auth: null });
await call('DELETE', m('tune'), { auth: null });
await call('GET', '/v1/tokens', { auth: null });
await call('POST', `/v1/models?access_token=${ns}`, { body: { id: `${ns}/by-query` }, auth: null });
await call('GET', `/v1/models?token=${ns}`);
await call('GET', `/healthz?access_token=${ns}`);
if (writer.token) {
  await call('POST', '/v1/models', { body: { id: `${ns}/by-writer` }, auth: writer.token });
  await call('POST', '/v1/models', { body: { id: `${ns}-elsewhere/x` }, auth: writer.token });
  await call('POST', `${m('tune')}/inferences`, { body: { count: 1 }, headers: key('h'), auth: writer.token });
  await call('POST', '/v1/inference-reports', { body: { reports: [{ model: `${ns}/tune`, count: 1 }] }, headers: key('i'), auth: writer.token });
  await call('PATCH', `/v1/models/${ns}-elsewhere/x`, { body: {}, auth: writer.token });
  await call('GET', '/v1/tokens', { auth: writer.token });
  await call('DELETE', `/v1/tokens/${writer.id}`, { auth: writer.token });
  await call('DELETE', `/v1/tokens/${writer.id}`);
  await call('DELETE', `/v1/tokens/${writer.id}`);
  await call('POST', '/v1/models', { body: { id: `${ns}/after-revoke` }, auth: writer.token });
}
await call('DELETE', '/v1/tokens/0');
await call('DELETE', '/v1/tokens/999999999');
await call('OPTIONS', '/v1/tokens');
await call('PUT', '/v1/tokens', { body: {} });

console.log(`${count} responses recorded in ${logFile}`);
