import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { loadOrCreateNodeId, NODE_ID_FILE, NODE_ID_RE } from '../../../src/node/identity.js';
import { rejected } from '../../helpers/expect-error.js';
import { useTempDir } from './helpers.js';

describe('loadOrCreateNodeId', () => {
  const temp = useTempDir();

  it('creates the data dir (0700) and a private id file (0600) on first run', async () => {
    const dataDir = join(temp.dir, 'nested', 'swarmd');
    const id = await loadOrCreateNodeId(dataDir);
    expect(id).toMatch(NODE_ID_RE);
    expect((await readFile(join(dataDir, NODE_ID_FILE), 'utf8')).trim()).toBe(id);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, NODE_ID_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual([NODE_ID_FILE]);
  });

  it('returns the same id on later runs', async () => {
    const first = await loadOrCreateNodeId(temp.dir);
    expect(await loadOrCreateNodeId(temp.dir)).toBe(first);
  });

  it('gives different boxes different ids', async () => {
    const a = await loadOrCreateNodeId(join(temp.dir, 'a'));
    const b = await loadOrCreateNodeId(join(temp.dir, 'b'));
    expect(a).not.toBe(b);
  });

  it('agrees on one id when several callers race on a fresh dir', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateNodeId(temp.dir)));
    const stored = (await readFile(join(temp.dir, NODE_ID_FILE), 'utf8')).trim();
    expect(new Set(ids)).toEqual(new Set([stored]));
    expect(await readdir(temp.dir)).toEqual([NODE_ID_FILE]);
  });

  it('accepts an id with surrounding whitespace', async () => {
    await writeFile(join(temp.dir, NODE_ID_FILE), '  0123456789abcdef\n\n');
    expect(await loadOrCreateNodeId(temp.dir)).toBe('0123456789abcdef');
  });

  it.each([
    ['text', 'hello'],
    ['upper-case hex', '0123456789ABCDEF'],
    ['too short', '0123456789abcde'],
    ['empty', ''],
  ])('refuses a file holding %s with NODE_ID_CORRUPT and leaves it alone', async (_label, content) => {
    const file = join(temp.dir, NODE_ID_FILE);
    await writeFile(file, content);
    const err = await rejected(loadOrCreateNodeId(temp.dir), SwarmError);
    expect(err.code).toBe(ErrorCodes.NODE_ID_CORRUPT);
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('fails with DATA_DIR when the data dir cannot be created', async () => {
    const blocker = join(temp.dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    const err = await rejected(loadOrCreateNodeId(join(blocker, 'swarmd')), SwarmError);
    expect(err.code).toBe(ErrorCodes.DATA_DIR);
  });

  it('fails with DATA_DIR when the id file cannot be read', async () => {
    await mkdir(join(temp.dir, NODE_ID_FILE));
    const err = await rejected(loadOrCreateNodeId(temp.dir), SwarmError);
    expect(err.code).toBe(ErrorCodes.DATA_DIR);
  });
});
