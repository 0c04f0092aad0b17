/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a hub over
 * HTTP: sign-in, live numbers, a trace, a dead letter replayed, a late milestone, and event data
 * that tries to run a script.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { Hub } from '../../src/hub.js';
import type { CloudEvent } from '../../src/model/envelope.js';
import { ensureConsoleBuilt, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { makeEvent } from '../helpers/events.js';
import { ADMIN_KEY, createTestHub } from '../helpers/hub.js';
import { TestReceiver } from '../helpers/receiver.js';

const WAIT_MS = 20_000;

let hub: Hub;
let url: string;
let receiver: TestReceiver;
let browser: TestBrowser;
let page: Page;
/** Browser-side errors (CSP violations, uncaught exceptions) seen while the tests ran. */
const pageErrors: string[] = [];
/** Events the receiver refuses the first time (a target that rejects, then accepts after a fix). */
const rejectOnce = new Set<string>();

async function publish(events: CloudEvent[]): Promise<void> {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 202, await response.text());
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as T;
}

/** Polls `check` until it returns a value (bounded). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function holdPlaced(holdId: string, reason: string): CloudEvent {
  return makeEvent({
    type: 'quality.hold.placed',
    subject: holdId,
    plant: 'P1',
    data: {
      holdId,
      plant: 'P1',
      material: 'FG-1000',
      lots: [`L-${holdId}`],
      reason,
      placedAt: new Date().toISOString(),
    },
  });
}

const text = async (locator: Locator) => (await locator.textContent()) ?? '';

const nav = (name: string) =>
  page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true });

before(async () => {
  ensureConsoleBuilt();
  receiver = new TestReceiver();
  receiver.behaviour = ({ id }) => {
    if (rejectOnce.delete(id)) return { status: 422 };
    return { status: 204 };
  };
  await receiver.listen();
  hub = await createTestHub({
    connectors: { receiver: { kind: 'http', url: receiver.url } },
    routes: [
      {
        name: 'receiver-orders',
        types: ['production.order.released'],
        sink: 'receiver',
        retry: { maxAttempts: 3, initialDelay: '50ms', maxDelay: '200ms', maxAge: '1h' },
      },
    ],
    milestones: [
      {
        name: 'hold-decided',
        start: 'quality.hold.placed',
        end: { type: 'quality.disposition.decided' },
        correlate: 'subject',
        within: '1s',
      },
    ],
  });
  url = await hub.listen();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
      pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await receiver?.close();
});

test('sign-in: a wrong key gets a clear message; the admin key opens the console for this session only', async () => {
  await page.goto(url);
  const key = page.getByLabel('API key');
  assert.equal(await key.getAttribute('type'), 'password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Enter an API key' }).waitFor({ timeout: WAIT_MS });

  await key.fill('cvy_not-a-key-0123456789abcdefghijklmnopqrstuvw');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refused = page.getByRole('alert').filter({ hasText: 'That API key was not accepted' });
  await refused.waitFor({ timeout: WAIT_MS });
  assert.match(await text(refused), /unknown or revoked/);

  await key.fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: WAIT_MS });
  // Runs in the page (the test's own compile has no DOM types).
  const stored = await page.evaluate(
    "({ session: sessionStorage.getItem('conveyor.apiKey'), local: localStorage.length, cookies: document.cookie })",
  );
  assert.deepEqual(stored, { session: ADMIN_KEY, local: 0, cookies: '' });

  // Another tab is another session: it asks for the key again.
  const other = await browser.context.newPage();
  await other.goto(`${url}/dlq`);
  await other.getByLabel('API key').waitFor({ timeout: WAIT_MS });
  await other.close();
});

test('the overview refreshes on its own: the ingest total grows between two reads without a reload', async () => {
  await nav('Overview').click();
  const total = page.getByTestId('stat-ingest').locator('.stat-note');
  await total.waitFor({ timeout: WAIT_MS });
  const read = async () => Number((await text(total)).replace(/[^0-9]/g, ''));
  await page.evaluate(() => {
    (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
  });
  const before = await read();
  await publish(Array.from({ length: 5 }, () => makeEvent()));
  const grown = await eventually('the ingest total to grow', async () => {
    const now = await read();
    return now >= before + 5 ? now : undefined;
  });
  assert.ok(grown >= before + 5);
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    true,
    'the numbers changed without reloading the page',
  );
  assert.match(await text(page.getByTestId('overview-scope')), /this hub instance/);
  assert.ok((await page.locator('.u-over').count()) >= 2, 'the uPlot charts are drawn');
});

test('a trace for an order shows its events and each route’s delivery', async () => {
  const order = `PO-TRACE-${Date.now()}`;
  await publish([
    makeEvent({ type: 'production.order.released', subject: order }),
    makeEvent({ type: 'production.operation.completed', subject: order }),
  ]);
  await nav('Events').click();
  await page.getByLabel('Trace an order, lot, hold or shipment').fill(order);
  await page.getByRole('button', { name: 'Show trace' }).click();
  const timeline = page.getByTestId('trace-timeline');
  await timeline.waitFor({ timeout: WAIT_MS });
  await timeline.getByText('production.order.released').waitFor();
  await timeline.getByText('production.operation.completed').waitFor();
  // The trace refreshes itself: the delivery goes from pending to done once the receiver has it.
  await timeline
    .locator('.delivery')
    .filter({ hasText: 'receiver-orders' })
    .filter({ hasText: 'done' })
    .waitFor({ timeout: WAIT_MS });
  assert.equal(new URL(page.url()).pathname, `/trace/${order}`);
});

test('a dead letter is inspected, replayed after a confirmation, and delivered; the replay is audited', async () => {
  const event = makeEvent({ type: 'production.order.released', subject: `PO-DLQ-${Date.now()}` });
  rejectOnce.add(event.id);
  await publish([event]);
  const letter = await eventually('the dead letter', async () => {
    const page = await api<{ items: Array<{ id: string; event: { id: string } }> }>(
      '/v1/dlq?route=receiver-orders&status=open',
    );
    return page.items.find((d) => d.event.id === event.id);
  });

  await nav('Dead letters').click();
  const row = page
    .getByTestId('dlq-list')
    .locator('tbody tr')
    .filter({ hasText: event.subject as string });
  await row.waitFor({ timeout: WAIT_MS });
  await row.click();
  const entry = page.getByTestId('dlq-entry');
  await entry.getByText('HTTP 422').first().waitFor({ timeout: WAIT_MS });
  await entry.getByRole('button', { name: 'Replay…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Replay this dead letter?' });
  await dialog.waitFor();
  assert.match(await text(dialog), /1 entry/);
  await dialog.getByRole('button', { name: 'Replay 1 entry' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: `Replaying dead letter ${letter.id}` })
    .waitFor({ timeout: WAIT_MS });

  await eventually('the replayed event at the receiver', async () =>
    receiver.received.some((r) => r.id === event.id) ? true : undefined,
  );
  await entry.locator('.badge').filter({ hasText: 'replayed' }).waitFor({ timeout: WAIT_MS });
  const audit = await api<{ items: Array<{ target: string; outcome: string }> }>(
    '/v1/audit?action=dlq.replay',
  );
  assert.ok(audit.items.some((a) => a.target === letter.id && a.outcome === 'accepted'));
});

test('a late milestone shows on the business view', async () => {
  const holdId = `QH-LATE-${Date.now()}`;
  await publish([holdPlaced(holdId, 'burr on bore')]);
  await eventually('the milestone to be late', async () => {
    const late = await api<{ items: Array<{ correlation: string }> }>('/v1/milestones?status=late');
    return late.items.some((m) => m.correlation === holdId) ? true : undefined;
  });
  await nav('Business').click();
  const row = page.getByTestId('late-milestones').locator('tr').filter({ hasText: holdId });
  await row.waitFor({ timeout: WAIT_MS });
  assert.match(await text(row), /hold-decided/);
  assert.match(await text(row), /late/);
  // The same hold is active and listed with its lot.
  await page.getByText(`L-${holdId}`).first().waitFor({ timeout: WAIT_MS });
});

test('event data is shown as text: a script in it never runs', async () => {
  const payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  const holdId = `QH-XSS-${Date.now()}`;
  await publish([holdPlaced(holdId, payload)]);
  await nav('Events').click();
  await page.getByLabel('Subject').fill(holdId);
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.getByTestId('event-results').locator('tbody tr').filter({ hasText: holdId });
  await row.waitFor({ timeout: WAIT_MS });
  await row.click();
  const json = page.getByRole('region', { name: 'Event JSON' });
  await json.waitFor({ timeout: WAIT_MS });
  assert.ok((await text(json)).includes('<script>window.__xss=1</script>'), 'the markup is shown as text');
  assert.equal(await json.locator('script, img').count(), 0, 'no element was made from the data');

  await nav('Business').click();
  await page.getByText(payload).first().waitFor({ timeout: WAIT_MS });
  await page.goto(`${url}/trace/${holdId}`);
  await page.getByTestId('trace-timeline').waitFor({ timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
  assert.deepEqual(pageErrors, [], 'no CSP violation or script error in the page');
});
