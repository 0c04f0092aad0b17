import { get, type Page } from '../api';
import { DependencyGraph } from '../components/dependency-graph';
import { Badge, ProblemBox, Section, type Tone } from '../components/ui';
import { useLoad } from '../hooks';
import type { SchemaSummary, TypeDependencies } from '../types';

const VERSION_TONE: Record<string, Tone> = {
  approved: 'ok',
  proposed: 'info',
  deprecated: 'warn',
  retired: 'idle',
};

/** Event types with their versions, owners and compatibility, and who depends on whom. */
export function CatalogView() {
  const schemas = useLoad((s) => get<Page<SchemaSummary>>('/v1/catalog/schemas', s), []);
  const deps = useLoad((s) => get<Page<TypeDependencies>>('/v1/catalog/dependencies', s), []);
  return (
    <div class="view">
      <div class="view-head">
        <h1>Catalog</h1>
        <p class="muted">
          Canonical event types and their schema versions. The full HTTP API is in the{' '}
          <a href="/docs" target="_blank" rel="noopener">
            API reference
          </a>
          .
        </p>
      </div>
      <Section
        title="Dependency map"
        note="who publishes each type, and the routes and sinks that consume it (click a box)"
      >
        <ProblemBox problem={deps.error} what="Dependencies" />
        {deps.data && <DependencyGraph items={deps.data.items} />}
      </Section>
      <Section title="Event types">
        <ProblemBox problem={schemas.error} what="Schemas" />
        {schemas.data && (
          <table>
            <thead>
              <tr>
                <th>Type</th>
                <th>Domain</th>
                <th>Owner</th>
                <th>Compatibility</th>
                <th class="num">Current</th>
                <th>Versions</th>
              </tr>
            </thead>
            <tbody>
              {schemas.data.items.map((t) => (
                <tr key={t.type}>
                  <td>
                    <code>{t.type}</code>
                  </td>
                  <td>{t.domain}</td>
                  <td>{t.owner}</td>
                  <td>{t.compatibility}</td>
                  <td class="num">{t.latestApproved ?? '–'}</td>
                  <td>
                    {t.versions.map((v) => (
                      <Badge key={v.version} tone={VERSION_TONE[v.status] ?? 'idle'}>
                        v{v.version} {v.status}
                      </Badge>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}
