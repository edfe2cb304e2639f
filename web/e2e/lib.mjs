// What every browser script here shares: the server and screenshot
// directory from the environment, headless Chromium launched the one way
// (each browser() is a fresh profile, so a separate login), the login form,
// and cleaning up. The scripts are run by cmd/pacer's TestBrowser* tests with
//   BASE_URL   the server, e.g. http://127.0.0.1:8080
//   SHOTS      directory for screenshots (default web/e2e/screenshots)
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const base = process.env.BASE_URL;
export const shots = process.env.SHOTS || path.join(import.meta.dirname, 'screenshots');
// Every wait in the scripts is for an event (a state on the page, a row, a
// download); the timeout only turns a hang into a failure, so it is as
// generous as the Go tests' hang guard: a server under -race on a busy
// machine may take seconds for what takes milliseconds alone.
export const HANG_GUARD_MS = Number(process.env.HANG_GUARD_MS) || 5 * 60 * 1000; // as internal/testwait.HangGuard

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dirs = [];
const contexts = [];

// browser starts Chromium with a fresh profile and returns its context and
// first page. A script error on the page fails the script. extraArgs are
// added to the shared flags.
export async function browser({ viewport = { width: 1280, height: 900 }, acceptDownloads = false, extraArgs = [] } = {}) {
  fs.mkdirSync(shots, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacer-chromium-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: [...args, ...extraArgs], viewport, acceptDownloads,
  });
  contexts.push(ctx);
  ctx.setDefaultTimeout(HANG_GUARD_MS);
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e.message); process.exitCode = 1; });
  return { ctx, page };
}

// closeAll closes every browser still open and removes their profiles; a
// script calls it last, in a finally.
export async function closeAll() {
  for (const c of contexts) await c.close().catch(() => {});
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

// login fills the login form and, given lands, waits for the page it lands on.
export async function login(page, user, password, lands) {
  await page.goto(base + '/login');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await btn(page, 'Log in').click();
  if (lands) await page.waitForURL(base + lands);
}

// wav is a 16-bit mono PCM WAV of a 440 Hz tone, for upload as a recording.
export function wav(rate, seconds) {
  const frames = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + 2 * frames);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * frames, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * frames, 40);
  for (let i = 0; i < frames; i++) b.writeInt16LE(Math.round(9000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + 2 * i);
  return b;
}

// btn is the button named exactly name.
export const btn = (page, name) => page.getByRole('button', { name, exact: true });

// run runs a script's steps and prints out, its measurements, as its last
// line. A failure prints the error and out so far (after onFailure, which
// may take a screenshot) and fails the script. The browsers are closed
// either way.
export async function run(out, steps, onFailure = async () => {}) {
  try {
    await steps();
    console.log(JSON.stringify(out));
  } catch (e) {
    await onFailure().catch(() => {});
    console.error(e);
    console.log(JSON.stringify(out));
    process.exitCode = 1;
  } finally {
    await closeAll();
  }
}
