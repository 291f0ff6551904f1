import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, jobPath, type Executor, type Job, type JsonSchema } from '../api';
import { ErrorMessage, PageTitle, useLoad } from '../components';
import { ENGINE_KEYS } from '../format';
import { href, navigate } from '../router';
import { SchedulePreview } from '../slots';

interface Fields {
  name: string;
  schedule: string;
  timezone: string;
  function_name: string;
  tenant_id: string;
  timeout_seconds: string;
  is_active: boolean;
  precise: boolean;
}

/** Config values as the inputs hold them: text for text and number inputs, JSON text for the rest. */
type ConfigValues = Record<string, string | boolean>;

const zones = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf(
      'timeZone',
    );
  } catch {
    return ['UTC'];
  }
})();

function typeOf(schema: JsonSchema): string {
  const type = Array.isArray(schema.type)
    ? schema.type.find((candidate) => candidate !== 'null')
    : schema.type;
  if (schema.enum) return 'enum';
  return type ?? 'json';
}

function toInput(schema: JsonSchema, value: unknown): string | boolean {
  const type = typeOf(schema);
  if (type === 'boolean') return value === true;
  if (value === undefined || value === null) return '';
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'enum')
    return String(value);
  return JSON.stringify(value, null, 2);
}

/** Turns an input back into JSON; what cannot be read is sent as typed, for the API to refuse. */
function fromInput(schema: JsonSchema, value: string | boolean): unknown {
  const type = typeOf(schema);
  if (type === 'boolean') return value === true;
  const text = String(value);
  if (text.trim() === '') return undefined;
  if (type === 'number' || type === 'integer')
    return Number.isNaN(Number(text)) ? text : Number(text);
  if (type === 'enum') {
    const match = schema.enum?.find((option) => String(option) === text);
    return match === undefined ? text : match;
  }
  if (type === 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function JobForm({ id }: { id?: string }) {
  const executors = useLoad(
    async () => (await api<{ executors: Executor[] }>('GET', '/executors')).body.executors,
    [],
  );
  const existing = useLoad(
    async () => (id ? (await api<Job>('GET', jobPath(id))).body : null),
    [id],
  );
  const [fields, setFields] = useState<Fields>({
    name: '',
    schedule: 'daily',
    timezone: 'UTC',
    function_name: '',
    tenant_id: '',
    timeout_seconds: '60',
    is_active: true,
    precise: false,
  });
  const [config, setConfig] = useState<ConfigValues>({});
  const [errors, setErrors] = useState<{ path: string; message: string }[]>([]);
  const [problem, setProblem] = useState<Error | undefined>();
  const [saving, setSaving] = useState(false);

  const executor = executors.data?.find((candidate) => candidate.name === fields.function_name);
  const properties = executor?.config_schema.properties ?? {};

  useEffect(() => {
    const job = existing.data;
    if (job) {
      setFields({
        name: job.name,
        schedule: job.schedule,
        timezone: job.timezone,
        function_name: job.function_name,
        tenant_id: job.tenant_id ?? '',
        timeout_seconds: String(job.timeout_seconds),
        is_active: job.is_active,
        precise: job.precise,
      });
    } else if (!id && executors.data?.[0] && !fields.function_name) {
      setFields((previous) => ({ ...previous, function_name: executors.data![0]!.name }));
    }
  }, [existing.data, executors.data]);

  // The config inputs follow the chosen executor's schema: the job's values, else the defaults.
  useEffect(() => {
    if (!executor) return;
    const source =
      existing.data && existing.data.function_name === executor.name ? existing.data.metadata : {};
    const values: ConfigValues = {};
    for (const [key, schema] of Object.entries(properties)) {
      if (ENGINE_KEYS.has(key)) continue;
      values[key] = toInput(schema, source[key] ?? schema.default);
    }
    setConfig(values);
  }, [executor?.name, existing.data]);

  const errorFor = (path: string) => errors.filter((error) => error.path === path);
  const fieldPaths = new Set([
    ...Object.keys(fields),
    ...Object.keys(properties).map((key) => `metadata.${key}`),
  ]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setErrors([]);
    setProblem(undefined);
    const metadata: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      const parsed = fromInput(properties[key] ?? {}, value);
      if (parsed !== undefined) metadata[key] = parsed;
    }
    const timeout = Number(fields.timeout_seconds);
    const body: Record<string, unknown> = {
      name: fields.name,
      schedule: fields.schedule,
      timezone: fields.timezone,
      function_name: fields.function_name,
      is_active: fields.is_active,
      precise: fields.precise,
      timeout_seconds:
        Number.isNaN(timeout) || fields.timeout_seconds === '' ? fields.timeout_seconds : timeout,
      metadata,
    };
    const tenant = fields.tenant_id.trim() === '' ? null : fields.tenant_id.trim();
    if (!id || tenant !== (existing.data?.tenant_id ?? null)) body.tenant_id = tenant;
    try {
      const saved = id
        ? (await api<Job>('PUT', jobPath(id), body)).body
        : (await api<Job>('POST', '/jobs', body)).body;
      navigate(href.job(saved.id));
    } catch (error) {
      if (error instanceof ApiError && error.problem.errors?.length) {
        setErrors(error.problem.errors);
        // Focus the first field the API named, so the message is read out where it applies.
        queueMicrotask(() => {
          const first = error.problem.errors?.[0]?.path ?? '';
          document.getElementById(inputId(first))?.focus();
        });
      } else {
        setProblem(error as Error);
      }
    } finally {
      setSaving(false);
    }
  };

  const set = (field: keyof Fields) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setFields({ ...fields, [field]: target.type === 'checkbox' ? target.checked : target.value });
  };

  if (id && existing.error) {
    return (
      <>
        <PageTitle>Edit job</PageTitle>
        <ErrorMessage error={existing.error} />
      </>
    );
  }
  return (
    <>
      <p class="crumbs">
        <a href={href.jobs()}>Jobs</a> /{' '}
        {id && existing.data ? <a href={href.job(id)}>{existing.data.name}</a> : null}
      </p>
      <PageTitle>{id ? `Edit ${existing.data?.name ?? 'job'}` : 'New job'}</PageTitle>
      <ErrorMessage error={problem ?? executors.error} />
      {errors.length > 0 ? (
        <div class="error" role="alert">
          <strong>The API refused this job:</strong>
          <ul>
            {errors.map((error) => (
              <li key={`${error.path}:${error.message}`}>
                {fieldPaths.has(error.path) ? (
                  <a
                    href={`#${inputId(error.path)}`}
                    onClick={(event) => {
                      event.preventDefault();
                      document.getElementById(inputId(error.path))?.focus();
                    }}
                  >
                    {error.path}
                  </a>
                ) : (
                  error.path || 'request'
                )}
                : {error.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <form class="job-form" onSubmit={submit} noValidate>
        <Field path="name" label="Name" errors={errorFor('name')}>
          <input value={fields.name} onInput={set('name')} maxLength={200} />
        </Field>
        <Field
          path="schedule"
          label="Schedule"
          hint="every_minute, every_5_minutes, hourly, daily, weekly, monthly, cron:0 2 * * *, at:2026-12-01T09:00:00"
          errors={errorFor('schedule')}
        >
          <input value={fields.schedule} onInput={set('schedule')} />
        </Field>
        <Field path="timezone" label="Time zone" hint="IANA name" errors={errorFor('timezone')}>
          <input value={fields.timezone} onInput={set('timezone')} list="zones" />
        </Field>
        <datalist id="zones">
          {zones.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        <SchedulePreview schedule={fields.schedule} timezone={fields.timezone} />
        <Field
          path="function_name"
          label="Executor"
          hint={executor?.description}
          errors={errorFor('function_name')}
        >
          <select value={fields.function_name} onChange={set('function_name')}>
            {(executors.data ?? []).map((candidate) => (
              <option key={candidate.name} value={candidate.name}>
                {candidate.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          path="tenant_id"
          label="Tenant"
          hint="empty: a global job"
          errors={errorFor('tenant_id')}
        >
          <input value={fields.tenant_id} onInput={set('tenant_id')} />
        </Field>
        <Field
          path="timeout_seconds"
          label="Timeout (seconds)"
          errors={errorFor('timeout_seconds')}
        >
          <input
            value={fields.timeout_seconds}
            onInput={set('timeout_seconds')}
            inputMode="numeric"
          />
        </Field>
        <Field path="is_active" label="Active" errors={errorFor('is_active')} inline>
          <input type="checkbox" checked={fields.is_active} onChange={set('is_active')} />
        </Field>
        <Field
          path="precise"
          label="Precise (start at the exact slot)"
          errors={errorFor('precise')}
          inline
        >
          <input type="checkbox" checked={fields.precise} onChange={set('precise')} />
        </Field>
        <fieldset>
          <legend>Executor configuration</legend>
          {Object.keys(config).length === 0 ? (
            <p class="muted">This executor takes no configuration.</p>
          ) : null}
          {Object.entries(properties)
            .filter(([key]) => key in config)
            .map(([key, schema]) => (
              <ConfigField
                key={key}
                name={key}
                schema={schema}
                required={executor?.config_schema.required?.includes(key) ?? false}
                value={config[key]!}
                errors={errorFor(`metadata.${key}`)}
                onChange={(value) => setConfig({ ...config, [key]: value })}
              />
            ))}
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : id ? 'Save' : 'Create job'}
          </button>
          <a class="button" href={id ? href.job(id) : href.jobs()}>
            Cancel
          </a>
        </div>
      </form>
    </>
  );
}

const inputId = (path: string) => `field-${path.replace(/[^\w-]/g, '-')}`;

/** A labelled input with its hint and the API's messages for its path, wired for screen readers. */
function Field(props: {
  path: string;
  label: string;
  hint?: string | undefined;
  errors: { message: string }[];
  inline?: boolean;
  children: preact.VNode<Record<string, unknown>>;
}) {
  const id = inputId(props.path);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [props.hint ? hintId : '', props.errors.length ? errorId : '']
    .filter(Boolean)
    .join(' ');
  const child = props.children;
  child.props = {
    ...child.props,
    id,
    name: props.path,
    'aria-invalid': props.errors.length ? 'true' : undefined,
    'aria-describedby': described || undefined,
  };
  return (
    <div class={`field${props.inline ? ' inline' : ''}${props.errors.length ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {child}
      {props.hint ? (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      ) : null}
      {props.errors.length ? (
        <p id={errorId} class="field-error" data-path={props.path}>
          {props.errors.map((error) => error.message).join('; ')}
        </p>
      ) : null}
    </div>
  );
}

/** One config property, its input chosen by its JSON Schema type. */
function ConfigField(props: {
  name: string;
  schema: JsonSchema;
  required: boolean;
  value: string | boolean;
  errors: { message: string }[];
  onChange: (value: string | boolean) => void;
}) {
  const { schema } = props;
  const type = typeOf(schema);
  const label = `${props.name}${props.required && schema.default === undefined ? ' (required)' : ''}`;
  const bounds = [
    schema.minimum !== undefined ? `min ${schema.minimum}` : '',
    schema.maximum !== undefined ? `max ${schema.maximum}` : '',
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const hint = [schema.description, bounds].filter(Boolean).join(' · ') || undefined;
  const text = (event: Event) =>
    props.onChange((event.currentTarget as HTMLInputElement | HTMLTextAreaElement).value);
  let input;
  if (type === 'boolean') {
    input = (
      <input
        type="checkbox"
        checked={props.value === true}
        onChange={(event) => props.onChange(event.currentTarget.checked)}
      />
    );
  } else if (type === 'enum') {
    input = (
      <select value={String(props.value)} onChange={text}>
        <option value="">(default)</option>
        {(schema.enum ?? []).map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'string' || type === 'number' || type === 'integer') {
    input = (
      <input
        value={String(props.value)}
        onInput={text}
        inputMode={type === 'string' ? undefined : 'decimal'}
      />
    );
  } else {
    input = <textarea rows={4} value={String(props.value)} onInput={text} />;
  }
  return (
    <Field
      path={`metadata.${props.name}`}
      label={label}
      hint={hint}
      errors={props.errors}
      inline={type === 'boolean'}
    >
      {input}
    </Field>
  );
}
