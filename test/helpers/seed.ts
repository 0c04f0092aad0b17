/**
 * Property tests run with a fixed seed so the suite is deterministic; set CONVEYOR_TEST_SEED to
 * explore other inputs (a failure prints the seed and path to replay it).
 */
import fc from 'fast-check';

export const TEST_SEED = Number(process.env.CONVEYOR_TEST_SEED ?? 20_261_127);
fc.configureGlobal({ seed: TEST_SEED });
