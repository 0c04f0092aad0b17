import { type ComponentChildren, Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ApiProblem } from '../api';

export type Tone = 'ok' | 'warn' | 'bad' | 'idle' | 'info';

const MARK: Record<Tone, string> = { ok: '●', warn: '▲', bad: '■', idle: '○', info: '◆' };

/** A status with its word and a shape as well as a colour, so it reads without colour too. */
export function Badge(props: { tone: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      <span aria-hidden="true">{MARK[props.tone]}</span> {props.children}
    </span>
  );
}

export function circuitTone(state: string): Tone {
  return state === 'closed' ? 'ok' : state === 'half-open' ? 'warn' : state === 'open' ? 'bad' : 'idle';
}

export function healthTone(state: string): Tone {
  switch (state) {
    case 'up':
    case 'running':
      return 'ok';
    case 'degraded':
    case 'connecting':
    case 'replaying':
      return 'warn';
    case 'down':
    case 'stopped':
      return 'bad';
    default:
      return 'idle';
  }
}

/** What the hub said went wrong, with each field it named. */
export function ProblemBox(props: { problem: ApiProblem | null; what?: string }) {
  const { problem } = props;
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <strong>
        {props.what ? `${props.what}: ` : ''}
        {problem.status ? `${problem.status} ${problem.code}` : problem.code}
      </strong>
      <p>{problem.detail}</p>
      {problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={`${e.path}:${e.message}`}>
              <code>{e.path || '/'}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A feature the hub does not serve (404 on its endpoint) or this key may not use (403). */
export function Unavailable(props: { problem: ApiProblem; feature: string }) {
  if (props.problem.status === 404 && props.problem.code === 'not-found') {
    return (
      <p class="muted unavailable">
        <Badge tone="idle">not available</Badge> {props.feature} is not available on this hub.
      </p>
    );
  }
  if (props.problem.status === 403) {
    return (
      <p class="muted unavailable">
        <Badge tone="idle">no access</Badge> {props.problem.detail}
      </p>
    );
  }
  return <ProblemBox problem={props.problem} what={props.feature} />;
}

export function Pager(props: {
  page: number;
  next: string | null;
  onNext(cursor: string): void;
  onPrevious(): void;
}) {
  return (
    <div class="pager">
      <button type="button" class="secondary" disabled={props.page <= 1} onClick={props.onPrevious}>
        ← Previous
      </button>
      <span class="muted">page {props.page}</span>
      <button
        type="button"
        class="secondary"
        disabled={props.next === null}
        onClick={() => props.next !== null && props.onNext(props.next)}
      >
        Next →
      </button>
    </div>
  );
}

/** A modal that says what an action will do and waits for a yes. */
export function ConfirmDialog(props: {
  title: string;
  children: ComponentChildren;
  confirm: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2>{props.title}</h2>
      <div class="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** Any JSON, as text: whatever an event carries is shown, never interpreted as markup. */
export function JsonView(props: { value: unknown; label?: string }) {
  return (
    <section class="json-view" aria-label={props.label ?? 'JSON'}>
      <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>
    </section>
  );
}

export function Stat(props: {
  label: string;
  value: string;
  unit?: string;
  tone?: Tone;
  note?: string;
  testId?: string;
}) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`} data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">
        {props.value}
        {props.unit && <span class="stat-unit"> {props.unit}</span>}
      </div>
      {props.note && <div class="stat-note">{props.note}</div>}
    </div>
  );
}

export function Section(props: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  note?: string;
}) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.note && <span class="muted">{props.note}</span>}
        {props.actions && <div class="card-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="muted empty">{props.children}</p>;
}

/** A dotted name (an event type) that may wrap after each dot rather than inside a word. */
export function Dotted(props: { text: string }) {
  const parts = props.text.split('.');
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              .<wbr />
            </>
          )}
        </Fragment>
      ))}
    </>
  );
}
