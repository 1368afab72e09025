// SPDX-License-Identifier: Apache-2.0
// Starts a real carbontree for a node test: a fresh database in a temporary
// directory, port 0 (read back from --port-file), and an admin token made with the
// binary's own `token create`. CARBONTREE_BIN names the binary.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export async function startServer(bin = process.env.CARBONTREE_BIN) {
  if (!bin) throw new Error('CARBONTREE_BIN must name the carbontree binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carbontree-contract-'));
  const db = path.join(dir, 'carbontree.db');
  const portFile = path.join(dir, 'port');
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const child = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1', '--port', '0', '--port-file', portFile, '--db', db, '--auto-migrate', '--log-level', 'warn'],
    { stdio: ['ignore', log, log] },
  );
  let exited = null;
  child.on('exit', (code) => (exited = code));
  for (let i = 0; i < 200 && exited === null; i++) {
    if (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim() !== '') break;
    await sleep(25);
  }
  if (exited !== null || !fs.existsSync(portFile)) {
    child.kill('SIGKILL');
    throw new Error(`carbontree did not start: ${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
  }
  const port = Number(fs.readFileSync(portFile, 'utf8').trim());
  const token = execFileSync(bin, ['token', 'create', '--name', 'contract', '--admin', '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return {
    base: `http://127.0.0.1:${port}`,
    token,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        for (let i = 0; i < 200 && exited === null; i++) await sleep(25);
        if (exited === null) child.kill('SIGKILL');
      }
      fs.closeSync(log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
