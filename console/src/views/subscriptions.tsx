import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiProblem, get, type Page, post, query } from '../api';
import { Badge, ConfirmDialog, circuitTone, Empty, healthTone, ProblemBox, Section } from '../components/ui';
import { count, duration, fromLocalInput, time } from '../format';
import { useLoad } from '../hooks';
import { useLocation } from '../router';
import type { Cluster, Connector, StoredEvent, Subscription } from '../types';

interface ReplayPlan {
  readonly route: Subscription;
  readonly from: number | string;
  readonly sequence: number;
  readonly head: number;
}

/** Works out where a replay starts (a time becomes the first sequence at or after it) and how far it goes. */
async function planReplay(
  route: Subscription,
  input: string,
  mode: 'sequence' | 'time',
): Promise<ReplayPlan> {
  const head = route.position + route.lag.events;
  if (mode === 'sequence') return { route, from: Number(input), sequence: Number(input), head };
  const from = fromLocalInput(input) as string;
  const first = await get<Page<StoredEvent>>(`/v1/events${query({ from, limit: 1 })}`);
  return { route, from, sequence: first.items[0]?.sequence ?? head + 1, head };
}

function ReplayForm(props: { route: Subscription; onDone(message: string): void; onCancel(): void }) {
  const [mode, setMode] = useState<'sequence' | 'time'>('time');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [plan, setPlan] = useState<ReplayPlan | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const review = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    if (mode === 'sequence' && !/^\d+$/.test(value.trim()))
      return setError('a sequence is a whole number, e.g. 1042');
    if (mode === 'time' && !fromLocalInput(value)) return setError('pick a date and time');
    setError(null);
    try {
      setPlan(await planReplay(props.route, value.trim(), mode));
    } catch (p) {
      setProblem(p as ApiProblem);
    }
  };
  const confirm = async () => {
    if (!plan) return;
    setBusy(true);
    try {
      const answer = await post<{ from: number; head: number; events: number }>(
        `/v1/subscriptions/${encodeURIComponent(plan.route.name)}/replay`,
        { from: plan.from },
      );
      props.onDone(
        `Replaying ${plan.route.name} from sequence ${answer.from} (${count(answer.events)} events in the log up to ${answer.head}).`,
      );
    } catch (p) {
      setProblem(p as ApiProblem);
      setPlan(null);
    } finally {
      setBusy(false);
    }
  };
  const events = plan ? Math.max(0, plan.head - plan.sequence + 1) : 0;
  return (
    <form class="filters replay-form" onSubmit={review} aria-label={`Replay ${props.route.name}`}>
      <strong>Replay {props.route.name} from</strong>
      <select
        value={mode}
        onChange={(e) => setMode((e.target as HTMLSelectElement).value as 'sequence' | 'time')}
      >
        <option value="time">a time</option>
        <option value="sequence">a sequence</option>
      </select>
      {mode === 'time' ? (
        <input
          name="replay-from"
          type="datetime-local"
          step={1}
          value={value}
          aria-invalid={error !== null}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      ) : (
        <input
          name="replay-from"
          value={value}
          inputMode="numeric"
          aria-invalid={error !== null}
          placeholder="1042"
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      )}
      <button type="submit" class="primary">
        Review replay…
      </button>
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel
      </button>
      {error && <span class="field-error">{error}</span>}
      <ProblemBox problem={problem} what="Replay" />
      {plan && (
        <ConfirmDialog
          title={`Replay ${plan.route.name}?`}
          confirm={`Replay ${count(events)} events`}
          busy={busy}
          onConfirm={confirm}
          onCancel={() => setPlan(null)}
        >
          <p>
            The route goes back to sequence <strong>{plan.sequence}</strong> and delivers again every event
            from there up to the head ({plan.head}): <strong>{count(events)}</strong> events in the log, of
            which those matching <code>{plan.route.types.join(', ')}</code> reach{' '}
            <code>{plan.route.sink}</code> again. Receivers see them a second time (with the same event ids).
          </p>
        </ConfirmDialog>
      )}
    </form>
  );
}

/** Routes and their delivery health, sources and sinks, and the hub instances. */
export function SubscriptionsView() {
  const { params } = useLocation();
  const focus = params.get('route');
  const subs = useLoad((s) => get<Page<Subscription>>('/v1/subscriptions', s), [], 3_000);
  const connectors = useLoad((s) => get<Page<Connector>>('/v1/connectors', s), [], 5_000);
  const cluster = useLoad((s) => get<Cluster>('/v1/cluster', s), [], 10_000);
  const [replaying, setReplaying] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <div class="view">
      <div class="view-head">
        <h1>Subscriptions and connectors</h1>
        {message && (
          <p class="notice" role="status">
            {message}
          </p>
        )}
      </div>
      <Section title="Subscriptions (routes)" note="counts since this instance started">
        <ProblemBox problem={subs.error} what="Subscriptions" />
        {subs.data && subs.data.items.length === 0 && <Empty>No routes are configured.</Empty>}
        {subs.data && subs.data.items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Route</th>
                <th>Types → sink</th>
                <th>State</th>
                <th class="num">Position</th>
                <th class="num">Lag</th>
                <th>Circuit</th>
                <th class="num">Delivered</th>
                <th class="num">Failed</th>
                <th class="num">Dead-lettered</th>
                <th>Last error</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {subs.data.items.map((s) => (
                <Fragment key={s.name}>
                  <tr class={focus === s.name ? 'selected' : ''}>
                    <td>
                      <strong>{s.name}</strong>
                      <div class="muted small">lane {s.lane}</div>
                    </td>
                    <td class="wrap">
                      <code>{s.types.join(', ')}</code> → {s.sink}
                    </td>
                    <td>
                      <Badge tone={healthTone(s.state)}>{s.state}</Badge>
                    </td>
                    <td class="num">{s.position}</td>
                    <td class="num">
                      {count(s.lag.events)}
                      <div class="muted small">{duration(s.lag.seconds)}</div>
                    </td>
                    <td>
                      <Badge tone={circuitTone(s.circuit)}>{s.circuit}</Badge>
                    </td>
                    <td class="num">{count(s.delivered)}</td>
                    <td class="num">{count(s.failedAttempts)}</td>
                    <td class="num">{count(s.deadLettered)}</td>
                    <td class="wrap small">
                      {s.lastError ? `${time(s.lastError.at)}: ${s.lastError.error}` : '–'}
                    </td>
                    <td>
                      <button type="button" class="secondary small" onClick={() => setReplaying(s.name)}>
                        Replay…
                      </button>
                    </td>
                  </tr>
                  {replaying === s.name && (
                    <tr>
                      <td colSpan={11}>
                        <ReplayForm
                          route={s}
                          onCancel={() => setReplaying(null)}
                          onDone={(m) => {
                            setMessage(m);
                            setReplaying(null);
                            subs.reload();
                          }}
                        />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <div class="grid-2">
        <Section title="Connectors">
          <ProblemBox problem={connectors.error} what="Connectors" />
          {connectors.data && (
            <table>
              <thead>
                <tr>
                  <th>Connector</th>
                  <th>Kind</th>
                  <th>Role</th>
                  <th>Health / used by</th>
                </tr>
              </thead>
              <tbody>
                {connectors.data.items.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td>{c.kind}</td>
                    <td>{c.role}</td>
                    <td class="wrap">
                      {c.role === 'source' ? (
                        <>
                          <Badge tone={healthTone(c.health.type)}>{c.health.type}</Badge>{' '}
                          <span class="muted small">
                            {count(c.events)} events · {count(c.deadLettered)} dead letters
                            {c.health.reason ? ` · ${c.health.reason}` : ''}
                          </span>
                        </>
                      ) : (
                        <span class="small">
                          {[
                            ...c.usedBy.routes.map((r) => `route ${r}`),
                            ...c.usedBy.commands.map((x) => `command ${x}`),
                          ].join(', ') || '–'}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Hub instances">
          <ProblemBox problem={cluster.error} what="Cluster" />
          {cluster.data && (
            <>
              <p class="muted small">
                Answered by <code>{cluster.data.answeredBy}</code>; {cluster.data.instances.length}{' '}
                instance(s) share the store.
              </p>
              <table>
                <thead>
                  <tr>
                    <th>Work</th>
                    <th>Runs on</th>
                  </tr>
                </thead>
                <tbody>
                  {cluster.data.work.map((w) => (
                    <tr key={w.name}>
                      <td>{w.name}</td>
                      <td>
                        <code>{w.instance}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Section>
      </div>
    </div>
  );
}
