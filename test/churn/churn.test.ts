// Workers dying and coming back all the time (test/helpers/churn.ts): four workers, sixteen
// clients, a random worker's daemon SIGKILLed every 1–2 s and restarted about 1 s later, for
// 30 s. Every kill lands at a random moment (the dial, the admission, the generation, the
// instant its result leaves): not one request may fail, and each is answered exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChurnSwarm } from '../helpers/churn.js';

const swarm = new ChurnSwarm();

beforeAll(() => swarm.start(), 180_000);
afterAll(() => swarm.destroy());

it('fails no request while a random worker is killed every 1–2 s and restarted', async () => {
  const { summary, kills } = await swarm.run({ seconds: 30, hog: false });
  expect(kills).toBeGreaterThanOrEqual(10);
  await swarm.expectNothingFailed(summary);
});
