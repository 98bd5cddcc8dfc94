// The churn of churn.test.ts with every core held busy by a CPU hog (a game at 100 %): the
// failure detector, restarts and retries all run late, and still not one request may fail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChurnSwarm } from '../helpers/churn.js';

const swarm = new ChurnSwarm();

beforeAll(() => swarm.start(), 180_000);
afterAll(() => swarm.destroy());

it('fails no request under churn with every core busy', async () => {
  const { summary, kills } = await swarm.run({ seconds: 30, hog: true });
  expect(kills).toBeGreaterThanOrEqual(10);
  await swarm.expectNothingFailed(summary);
});
