import { useState } from 'preact/hooks';
import { type ApiProblem, get, type Page, post, query } from '../api';
import {
  Badge,
  ConfirmDialog,
  Dotted,
  Empty,
  JsonView,
  Pager,
  ProblemBox,
  Section,
  type Tone,
} from '../components/ui';
import { count, time } from '../format';
import { useCursor, useLoad } from '../hooks';
import { Link, useLocation } from '../router';
import type { DeadLetter } from '../types';

const REASONS = ['rejected', 'max-attempts', 'max-age'];
const STATUSES = ['open', 'replaying', 'replayed', 'discarded'];
/** The hub acts on at most this many entries per bulk call. */
const BULK_LIMIT = 10_000;

const STATUS_TONE: Record<DeadLetter['status'], Tone> = {
  open: 'bad',
  replaying: 'warn',
  replayed: 'ok',
  discarded: 'idle',
};

interface Filter {
  readonly route: string;
  readonly type: string;
  readonly reason: string;
  readonly status: string;
}

type Action =
  | { kind: 'replay'; entry: DeadLetter }
  | { kind: 'discard'; entry: DeadLetter }
  | { kind: 'bulk-replay'; matched: number }
  | { kind: 'bulk-discard'; matched: number };

/** Open entries matching the filter, counted the way a bulk action will find them. */
async function countOpen(filter: Filter): Promise<number> {
  let total = 0;
  let after: string | null = null;
  for (let pages = 0; pages < BULK_LIMIT / 1000; pages++) {
    const page: Page<DeadLetter> = await get(
      `/v1/dlq${query({ route: filter.route, type: filter.type, reason: filter.reason, status: 'open', after, limit: 1000 })}`,
    );
    total += page.items.length;
    if (page.next === null) break;
    after = page.next;
  }
  return Math.min(total, BULK_LIMIT);
}

function Inspect(props: { entry: DeadLetter; onAction(action: Action): void }) {
  const e = props.entry;
  return (
    <div class="inspect" data-testid="dlq-entry">
      <p>
        <Badge tone={STATUS_TONE[e.status]}>{e.status}</Badge> <strong>{e.reason}</strong> on route{' '}
        <code>{e.route}</code>, {time(e.at)}
        {e.updatedBy ? ` · last changed by ${e.updatedBy} at ${time(e.updatedAt)}` : ''}
      </p>
      <p class="small">
        Event <code>{e.event.type}</code> · subject{' '}
        {e.event.subject ? (
          <Link href={`/trace/${encodeURIComponent(e.event.subject)}`}>{e.event.subject}</Link>
        ) : (
          '–'
        )}{' '}
        · seq {e.event.sequence}
      </p>
      {e.status === 'open' && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => props.onAction({ kind: 'replay', entry: e })}>
            Replay…
          </button>
          <button type="button" class="danger" onClick={() => props.onAction({ kind: 'discard', entry: e })}>
            Discard…
          </button>
        </div>
      )}
      <h3>Attempts ({e.attempts.length})</h3>
      <table class="compact">
        <thead>
          <tr>
            <th>#</th>
            <th>At</th>
            <th>Status</th>
            <th>Error</th>
            <th class="num">ms</th>
          </tr>
        </thead>
        <tbody>
          {e.attempts.map((a, i) => (
            <tr key={`${a.at}-${i}`}>
              <td>{i + 1}</td>
              <td>{time(a.at)}</td>
              <td>{a.status ?? '–'}</td>
              <td class="wrap">{a.error ?? '–'}</td>
              <td class="num">{a.ms}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Payload</h3>
      <JsonView value={e.event} label="Dead letter payload" />
    </div>
  );
}

/** Triage of the dead-letter queue: filter, inspect, replay or discard, one by one or in bulk. */
export function DlqView() {
  const { params } = useLocation();
  const [draft, setDraft] = useState<Filter>({
    route: params.get('route') ?? '',
    type: '',
    reason: '',
    status: params.get('id') ? '' : 'open',
  });
  const [filter, setFilter] = useState<Filter>(draft);
  const [selectedId, setSelectedId] = useState<string | null>(params.get('id'));
  const [action, setAction] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const cursor = useCursor();
  const list = useLoad(
    (s) => get<Page<DeadLetter>>(`/v1/dlq${query({ ...filter, after: cursor.after, limit: 25 })}`, s),
    [filter, cursor.after],
    5_000,
  );
  const selected = useLoad(
    (s) =>
      selectedId ? get<DeadLetter>(`/v1/dlq/${encodeURIComponent(selectedId)}`, s) : Promise.resolve(null),
    [selectedId],
    5_000,
  );
  const typeError =
    draft.type && !/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(draft.type)
      ? 'an exact type such as production.order.released'
      : null;

  const bulk = async (kind: 'bulk-replay' | 'bulk-discard') => {
    setProblem(null);
    try {
      const matched = await countOpen(filter);
      setAction(
        kind === 'bulk-replay' ? { kind: 'bulk-replay', matched } : { kind: 'bulk-discard', matched },
      );
    } catch (p) {
      setProblem(p as ApiProblem);
    }
  };
  const run = async () => {
    if (!action) return;
    setBusy(true);
    setProblem(null);
    try {
      if (action.kind === 'replay' || action.kind === 'discard') {
        await post(`/v1/dlq/${encodeURIComponent(action.entry.id)}/${action.kind}`);
        setMessage(`${action.kind === 'replay' ? 'Replaying' : 'Discarded'} dead letter ${action.entry.id}.`);
      } else {
        const body = {
          ...(filter.route ? { route: filter.route } : {}),
          ...(filter.type ? { type: filter.type } : {}),
          ...(filter.reason ? { reason: filter.reason } : {}),
        };
        const answer = await post<{ matched: number }>(
          `/v1/dlq/${action.kind === 'bulk-replay' ? 'replay' : 'discard'}`,
          body,
        );
        setMessage(
          `${action.kind === 'bulk-replay' ? 'Replaying' : 'Discarded'} ${count(answer.matched)} dead letters.`,
        );
      }
      list.reload();
      selected.reload();
    } catch (p) {
      setProblem(p as ApiProblem);
    } finally {
      setBusy(false);
      setAction(null);
    }
  };
  const filterText = [
    filter.route && `route ${filter.route}`,
    filter.type && `type ${filter.type}`,
    filter.reason && `reason ${filter.reason}`,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div class="view">
      <div class="view-head">
        <h1>Dead letters</h1>
        {message && (
          <p class="notice" role="status">
            {message}
          </p>
        )}
        <ProblemBox problem={problem} what="Action refused" />
      </div>
      <form
        class="filters"
        aria-label="Filter dead letters"
        onSubmit={(e) => {
          e.preventDefault();
          if (typeError) return;
          cursor.reset();
          setFilter({ ...draft });
        }}
      >
        <label>
          Route
          <input
            name="route"
            value={draft.route}
            onInput={(e) => setDraft({ ...draft, route: (e.target as HTMLInputElement).value.trim() })}
          />
        </label>
        <label>
          Type
          <input
            name="type"
            value={draft.type}
            aria-invalid={typeError !== null}
            onInput={(e) => setDraft({ ...draft, type: (e.target as HTMLInputElement).value.trim() })}
          />
          {typeError && <span class="field-error">{typeError}</span>}
        </label>
        <label>
          Reason
          <select
            name="reason"
            value={draft.reason}
            onChange={(e) => setDraft({ ...draft, reason: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {REASONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            name="status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Filter
        </button>
        <span class="spacer" />
        <button type="button" class="secondary" onClick={() => bulk('bulk-replay')}>
          Replay all open matching…
        </button>
        <button type="button" class="danger" onClick={() => bulk('bulk-discard')}>
          Discard all open matching…
        </button>
      </form>
      <ProblemBox problem={list.error} what="Dead letters" />
      <div class="split">
        <Section title="Entries" note="oldest first">
          {list.data && list.data.items.length === 0 && <Empty>No dead letters match.</Empty>}
          {list.data && list.data.items.length > 0 && (
            <table class="clickable" data-testid="dlq-list">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Route</th>
                  <th>Type</th>
                  <th>Subject</th>
                  <th>Reason</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((d) => (
                  <tr
                    key={d.id}
                    class={selectedId === d.id ? 'selected' : ''}
                    onClick={() => setSelectedId(d.id)}
                  >
                    <td>
                      <button type="button" class="link" onClick={() => setSelectedId(d.id)}>
                        {time(d.at)}
                      </button>
                    </td>
                    <td>{d.route}</td>
                    <td class="wrap">
                      <Dotted text={d.event.type} />
                    </td>
                    <td class="wrap">{d.event.subject ?? '–'}</td>
                    <td>{d.reason}</td>
                    <td>
                      <Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {list.data && (
            <Pager
              page={cursor.page}
              next={list.data.next}
              onNext={cursor.next}
              onPrevious={cursor.previous}
            />
          )}
        </Section>
        <Section title="Inspect">
          <ProblemBox problem={selected.error} what="Dead letter" />
          {selected.data ? (
            <Inspect entry={selected.data} onAction={setAction} />
          ) : (
            <Empty>Select an entry.</Empty>
          )}
        </Section>
      </div>
      {action && (
        <ConfirmDialog
          title={
            action.kind === 'replay'
              ? 'Replay this dead letter?'
              : action.kind === 'discard'
                ? 'Discard this dead letter?'
                : action.kind === 'bulk-replay'
                  ? 'Replay every matching dead letter?'
                  : 'Discard every matching dead letter?'
          }
          confirm={
            action.kind === 'replay'
              ? 'Replay 1 entry'
              : action.kind === 'discard'
                ? 'Discard 1 entry'
                : `${action.kind === 'bulk-replay' ? 'Replay' : 'Discard'} ${count(action.matched)} entries`
          }
          danger={action.kind === 'discard' || action.kind === 'bulk-discard'}
          busy={busy || ('matched' in action ? action.matched === 0 : false)}
          onConfirm={run}
          onCancel={() => setAction(null)}
        >
          {action.kind === 'replay' && (
            <p>
              The event <code>{action.entry.event.id}</code> is delivered again to route{' '}
              <code>{action.entry.route}</code>. 1 entry changes to <em>replaying</em>; the action is recorded
              in the audit trail.
            </p>
          )}
          {action.kind === 'discard' && (
            <p>
              The entry is marked <em>discarded</em> and its event is not delivered to{' '}
              <code>{action.entry.route}</code>. 1 entry; the action is recorded in the audit trail.
            </p>
          )}
          {(action.kind === 'bulk-replay' || action.kind === 'bulk-discard') && (
            <p>
              <strong>{count(action.matched)}</strong> open entries match{' '}
              {filterText || 'no filter (every route)'}; each is{' '}
              {action.kind === 'bulk-replay' ? 'delivered again' : 'discarded'} (at most {count(BULK_LIMIT)}{' '}
              per call). The action is recorded in the audit trail.
            </p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
