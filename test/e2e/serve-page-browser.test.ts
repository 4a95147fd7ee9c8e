import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';
import { fileLines } from '../helpers/files.js';
import { fireGated, gateDecisions, gatedPlace, storedRuns, waitingGates } from '../helpers/page.js';
import { killServers, startServe, until } from '../helpers/serve.js';

// trig serve's page in a real browser (headless Chromium through playwright-core): a run
// fired with the built bin/trig waits at its gate; a person loads the page, sees it,
// presses Approve, and sees the run succeed, its step run once by trig serve. No script on
// the page: the form posts and the 303 that follows are the browser's own.

const executablePath = chromiumPath();
if (!executablePath) console.warn('serve-page-browser: skipped: no chromium binary (apt-get install chromium, or set TRIG_CHROMIUM)');

let browser: Browser | undefined;
beforeAll(async () => {
  if (executablePath) browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => browser?.close());
afterEach(() => killServers());

describe.skipIf(!executablePath)("trig serve's page in Chromium (skipped without a chromium binary)", () => {
  it('shows the waiting run; Approve carries it on; the page then shows it succeeded', { timeout: 120_000 }, async () => {
    const p = gatedPlace('{message: "deploy <+trigger.environment>?"}', { name: 'release <i>now</i>' });
    const fired = fireGated(p);
    expect(fired.code, fired.stderr + fired.stdout).toBe(0);
    const [gate] = waitingGates(p);
    const server = await startServe([], { cwd: p.dir, env: p.env });

    const page = await browser!.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) refused.push(message.text());
    });
    await page.goto(`${server.url}/`);
    const row = page.locator(`#gate-${gate!.id}`);
    await expect.poll(() => row.innerText()).toContain('deploy prod?');
    expect(await row.innerText()).toContain('release <i>now</i>');
    expect(await page.locator('#runs').innerText()).toContain('awaiting_approval');
    // The inline style applies: the Content-Security-Policy allows it by its hash.
    expect(
      await page
        .locator('th')
        .first()
        .evaluate((th) => getComputedStyle(th).fontWeight),
    ).toBe('600');

    await row.locator('input[name="by"]').fill('ann');
    await row.locator('input[name="comment"]').fill('from the browser');
    await Promise.all([page.waitForURL(/\/\?decided=/), row.getByRole('button', { name: 'Approve' }).click()]);
    expect(await page.locator('.notice').innerText()).toBe(
      `gate ${gate!.id} (run ${gate!.runId}, release <i>now</i>) approved: the run goes on`,
    );
    expect(await page.locator(`#gate-${gate!.id}`).count()).toBe(0);

    // Reloaded (as a person would) until the run is shown over.
    const runRow = page.locator('#runs tr', { has: page.locator(`a[href="/runs/${gate!.runId}"]`) });
    await until(
      'the page to show the run succeeded',
      async () => {
        await page.goto(`${server.url}/`);
        return /\bsucceeded\b/.test(await runRow.innerText());
      },
      60_000,
    );
    expect(fileLines(p.dir, 'deployed.txt')).toEqual(['deployed']);
    expect(storedRuns(p)[0]!.status).toBe('succeeded');
    expect(gateDecisions(p, gate!.id)).toEqual([
      { verdict: 'approve', by: 'ann', at: expect.any(String), from: 'http', comment: 'from the browser' },
    ]);

    // Its log, one click away: masked and shown as text.
    await runRow.locator('a').first().click();
    const log = await page.locator('#log').innerText();
    expect(log).toContain('[release <i>now</i>/deploy] token *** <b>bold</b>');
    expect(log).toContain('approved by ann (from the browser)');
    expect(refused).toEqual([]);
    expect(path.basename(page.url())).toBe(gate!.runId);
    await page.close();
  });
});
