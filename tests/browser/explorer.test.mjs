// SPDX-License-Identifier: Apache-2.0
// Drives the explorer page of the carbontree at CARBONTREE_URL in the chromium at
// CHROMIUM (headless) with the keyboard: searches a model, opens it and its
// family, switches the policy, and checks that every figure the page shows is the
// API's (its central value, and its text as the page formats it). Fails on any
// console error or uncaught exception, and on an axe-core violation of serious or
// critical impact, in the light and the dark theme. Saves one screenshot per view
// under SCREENSHOTS.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const base = process.env.CARBONTREE_URL;
const shots = process.env.SCREENSHOTS;
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TIMEOUT = 10000;

// The page's own formatting (web/app.js fmt): four significant figures.
const fmt = (x) =>
  x === null || x === undefined
    ? '—'
    : Number(Number(x).toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 20 });
const fmtRange = (r, unit) => (r ? `${fmt(r.value)} ${unit} (${fmt(r.low)}–${fmt(r.high)})` : '—');

async function api(path) {
  const answer = await fetch(base + path);
  assert.equal(answer.status, 200, `GET ${path} answered ${answer.status}`);
  return answer.json();
}

const problems = [];
let passed = 0;
function step(name) {
  passed++;
  console.log(`ok ${passed} - ${name}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function checkAxe(page, label) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe-core (${label}): ${JSON.stringify(bad)}`);
  step(`axe-core finds nothing serious or critical (${label})`);
}

async function checkFootprint(page, id, policy) {
  const fp = await api(`/v1/models/${id}/footprint?policy=${policy}`);
  await page.waitForFunction(
    ([want]) => document.getElementById('fig-total').dataset.value === want,
    [String(fp.total_co2e_kg.value)],
    { timeout: TIMEOUT });
  const figures = {
    'fig-own': [fp.own_co2e_kg, 'kg'],
    'fig-inherited': [fp.inherited_co2e_kg, 'kg'],
    'fig-inference': [fp.inference_co2e_kg, 'kg'],
    'fig-total': [fp.total_co2e_kg, 'kg'],
    'fig-per-inference': [fp.co2e_g_per_inference, 'g'],
  };
  for (const [cell, [range, unit]] of Object.entries(figures)) {
    const shown = await page.$eval(`#${cell}`, (n) => ({ text: n.textContent, value: n.dataset.value }));
    assert.equal(shown.value, range ? String(range.value) : '', `${cell} of ${id} (${policy})`);
    assert.equal(shown.text, fmtRange(range, unit), `${cell} text of ${id} (${policy})`);
  }
  const shares = await page.$$eval('#allocations tbody tr td:nth-child(3)', (ns) => ns.map((n) => n.dataset.value));
  assert.deepEqual(shares, fp.allocations.map((a) => String(a.share)), `shares of ${id} (${policy})`);
  step(`the figures of ${id} under ${policy} are the API's`);
  return fp;
}

async function checkFamily(page, id, policy) {
  const family = await api(`/v1/models/${id}/family?policy=${policy}&limit=25`);
  await page.waitForFunction(
    ([n, first]) => {
      const rows = document.querySelectorAll('#family tbody tr');
      return rows.length === n && rows[0].cells[2].dataset.value === first;
    },
    [family.items.length, String(family.items[0].footprint.own_co2e_kg.value)],
    { timeout: TIMEOUT });
  const rows = await page.$$eval('#family tbody tr', (trs) =>
    trs.map((tr) => ({ model: tr.dataset.model, values: [...tr.cells].slice(2).map((c) => c.dataset.value) })));
  family.items.forEach((m, i) => {
    const own = m.footprint.allocations.find((a) => a.source === family.model);
    const perInference = m.footprint.co2e_g_per_inference;
    assert.equal(rows[i].model, m.id, `family row ${i}`);
    assert.deepEqual(rows[i].values, [
      String(m.footprint.own_co2e_kg.value),
      String(m.footprint.inherited_co2e_kg.value),
      String(m.footprint.inference_co2e_kg.value),
      own ? String(own.share) : '',
      perInference ? String(perInference.value) : '',
    ], `family row of ${m.id} (${policy})`);
  });
  step(`the family of ${id} under ${policy} is the API's (${family.items.length} members)`);
  return family;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  const answer = await page.goto(base + '/');
  assert.equal(answer.status(), 200);
  const csp = answer.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  step('GET / serves the page with a strict Content-Security-Policy');

  // Search with the keyboard alone: focus the field, type, Enter.
  await page.focus('#search-input');
  await page.keyboard.type('acme');
  await page.keyboard.press('Enter');
  const result = page.getByRole('button', { name: 'acme/bert-sentiment', exact: true });
  await result.waitFor();
  const listed = await page.$$eval('#search-results button', (bs) => bs.map((b) => b.textContent));
  const models = (await api('/v1/models?q=acme&limit=50')).items.map((m) => m.id);
  assert.ok(models.length > 1 && models.every((id) => id.toLowerCase().startsWith('acme')));
  assert.deepEqual(listed, models, 'the search lists the models whose id starts with acme');
  step('searching "acme" lists the models whose id starts with it, from the server');
  await shot(page, 'search');

  // Open one result from the keyboard.
  await result.focus();
  await page.keyboard.press('Enter');
  await checkFootprint(page, 'acme/bert-sentiment', 'usage');
  await page.waitForFunction(() => document.querySelector('#chart svg') !== null);
  step('the daily series is drawn as SVG');
  await shot(page, 'model');

  // Its base model, from the allocations, then the base's family.
  await page.goto(`${base}/#model=google%2Fbert-base-uncased&policy=usage`);
  await checkFootprint(page, 'google/bert-base-uncased', 'usage');
  const usage = await checkFamily(page, 'google/bert-base-uncased', 'usage');
  await shot(page, 'family');

  // Switch the policy with the keyboard: the shares move, and stay the API's.
  await page.focus('#policy input[value="usage"]');
  await page.keyboard.press('ArrowLeft'); // usage → equal
  await page.waitForFunction(() => location.hash.includes('policy=equal'));
  await checkFootprint(page, 'google/bert-base-uncased', 'equal');
  const equal = await checkFamily(page, 'google/bert-base-uncased', 'equal');
  const share = (f, i) => f.items[i].footprint.allocations.find((a) => a.source === f.model).share;
  assert.notEqual(share(usage, 0), share(equal, 0), 'the base\'s share is the same under usage and equal');
  step('switching from usage to equal moves the shares');
  await shot(page, 'policy-equal');

  // Compare with another model: the crossover the API gives.
  await page.fill('#compare-input', 'acme/bert-ner');
  await page.press('#compare-input', 'Enter');
  await page.waitForFunction(() => !/^Comparing/.test(document.getElementById('compare-result').textContent));
  const compareText = await page.textContent('#compare-result');
  assert.doesNotMatch(compareText, /^Cannot compare/, compareText);
  step(`comparing answers: ${compareText}`);

  await checkAxe(page, 'light theme');
  await page.focus('#theme-toggle');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await checkAxe(page, 'dark theme');
  await shot(page, 'dark');

  const badge = await fetch(`${base}/v1/models/acme/bert-sentiment/badge.svg`);
  assert.equal(badge.status, 200);
  assert.match(badge.headers.get('content-type'), /^image\/svg\+xml/);
  const badgeText = await badge.text();
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return doc.querySelector('parsererror') ? 'not well-formed' : doc.documentElement.textContent;
  }, badgeText);
  const sentiment = await api('/v1/models/acme/bert-sentiment/footprint');
  assert.match(parsed, /^CO2e of acme\/bert-sentiment \(usage\): /);
  assert.ok(parsed.endsWith(`CO2e${Number(sentiment.total_co2e_kg.value.toPrecision(3))} kg`), parsed);
  step(`the badge of a model is well-formed SVG with its total: ${parsed}`);
  const perInference = await (await fetch(`${base}/v1/models/acme/bert-sentiment/badge.svg?metric=per_inference`)).text();
  const g = sentiment.co2e_g_per_inference.value;
  assert.ok(g >= 0.01 && g < 1000, `the seeded per-inference figure ${g} g is written in g`);
  assert.ok(perInference.includes(`>${Number(g.toPrecision(3))} g / inference</text>`), perInference);
  step(`the per-inference badge shows ${Number(g.toPrecision(3))} g / inference`);

  assert.deepEqual(problems, [], 'console errors');
  step('no console error and no uncaught exception');
  console.log(`${passed} passed, 0 failed`);
} finally {
  await browser.close();
}
