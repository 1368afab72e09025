// SPDX-License-Identifier: Apache-2.0
// The contract refuses what the server refuses: each body of the table goes to a
// real carbontree and through the request schema of openapi.yaml (validate.mjs's
// Ajv, JSON Schema 2020-12), and both must agree with the row: an accepted body
// answers 2xx and validates, a refused one answers 422 and fails validation.
// The rows cover each method's required members, its "one of" and "at least one
// of" rules and the members another method reads. Rules that depend on stored data
// (a hardware name the catalogue lacks, a catalogue device without a peak FLOP/s, a
// location the region tables lack) or on
// comparing figures (low <= value <= high, bounds other than the activities'
// amounts) are outside what a schema can say, and outside the table.
//   CARBONTREE_BIN=build/dev/carbontree node --test schema_table.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createValidator, loadSpec } from './validate.mjs';
import { startServer } from './server.mjs';

const ACCEPT = 'accept';
const REFUSE = 'refuse';
const ci = { value: 400, unit: 'g/kWh' };

const estimates = [
  [ACCEPT, 'power: power_w and hours', { method: 'power', hours: 10, power_w: 300 }],
  [ACCEPT, 'power: devices with power_w, cpu_w, dram_w', { method: 'power', hours: 10, devices: [{ count: 8, power_w: 250 }], cpu_w: 100, dram_w: 20 }],
  [ACCEPT, 'power: a device by catalogue name', { method: 'power', hours: 10, devices: [{ hardware: 'V100', count: 2 }] }],
  [ACCEPT, 'tdp: catalogue devices, utilisation, memory, psf', { method: 'tdp', hours: 5, devices: [{ hardware: 'V100', count: 8 }], utilisation: 0.7, memory_gb: 64, psf: 1.1 }],
  [ACCEPT, 'tdp: a device with tdp_w and its utilisation', { method: 'tdp', hours: 5, devices: [{ tdp_w: 300, count: 1, utilisation: { value: 0.5, low: 0.4, high: 0.6 } }] }],
  [ACCEPT, 'flops: flops, peak, device_power_w', { method: 'flops', flops: 1e18, peak_flops_per_s: 1e14, device_power_w: 300 }],
  [ACCEPT, 'flops: parameters and tokens, a catalogue device', { method: 'flops', parameters: 1e9, tokens: 1e10, devices: [{ hardware: 'H100 SXM' }] }],
  [ACCEPT, 'flops: the device gives peak and tdp_w', { method: 'flops', flops: 1e18, devices: [{ peak_flops_per_s: 1e14, tdp_w: 300 }] }],
  [ACCEPT, 'flops: a catalogue device and device_power_w', { method: 'flops', flops: 1e18, devices: [{ hardware: 'H100 SXM' }], device_power_w: 250 }],
  [ACCEPT, 'flops: hours and pue', { method: 'flops', flops: 1e18, peak_flops_per_s: 1e14, device_power_w: 300, hours: 30, pue: 1.2 }],
  [ACCEPT, 'energy: energy_kwh and location', { method: 'energy', energy_kwh: 100, location: 'FRA' }],
  [ACCEPT, 'energy: a range and carbon_intensity', { method: 'energy', energy_kwh: { value: 100, low: 90, high: 110 }, carbon_intensity: ci }],
  [ACCEPT, 'energy: an embodied item with its hours', { method: 'energy', energy_kwh: 5, embodied: [{ units: 1, embodied_kg: 100, hours: 10 }] }],
  [ACCEPT, 'embodied: an item with its hours', { method: 'embodied', embodied: [{ units: 8, embodied_kg: 150, hours: 100 }] }],
  [ACCEPT, "embodied: an item taking the run's hours", { method: 'embodied', hours: 100, embodied: [{ units: 8, embodied_kg: 150, lifetime_hours: 30000, utilisation: 0.8 }] }],
  [REFUSE, 'not an object', []],
  [REFUSE, 'no method', { hours: 1, power_w: 1 }],
  [REFUSE, 'an unknown method', { method: 'magic', hours: 1 }],
  [REFUSE, 'power: no hours', { method: 'power', power_w: 300 }],
  [REFUSE, 'power: neither power_w nor devices', { method: 'power', hours: 1 }],
  [REFUSE, 'power: both power_w and devices', { method: 'power', hours: 1, power_w: 300, devices: [{ count: 1, power_w: 100 }] }],
  [REFUSE, 'power: a device without count', { method: 'power', hours: 1, devices: [{ power_w: 100 }] }],
  [REFUSE, 'power: a device without power_w or hardware', { method: 'power', hours: 1, devices: [{ count: 1 }] }],
  [REFUSE, 'power: a device with tdp_w', { method: 'power', hours: 1, devices: [{ count: 1, tdp_w: 100 }] }],
  [REFUSE, "power: tdp's psf", { method: 'power', hours: 1, power_w: 1, psf: 1.1 }],
  [REFUSE, 'power: an unknown member', { method: 'power', hours: 1, power_w: 1, colour: 'red' }],
  [REFUSE, 'power: seventeen device groups', { method: 'power', hours: 1, devices: Array.from({ length: 17 }, () => ({ count: 1, power_w: 1 })) }],
  [REFUSE, 'tdp: no devices', { method: 'tdp', hours: 1 }],
  [REFUSE, 'tdp: no hours', { method: 'tdp', devices: [{ hardware: 'V100', count: 1 }] }],
  [REFUSE, 'tdp: an empty devices list', { method: 'tdp', hours: 1, devices: [] }],
  [REFUSE, 'tdp: a device without tdp_w or hardware', { method: 'tdp', hours: 1, devices: [{ count: 1 }] }],
  [REFUSE, 'tdp: a device without count', { method: 'tdp', hours: 1, devices: [{ tdp_w: 300 }] }],
  [REFUSE, "tdp: power's power_w", { method: 'tdp', hours: 1, devices: [{ tdp_w: 300, count: 1 }], power_w: 3 }],
  [REFUSE, 'flops: neither flops nor parameters and tokens', { method: 'flops', peak_flops_per_s: 1e14, device_power_w: 300 }],
  [REFUSE, 'flops: flops and parameters', { method: 'flops', flops: 1e18, parameters: 1e9, peak_flops_per_s: 1e14, device_power_w: 300 }],
  [REFUSE, 'flops: parameters without tokens', { method: 'flops', parameters: 1e9, peak_flops_per_s: 1e14, device_power_w: 300 }],
  [REFUSE, 'flops: no peak', { method: 'flops', flops: 1e18, device_power_w: 300 }],
  [REFUSE, 'flops: the peak twice', { method: 'flops', flops: 1e18, peak_flops_per_s: 1e14, devices: [{ peak_flops_per_s: 1e14, power_w: 300 }] }],
  [REFUSE, 'flops: no device power', { method: 'flops', flops: 1e18, peak_flops_per_s: 1e14 }],
  [REFUSE, 'flops: the device power twice', { method: 'flops', flops: 1e18, peak_flops_per_s: 1e14, device_power_w: 300, devices: [{ power_w: 300 }] }],
  [REFUSE, 'flops: power_w and tdp_w in the device', { method: 'flops', flops: 1e18, devices: [{ peak_flops_per_s: 1e14, power_w: 300, tdp_w: 300 }] }],
  [REFUSE, 'flops: two devices', { method: 'flops', flops: 1e18, devices: [{ hardware: 'V100' }, { hardware: 'V100' }] }],
  [REFUSE, 'flops: a device with count', { method: 'flops', flops: 1e18, devices: [{ hardware: 'V100', count: 1 }] }],
  [REFUSE, 'energy: no energy_kwh', { method: 'energy' }],
  [REFUSE, 'energy: location and carbon_intensity', { method: 'energy', energy_kwh: 1, location: 'FRA', carbon_intensity: ci }],
  [REFUSE, "energy: power's power_w", { method: 'energy', energy_kwh: 1, power_w: 3 }],
  [REFUSE, 'energy: an embodied item without hours', { method: 'energy', energy_kwh: 1, embodied: [{ units: 1, embodied_kg: 1 }] }],
  [REFUSE, 'energy: carbon_intensity without unit', { method: 'energy', energy_kwh: 1, carbon_intensity: { value: 1 } }],
  [REFUSE, 'energy: a range without value', { method: 'energy', energy_kwh: { low: 1 } }],
  [REFUSE, 'embodied: no items', { method: 'embodied', hours: 1 }],
  [REFUSE, 'embodied: an empty item list', { method: 'embodied', hours: 1, embodied: [] }],
  [REFUSE, 'embodied: an item without hours anywhere', { method: 'embodied', embodied: [{ units: 1, embodied_kg: 1 }] }],
  [REFUSE, 'embodied: an item without units', { method: 'embodied', hours: 1, embodied: [{ embodied_kg: 1 }] }],
  [REFUSE, 'embodied: an item without embodied_kg', { method: 'embodied', hours: 1, embodied: [{ units: 1 }] }],
];

const activities = [
  [ACCEPT, 'reported co2e_kg', { kind: 'training', co2e_kg: 100 }],
  [ACCEPT, 'measured energy and a location', { kind: 'training', energy_kwh: 120, location: 'FRA' }],
  [ACCEPT, 'measured energy range and an intensity', { kind: 'fine_tuning', energy_kwh: { value: 120, low: 100, high: 150 }, carbon_intensity: { value: 0.954, unit: 'lb/kWh' } }],
  [ACCEPT, 'co2e_kg and energy_kwh, obtained and note', { kind: 'development', co2e_kg: 1.71, energy_kwh: 5, obtained: 'reported', note: 'search' }],
  [ACCEPT, 'the largest co2e_kg', { kind: 'other', co2e_kg: { value: 1e12, low: 0 } }],
  [ACCEPT, 'estimated by power', { kind: 'training', method: 'power', power_w: 300, hours: 10 }],
  [ACCEPT, 'estimated by energy, obtained and note', { kind: 'idle', method: 'energy', energy_kwh: 10, obtained: 'estimated', note: 'x' }],
  [REFUSE, 'no kind', { co2e_kg: 1 }],
  [REFUSE, 'an unknown kind', { kind: 'nap', co2e_kg: 1 }],
  [REFUSE, 'neither co2e_kg nor energy_kwh', { kind: 'training' }],
  [REFUSE, 'a negative co2e_kg', { kind: 'training', co2e_kg: -1 }],
  [REFUSE, 'co2e_kg over 10^12', { kind: 'training', co2e_kg: 2e12 }],
  [REFUSE, 'energy_kwh over 10^13', { kind: 'training', energy_kwh: { value: 1, high: 2e13 } }],
  [REFUSE, 'a negative low bound', { kind: 'training', energy_kwh: { value: 1, low: -1 } }],
  [REFUSE, 'co2e_kg with a location', { kind: 'training', co2e_kg: 2, location: 'FRA' }],
  [REFUSE, 'co2e_kg with an intensity', { kind: 'training', co2e_kg: 2, carbon_intensity: ci }],
  [REFUSE, 'energy with a location and an intensity', { kind: 'training', energy_kwh: 2, location: 'FRA', carbon_intensity: ci }],
  [REFUSE, 'figures obtained: estimated', { kind: 'training', co2e_kg: 1, obtained: 'estimated' }],
  [REFUSE, 'an unknown obtained', { kind: 'training', co2e_kg: 1, obtained: 'guessed' }],
  [REFUSE, 'a note over 500 bytes', { kind: 'training', co2e_kg: 1, note: 'x'.repeat(501) }],
  [REFUSE, 'a method member without a method', { kind: 'training', co2e_kg: 1, power_w: 3 }],
  [REFUSE, 'a method, obtained: measured', { kind: 'training', method: 'power', power_w: 300, hours: 10, obtained: 'measured' }],
  [REFUSE, 'a method without its required member', { kind: 'training', method: 'power', power_w: 300 }],
  [REFUSE, 'a method and co2e_kg', { kind: 'training', method: 'energy', energy_kwh: 1, co2e_kg: 1 }],
  [REFUSE, 'a method without kind', { method: 'energy', energy_kwh: 1 }],
];

let server;
const validator = createValidator(loadSpec());

before(async () => {
  server = await startServer();
  const res = await post('/v1/models', { id: 'contract/table' });
  assert.equal(res.status, 201, res.text);
});

after(async () => {
  await server?.stop();
});

async function post(target, body) {
  const res = await fetch(server.base + target, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

function table(name, method, template, target, rows) {
  const validate = validator.requestBody(method, template);
  for (const [expect, what, body] of rows) {
    test(`${name}: ${what} (${expect})`, async () => {
      const res = await post(target, body);
      const valid = validate(body);
      const reasons = JSON.stringify((validate.errors || []).slice(0, 3));
      if (expect === ACCEPT) {
        assert.ok(res.status >= 200 && res.status < 300, `the server answered ${res.status}: ${res.text}`);
        assert.ok(valid, `the schema refuses it: ${reasons}`);
      } else {
        assert.equal(res.status, 422, `the server answered ${res.status}: ${res.text}`);
        assert.ok(!valid, 'the schema accepts it');
      }
    });
  }
}

table('estimate', 'post', '/v1/estimates', '/v1/estimates', estimates);
table('activity', 'post', '/v1/models/{namespace}/{name}/activities', '/v1/models/contract/table/activities', activities);
