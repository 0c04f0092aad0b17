import { useState } from 'preact/hooks';
import { get, type Page, query } from '../api';
import { Empty, JsonView, Pager, ProblemBox, Section } from '../components/ui';
import { fromLocalInput, time } from '../format';
import { useCursor, useLoad } from '../hooks';
import { Link, navigate } from '../router';
import type { StoredEvent } from '../types';

const TYPES = /^\s*[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?\s*(,\s*[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?\s*)*$/;
const PLANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const MAX_RANGE_MS = 31 * 24 * 3600_000;

interface Filters {
  readonly type: string;
  readonly subject: string;
  readonly plant: string;
  readonly from: string;
  readonly to: string;
}

const NONE: Filters = { type: '', subject: '', plant: '', from: '', to: '' };

/** The same rules the hub applies, checked before asking it. */
function check(f: Filters): Record<string, string> {
  const errors: Record<string, string> = {};
  if (f.type && !TYPES.test(f.type))
    errors.type = 'types are like quality.hold.placed or production.* (comma-separated)';
  if (f.plant && !PLANT.test(f.plant)) errors.plant = 'a plant code is letters, digits, _ or -';
  if (f.subject.length > 256) errors.subject = 'at most 256 characters';
  const from = fromLocalInput(f.from);
  const to = fromLocalInput(f.to);
  if (from && to) {
    if (Date.parse(to) <= Date.parse(from)) errors.to = 'must be later than from';
    else if (Date.parse(to) - Date.parse(from) > MAX_RANGE_MS) errors.to = 'at most 31 days after from';
  }
  return errors;
}

function TraceSearch() {
  const [subject, setSubject] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="filters"
      aria-label="Trace"
      onSubmit={(e) => {
        e.preventDefault();
        const s = subject.trim();
        if (!s) return setError('enter an order, lot, hold or shipment id');
        navigate(`/trace/${encodeURIComponent(s)}`);
      }}
    >
      <label>
        Trace an order, lot, hold or shipment
        <input
          name="trace-subject"
          value={subject}
          placeholder="e.g. 100004711"
          aria-invalid={error !== null}
          onInput={(e) => {
            setSubject((e.target as HTMLInputElement).value);
            setError(null);
          }}
        />
      </label>
      <button type="submit" class="primary">
        Show trace
      </button>
      {error && <span class="field-error">{error}</span>}
    </form>
  );
}

/** Search the log by type, subject, plant and time; open an event; trace a business object. */
export function EventsView() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [applied, setApplied] = useState<Filters>(NONE);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<StoredEvent | null>(null);
  const cursor = useCursor();
  const events = useLoad(
    (s) =>
      get<Page<StoredEvent>>(
        `/v1/events${query({
          type: applied.type.replace(/\s+/g, ''),
          subject: applied.subject.trim(),
          plant: applied.plant.trim(),
          from: fromLocalInput(applied.from),
          to: fromLocalInput(applied.to),
          after: cursor.after,
          limit: 50,
        })}`,
        s,
      ),
    [applied, cursor.after],
  );
  const field = (name: keyof Filters, label: string, props: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input
        name={name}
        value={draft[name]}
        aria-invalid={errors[name] !== undefined}
        onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })}
        {...props}
      />
      {errors[name] && <span class="field-error">{errors[name]}</span>}
    </label>
  );
  return (
    <div class="view">
      <div class="view-head">
        <h1>Event explorer</h1>
        <TraceSearch />
      </div>
      <form
        class="filters"
        aria-label="Search events"
        onSubmit={(e) => {
          e.preventDefault();
          const found = check(draft);
          setErrors(found);
          if (Object.keys(found).length > 0) return;
          cursor.reset();
          setSelected(null);
          setApplied({ ...draft });
        }}
      >
        {field('type', 'Type', { placeholder: 'production.*' })}
        {field('subject', 'Subject', { placeholder: 'order, lot, hold …' })}
        {field('plant', 'Plant', { placeholder: 'P1', size: 6 })}
        {field('from', 'From', { type: 'datetime-local', step: 1 })}
        {field('to', 'To', { type: 'datetime-local', step: 1 })}
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ProblemBox problem={events.error} what="Search" />
      <div class="split">
        <Section title="Events" note="in log order (by when the hub appended them)">
          {events.data && events.data.items.length === 0 && <Empty>No events match.</Empty>}
          {events.data && events.data.items.length > 0 && (
            <table class="clickable" data-testid="event-results">
              <thead>
                <tr>
                  <th class="num">Seq</th>
                  <th>Time</th>
                  <th>Type</th>
                  <th>Subject</th>
                  <th>Plant</th>
                </tr>
              </thead>
              <tbody>
                {events.data.items.map((e) => (
                  <tr
                    key={e.sequence}
                    class={selected?.sequence === e.sequence ? 'selected' : ''}
                    onClick={() => setSelected(e)}
                  >
                    <td class="num">
                      <button type="button" class="link" onClick={() => setSelected(e)}>
                        {e.sequence}
                      </button>
                    </td>
                    <td>{time(e.time)}</td>
                    <td>{e.type}</td>
                    <td>
                      {e.subject ? (
                        <Link href={`/trace/${encodeURIComponent(e.subject)}`}>{e.subject}</Link>
                      ) : (
                        '–'
                      )}
                    </td>
                    <td>{e.plant ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {events.data && (
            <Pager
              page={cursor.page}
              next={events.data.next}
              onNext={(c) => cursor.next(c)}
              onPrevious={cursor.previous}
            />
          )}
        </Section>
        <Section title={selected ? `Event ${selected.sequence}` : 'Event detail'}>
          {selected ? (
            <>
              <p class="muted small">
                {selected.type} · id <code>{selected.id}</code> · from <code>{selected.source}</code>
              </p>
              <JsonView value={selected} label="Event JSON" />
            </>
          ) : (
            <Empty>Select an event to see it as JSON.</Empty>
          )}
        </Section>
      </div>
    </div>
  );
}
