// The README documents every error code, every config option and every swarmctl command the
// code has. Each list comes from the code itself, so adding a code, an option or a command
// without its README row fails here.
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { OPTION_TYPES } from '../../../src/config/options.js';
import { ErrorCodes } from '../../../src/errors.js';
import { ERROR_RULES } from '../../../src/gateway/error-map.js';
import { firstCells, readRepoFile, section } from './markdown.js';

const readme = readRepoFile('README.md');

/** Every top-level swarmctl command, from the commander program itself (nothing is started). */
function swarmctlCommands(): string[] {
  const io = { out: () => {}, err: () => {} };
  const program = buildProgram(io, {}, { exitCode: 0 });
  return program.commands.map((command) => command.name());
}

describe('README error codes', () => {
  const cells = firstCells(section(readme, 'Error codes'));

  it('has a table row for every ErrorCodes value', () => {
    const codes = Object.values(ErrorCodes);
    expect(codes.length).toBeGreaterThan(50);
    const missing = codes.filter((code) => !cells.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('gives each code the gateway maps its HTTP status and OpenAI code (ERROR_RULES)', () => {
    const rows = section(readme, 'Error codes')
      .split('\n')
      .filter((line) => line.startsWith('|'));
    const wrong = Object.entries(ERROR_RULES).flatMap(([code, rule]) => {
      const row = rows.find((line) => line.includes(`\`${code}\``)) ?? '';
      const httpCell = row.split(/(?<!\\)\|/)[2] ?? '';
      const saysStatus = httpCell.includes(String(rule.status));
      const saysCode =
        rule.code === null ? httpCell.includes('`null`') : httpCell.includes(`\`${rule.code}\``);
      return saysStatus && saysCode
        ? []
        : [`${code}: ${rule.status} ${rule.code}, README says "${httpCell.trim()}"`];
    });
    expect(wrong).toEqual([]);
  });
});

describe('README configuration table', () => {
  it('has a row naming every option path of OPTION_TYPES', () => {
    const cells = firstCells(section(readme, 'Configuration'));
    const paths = Object.keys(OPTION_TYPES);
    expect(paths.length).toBeGreaterThan(80);
    // A row may cover a few related options; it then names each full path in backticks.
    const missing = paths.filter((path) => !cells.some((cell) => cell.includes(`\`${path}\``)));
    expect(missing).toEqual([]);
  });
});

describe('README swarmctl section', () => {
  it('lists every command of the swarmctl program in a table row as `swarmctl <name>`', () => {
    const names = swarmctlCommands();
    expect(names).toEqual(expect.arrayContaining(['status', 'nodes', 'init', 'run', 'pause']));
    const cells = firstCells(section(readme, 'swarmctl'));
    const missing = names.filter((name) => {
      const written = new RegExp(`^\`swarmctl ${name}[ \`]`);
      return !cells.some((cell) => written.test(cell));
    });
    expect(missing).toEqual([]);
  });
});

describe('README Development and Benchmarks', () => {
  it('names every runtime dependency in "Libraries and why"', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { dependencies: Record<string, string> };
    const libraries = readme.slice(readme.indexOf('### Libraries and why'));
    const missing = Object.keys(pkg.dependencies).filter((name) => !libraries.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('gives the setup and test commands', () => {
    expect(section(readme, 'Development')).toContain('```sh\nnpm install\nnpm test\n```');
  });

  it('names every BENCH choice bench/run.ts accepts', () => {
    const choices = /\[([^\]]+)\]\.includes\(which\)/.exec(readRepoFile('bench/run.ts'))?.[1];
    const names = (choices ?? '').split(',').map((name) => name.trim().replace(/'/g, ''));
    expect(names).toContain('all');
    expect(section(readme, 'Benchmarks')).toContain(`\`BENCH=${names.join('|')}\``);
  });
});
