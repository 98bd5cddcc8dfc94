import { describe, expect, it } from 'vitest';
import { findSecrets, isPlaceholder, requestText, SECRET_PATTERNS } from '../../../src/scheduling/secrets.js';

const kinds = (text: string) => findSecrets(text).map((f) => f.kind);

describe('findSecrets', () => {
  it('documents every pattern with a kind, a description and a global regex', () => {
    expect(SECRET_PATTERNS.length).toBeGreaterThanOrEqual(10);
    for (const pattern of SECRET_PATTERNS) {
      expect(pattern.kind).toMatch(/^[a-z-]+$/);
      expect(pattern.description.length).toBeGreaterThan(10);
      expect(pattern.regex.global).toBe(true);
    }
  });

  it.each([
    ['private-key', 'here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow...'],
    ['private-key', '-----BEGIN OPENSSH PRIVATE KEY-----'],
    ['private-key', '-----BEGIN PRIVATE KEY-----'],
    ['aws-access-key', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
    ['github-token', `token ghp_${'a1B2'.repeat(9)}`],
    ['github-token', `github_pat_${'A1b2_'.repeat(10)}`],
    ['openai-api-key', `OPENAI key sk-proj-${'Ab3'.repeat(16)}`],
    ['anthropic-api-key', `use sk-ant-api03-${'xY9_'.repeat(12)}`],
    ['slack-token', 'xoxb-1234567890-abcdefghij'],
    ['google-api-key', `key=AIza${'B'.repeat(35)}`],
    [
      'jwt',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['url-credentials', 'DATABASE postgres://admin:s3cr3tPass@db.internal:5432/app'],
    ['secret-assignment', 'db_password = "hunter2!"'],
    ['secret-assignment', '{"api_key": "abc123def456"}'],
    ['secret-assignment', "client_secret: 'q8w7e6r5'"],
    ['secret-assignment', 'token := "tok_live_99"'],
    ['env-secret', 'PORT=8080\nSTRIPE_SECRET_KEY=rk_live_51abc\n'],
    ['env-secret', 'export DB_PASSWORD=hunter2'],
  ])('finds %s in %j', (kind, text) => {
    expect(kinds(text)).toContain(kind);
  });

  it('reports one kind per secret, the most specific first', () => {
    expect(kinds(`sk-ant-api03-${'x'.repeat(40)}`)).toEqual(['anthropic-api-key']);
    expect(kinds(`api_key = "sk-${'a'.repeat(30)}"`)).toHaveLength(1);
  });

  it.each([
    'password = ""',
    'password = "<your password>"',
    'password: "********"',
    'api_key = "changeme"',
    "token: '$" + "{GITHUB_TOKEN}'", // a shell/template reference
    'secret = "{{ vault.secret }}"',
    'password: "your-password-here"',
    'API_KEY=',
    'API_KEY=$OPENAI_API_KEY',
    'API_KEY=<set me>',
    'MAX_TOKENS=4096',
    'TOKEN_TTL=3600',
    'LOG_LEVEL=debug',
    'max_tokens: "512"',
    'tokenizer = "bert-base"',
    'The password policy requires 12 characters and the token expires.',
    'postgres://user:password@localhost/db',
    'Refactor task-sk-list to use desk-lamp ordering.',
  ])('sees no secret in %j', (text) => {
    expect(findSecrets(text)).toEqual([]);
  });

  it('says where each secret starts', () => {
    const text = 'first line\nAWS AKIAIOSFODNN7EXAMPLE';
    expect(findSecrets(text)).toEqual([{ kind: 'aws-access-key', index: text.indexOf('AKIA') }]);
  });

  it('scans a 1 MB prompt quickly, whatever its shape', () => {
    const shapes = [
      'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(18_000),
      'a'.repeat(1_000_000),
      'eyJ-'.repeat(250_000),
      'sk-'.repeat(333_000),
      'token:"'.repeat(140_000),
      'A_'.repeat(500_000),
      'password = "x\n'.repeat(70_000),
      'http://u:'.repeat(110_000),
      'KEY=1\n'.repeat(160_000),
    ];
    // A generous bound: this guards against catastrophic backtracking (seconds to minutes), not
    // speed, and must hold on a busy 2-core CI machine too.
    for (const text of shapes) {
      const started = performance.now();
      findSecrets(text);
      const ms = performance.now() - started;
      expect(ms, text.slice(0, 20)).toBeLessThan(1_000);
    }
  });
});

describe('isPlaceholder', () => {
  it('knows the documented placeholders', () => {
    for (const value of [
      '',
      '***',
      'xxxx',
      '<token>',
      '{secret}',
      '$' + '{X}',
      '$X',
      'changeme',
      'YOUR_KEY',
      'null',
      'TODO',
    ]) {
      expect(isPlaceholder(value), value).toBe(true);
    }
    for (const value of ['hunter2', 'p@ss', 'sk-abc', 'correct horse'])
      expect(isPlaceholder(value), value).toBe(false);
  });
});

describe('requestText', () => {
  it('collects message text, content parts, tool call arguments, prompt and input', () => {
    const text = requestText({
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'part' },
            { type: 'image_url', image_url: { url: 'data:xx' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ function: { name: 'f', arguments: '{"a":"arg"}' } }],
        },
      ],
      prompt: ['p1', 'p2'],
      input: 'in',
    });
    for (const piece of ['sys', 'part', 'arg', 'p1', 'p2', 'in']) expect(text).toContain(piece);
    expect(text).not.toContain('data:xx');
    expect(text).not.toContain('"m"');
  });

  it('unescapes JSON tool arguments so a .env file written by a tool is still seen', () => {
    const body = {
      messages: [
        {
          role: 'assistant',
          tool_calls: [
            {
              function: {
                arguments: JSON.stringify({ path: '.env', content: 'X=1\nDB_PASSWORD=hunter2\n' }),
              },
            },
          ],
        },
      ],
    };
    expect(kinds(requestText(body))).toContain('env-secret');
  });
});
