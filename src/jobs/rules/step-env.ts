// The environment of a verification step, built from an allowlist and never copied from the
// daemon's own (which holds API keys: a test that prints its environment would send them to the
// model in the next prompt). It is PATH and the locale of the daemon, what the sandbox sets
// (HOME, TMPDIR), quiet-CI switches, and the variables the repository's `.swarmd.yaml` sets
// (its own values, never names of the daemon's variables). Pure.

/** Daemon variables a step gets: the command search path and the locale. */
const PASSED = /^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ)$/;

/** Tools run as in CI: no colours, no prompts, no update checks. */
const QUIET: Readonly<Record<string, string>> = {
  CI: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  npm_config_update_notifier: 'false',
  NO_UPDATE_NOTIFIER: '1',
};

/** Variables only the sandbox sets; a repository may not. */
export const SANDBOX_VARIABLES: readonly string[] = ['HOME', 'TMPDIR'];

/** A step's whole environment. */
export function stepEnv(
  daemon: NodeJS.ProcessEnv,
  sandbox: Readonly<Record<string, string>>,
  repository: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(daemon))
    if (PASSED.test(name) && value !== undefined) env[name] = value;
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, QUIET);
  for (const [name, value] of Object.entries(repository))
    if (!SANDBOX_VARIABLES.includes(name)) env[name] = value;
  return Object.assign(env, sandbox);
}
