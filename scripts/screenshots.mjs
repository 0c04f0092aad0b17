#!/usr/bin/env node
// Screenshots of every console view at 1366×768 into docs/screenshots/<view>.png: runs the demo for
// about a minute (so there are rates, traces, dead letters and milestones to show), signs in with its
// admin key, and captures each view. Needs a build (npm run build) and Debian's chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const { startDemo } = await import('../dist/src/sim/demo.js');
const { createLogger } = await import('../dist/src/observability/logger.js');
const { ensureConsoleBuilt, launchBrowser } = await import('../dist/test/helpers/browser.js');

const RUN_SECONDS = Number(process.env.SCREENSHOT_WARMUP_S ?? 60);
const OUT = 'docs/screenshots';

ensureConsoleBuilt();
mkdirSync(OUT, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-screenshots-'));
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
const demo = await startDemo({ plants: 2, rate: 4, port: 0, dataDir, logger: createLogger('warn', quiet) });
const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
try {
  console.log(`demo on ${demo.url}; letting it run ${RUN_SECONDS} s`);
  const until = Date.now() + RUN_SECONDS * 1000;
  while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 1000).unref());

  const api = async (path) => {
    const response = await fetch(`${demo.url}${path}`, {
      headers: { authorization: `Bearer ${demo.adminKey}` },
    });
    return response.json();
  };
  const page = await browser.context.newPage();
  await page.goto(demo.url);
  await page.getByLabel('API key').fill(demo.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 15_000 });

  const shoot = async (name) => {
    // Let the view's requests settle (bounded), then capture the viewport.
    await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`wrote ${OUT}/${name}.png`);
  };
  const open = async (label, heading) => {
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('link', { name: label, exact: true })
      .click();
    await page.getByRole('heading', { name: heading }).first().waitFor({ timeout: 15_000 });
  };

  await page.getByTestId('stat-ingest').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.u-over').length > 0, null, {
    timeout: 10_000,
  });
  await shoot('overview');

  await open('Business', 'Business');
  await page.getByText('Milestones by type and plant').waitFor({ timeout: 10_000 });
  await shoot('business');

  await open('Events', 'Event explorer');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByTestId('event-results').locator('tbody tr').first().click();
  await shoot('events');

  const orders = await api('/v1/events?type=production.order.completed&limit=1');
  const order =
    orders.items?.[0]?.subject ??
    (await api('/v1/events?type=production.order.released&limit=1')).items?.[0]?.subject;
  if (order) {
    await page.goto(`${demo.url}/trace/${encodeURIComponent(order)}`);
    await page.getByTestId('trace-timeline').waitFor({ timeout: 15_000 });
    await shoot('trace');
  }

  await open('Subscriptions', 'Subscriptions and connectors');
  await page.getByText('Subscriptions (routes)').waitFor();
  await shoot('subscriptions');

  await open('Dead letters', 'Dead letters');
  const first = page.getByTestId('dlq-list').locator('tbody tr').first();
  if (await first.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await first.click();
    await page.getByTestId('dlq-entry').waitFor({ timeout: 10_000 });
  }
  await shoot('dlq');

  await open('Catalog', 'Catalog');
  await page.locator('svg.dependency-graph').waitFor();
  await shoot('catalog');
} finally {
  await browser.close();
  await demo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
