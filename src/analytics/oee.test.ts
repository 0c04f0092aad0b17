import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  bucketsOf,
  type CountIncrement,
  computeOee,
  counterIncrements,
  type MachineState,
  mergeIntervals,
  stateTimeline,
} from './oee.js';
import { pairDowntimes } from './oee-query.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;

test('the state before the window holds at its start; time before any known state is unknown', () => {
  assert.deepEqual(
    stateTimeline(
      [
        { at: T0 - 10 * MIN, state: 'running' },
        { at: T0 + 30 * MIN, state: 'down' },
      ],
      T0,
      T0 + HOUR,
    ),
    [
      { from: T0, to: T0 + 30 * MIN, state: 'running' },
      { from: T0 + 30 * MIN, to: T0 + HOUR, state: 'down' },
    ],
  );
  assert.deepEqual(stateTimeline([{ at: T0 + 15 * MIN, state: 'idle' }], T0, T0 + HOUR), [
    { from: T0, to: T0 + 15 * MIN, state: 'unknown' },
    { from: T0 + 15 * MIN, to: T0 + HOUR, state: 'idle' },
  ]);
});

test('samples arriving out of order are put in time order', () => {
  const timeline = stateTimeline(
    [
      { at: T0 + 40 * MIN, state: 'idle' },
      { at: T0, state: 'running' },
    ],
    T0,
    T0 + HOUR,
  );
  assert.deepEqual(
    timeline.map((s) => [s.state, (s.to - s.from) / MIN]),
    [
      ['running', 40],
      ['idle', 20],
    ],
  );
});

test('counter increments: deltas, a reset counts from 0, the first reading is the baseline', () => {
  assert.deepEqual(
    counterIncrements([
      { at: 1, value: 100 },
      { at: 2, value: 130 },
      { at: 3, value: 130 },
      { at: 4, value: 5 }, // reset: 5 made since
      { at: 5, value: 12 },
    ]),
    [
      { at: 2, delta: 30 },
      { at: 4, delta: 5 },
      { at: 5, delta: 7 },
    ],
  );
  // Out of order, and readings that are not counts, are handled.
  assert.deepEqual(
    counterIncrements([
      { at: 3, value: 20 },
      { at: 1, value: 10 },
      { at: 2, value: Number.NaN },
      { at: 4, value: -1 },
    ]),
    [{ at: 3, delta: 10 }],
  );
});

test('a known hour: 45 min running, 10 down, 5 idle; 2,500 good and 100 scrap at 60/min', () => {
  const figures = computeOee({
    from: T0,
    to: T0 + HOUR,
    states: [
      { at: T0, state: 'running' },
      { at: T0 + 20 * MIN, state: 'down' },
      { at: T0 + 30 * MIN, state: 'running' },
      { at: T0 + 55 * MIN, state: 'idle' },
    ],
    increments: [
      { at: T0 + 10 * MIN, good: 1000, scrap: 40 },
      { at: T0 + 50 * MIN, good: 1500, scrap: 60 },
      { at: T0 + HOUR, good: 999, scrap: 0 }, // the window is half-open: not counted
    ],
    downtimes: [{ from: T0 + 20 * MIN, to: T0 + 30 * MIN, planned: false, reasonCode: 'MECH-01' }],
    idealRatePerMinute: 60,
  });
  assert.equal(figures.runSeconds, 45 * 60);
  assert.equal(figures.plannedSeconds, 60 * 60);
  assert.equal(figures.downtimeSeconds, 15 * 60);
  assert.equal(figures.availability, 0.75);
  // 2,600 units at 1 s each over 2,700 s of running.
  assert.equal(figures.performance, 2600 / 2700);
  assert.equal(figures.quality, 2500 / 2600);
  assert.equal(figures.oee, 0.75 * (2600 / 2700) * (2500 / 2600));
  assert.equal(figures.goodCount, 2500);
  assert.equal(figures.scrapCount, 100);
  assert.equal(figures.throughputPerHour, 2500);
  assert.deepEqual(figures.downtimeReasons, [{ reasonCode: 'MECH-01', planned: false, seconds: 600 }]);
});

test('planned downtime is taken out of the planned time; performance is capped at 1', () => {
  const figures = computeOee({
    from: T0,
    to: T0 + HOUR,
    states: [
      { at: T0, state: 'running' },
      { at: T0 + 30 * MIN, state: 'setup' },
    ],
    increments: [{ at: T0 + MIN, good: 10_000, scrap: 0 }],
    downtimes: [{ from: T0 + 30 * MIN, to: T0 + 50 * MIN, planned: true, reasonCode: 'PM' }],
    idealRatePerMinute: 10,
  });
  assert.equal(figures.plannedSeconds, 40 * 60);
  assert.equal(figures.plannedDowntimeSeconds, 20 * 60);
  assert.equal(figures.runSeconds, 30 * 60);
  assert.equal(figures.availability, 0.75);
  assert.equal(figures.performance, 1);
  assert.equal(figures.quality, 1);
  assert.equal(figures.oee, 0.75);
});

test('without an ideal rate there is no performance and no OEE; availability and quality remain', () => {
  const figures = computeOee({
    from: T0,
    to: T0 + HOUR,
    states: [{ at: T0, state: 'running' }],
    increments: [{ at: T0 + MIN, good: 9, scrap: 1 }],
    downtimes: [],
    idealRatePerMinute: null,
  });
  assert.equal(figures.availability, 1);
  assert.equal(figures.performance, null);
  assert.equal(figures.quality, 0.9);
  assert.equal(figures.oee, null);
  assert.equal(figures.idealRatePerMinute, null);
});

test('a machine down all window has OEE 0; one never seen has no figures', () => {
  const down = computeOee({
    from: T0,
    to: T0 + HOUR,
    states: [{ at: T0 - MIN, state: 'down' }],
    increments: [],
    downtimes: [],
    idealRatePerMinute: 60,
  });
  assert.equal(down.availability, 0);
  assert.equal(down.performance, null);
  assert.equal(down.quality, null);
  assert.equal(down.oee, 0);
  const unseen = computeOee({
    from: T0,
    to: T0 + HOUR,
    states: [],
    increments: [],
    downtimes: [],
    idealRatePerMinute: 60,
  });
  assert.equal(unseen.availability, null);
  assert.equal(unseen.oee, null);
  assert.equal(unseen.unknownSeconds, 3600);
});

test('downtimes pair each start with the next end; an open one lasts to the window end', () => {
  assert.deepEqual(
    pairDowntimes(
      [
        { at: 10, planned: false, reasonCode: 'A' },
        { at: 50, planned: true, reasonCode: 'B' },
      ],
      [5, 20],
      100,
    ),
    [
      { from: 10, to: 20, planned: false, reasonCode: 'A' },
      { from: 50, to: 100, planned: true, reasonCode: 'B' },
    ],
  );
  assert.deepEqual(
    mergeIntervals(
      [
        { from: 0, to: 10 },
        { from: 5, to: 20 },
        { from: 30, to: 40 },
      ],
      2,
      35,
    ),
    [
      { from: 2, to: 20 },
      { from: 30, to: 35 },
    ],
  );
});

const stateArb = fc.constantFrom<MachineState>('running', 'idle', 'down', 'setup', 'unknown');
const inputArb = fc.record({
  states: fc.array(fc.record({ at: fc.integer({ min: -HOUR, max: 3 * HOUR }), state: stateArb }), {
    maxLength: 30,
  }),
  readings: fc.array(
    fc.record({ at: fc.integer({ min: -HOUR, max: 3 * HOUR }), value: fc.integer({ min: 0, max: 100_000 }) }),
    { maxLength: 40 },
  ),
  scrapReadings: fc.array(
    fc.record({ at: fc.integer({ min: -HOUR, max: 3 * HOUR }), value: fc.integer({ min: 0, max: 1000 }) }),
    { maxLength: 20 },
  ),
  downtimes: fc.array(
    fc.record({
      from: fc.integer({ min: -HOUR, max: 3 * HOUR }),
      length: fc.integer({ min: 0, max: HOUR }),
      planned: fc.boolean(),
    }),
    { maxLength: 5 },
  ),
  rate: fc.option(fc.double({ min: 0.1, max: 1000, noNaN: true }), { nil: null }),
  window: fc.integer({ min: 1, max: 2 * HOUR }),
});

type Input = typeof inputArb extends fc.Arbitrary<infer T> ? T : never;

function build(input: Input) {
  const increments: CountIncrement[] = [
    ...counterIncrements(input.readings).map((i) => ({ at: i.at, good: i.delta, scrap: 0 })),
    ...counterIncrements(input.scrapReadings).map((i) => ({ at: i.at, good: 0, scrap: i.delta })),
  ];
  return {
    from: 0,
    to: input.window,
    states: input.states,
    increments,
    downtimes: input.downtimes.map((d) => ({
      from: d.from,
      to: d.from + d.length,
      planned: d.planned,
      reasonCode: 'R',
    })),
    idealRatePerMinute: input.rate,
  };
}

test('property: every factor lies in [0, 1], and OEE = A × P × Q whenever all three are known', () => {
  fc.assert(
    fc.property(inputArb, (input) => {
      const f = computeOee(build(input));
      for (const factor of [f.availability, f.performance, f.quality, f.oee])
        assert.ok(factor === null || (factor >= 0 && factor <= 1), `factor ${factor}`);
      if (f.availability !== null && f.performance !== null && f.quality !== null)
        assert.ok(Math.abs((f.oee as number) - f.availability * f.performance * f.quality) < 1e-12);
      assert.ok(f.runSeconds <= f.plannedSeconds + 1e-9);
      assert.ok(f.downtimeSeconds >= -1e-9);
      assert.ok(
        Math.abs(f.plannedSeconds + f.unknownSeconds + f.plannedDowntimeSeconds - input.window / 1000) < 1e-6,
        'planned + unknown + planned downtime cover the window',
      );
    }),
  );
});

test('property: counter resets never give negative counts, and increments add up over a monotone run', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.integer(), value: fc.integer({ min: -5, max: 1_000_000 }) }), {
        maxLength: 50,
      }),
      (samples) => {
        for (const increment of counterIncrements(samples)) assert.ok(increment.delta > 0);
      },
    ),
  );
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 50 }), (steps) => {
      let value = 0;
      const samples = steps.map((step, i) => {
        value += step;
        return { at: i, value };
      });
      const total = counterIncrements(samples).reduce((n, i) => n + i.delta, 0);
      assert.equal(total, value - (samples[0]?.value ?? 0));
    }),
  );
});

test('property: bucket counts add up to the whole window', () => {
  fc.assert(
    fc.property(inputArb, fc.integer({ min: MIN, max: HOUR }), (input, bucketMs) => {
      const base = build(input);
      const whole = computeOee(base);
      let good = 0;
      let run = 0;
      for (const bucket of bucketsOf(base.from, base.to, bucketMs)) {
        const f = computeOee({ ...base, ...bucket });
        good += f.goodCount;
        run += f.runSeconds;
      }
      assert.equal(good, whole.goodCount);
      assert.ok(Math.abs(run - whole.runSeconds) < 1e-6);
    }),
  );
});
