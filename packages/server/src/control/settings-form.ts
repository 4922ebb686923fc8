import type { DisplaySettings } from '@kassa/core/host';

/** One input of a settings form, derived from a property of the namespace's JSON Schema. */
export interface SettingsField {
  key: string;
  label: string;
  help: string;
  kind: 'checkbox' | 'number' | 'text' | 'textarea' | 'select' | 'secret' | 'list';
  options?: { value: string; label: string }[];
  /** What the input shows. Never a secret's value: for secrets only whether one is stored. */
  value: string | boolean;
  secretSet?: boolean;
  /** Which level the effective value comes from ("default" when none stores it). */
  source: string;
  /** Instance-only (only on the operator's form). */
  instanceOnly?: boolean;
}

type Prop = {
  type?: string; title?: string; description?: string; enum?: unknown[]; items?: { type?: string }; maxLength?: number;
  'x-secret'?: boolean; 'x-instance-only'?: boolean; format?: string;
};

function kindOf(p: Prop): SettingsField['kind'] {
  if (p['x-secret']) return 'secret';
  if (p.enum) return 'select';
  if (p.type === 'boolean') return 'checkbox';
  if (p.type === 'integer' || p.type === 'number') return 'number';
  if (p.type === 'array') return 'list';
  if (p.type === 'string' && (p.maxLength ?? 0) > 300) return 'textarea';
  return 'text';
}

/** The keys an organizer's form never shows nor accepts: only the operator sets them (docs/security.md). */
export function instanceOnlyKeys(schema: Record<string, unknown>): string[] {
  return Object.entries((schema.properties ?? {}) as Record<string, Prop>).filter(([, p]) => p['x-instance-only'] === true).map(([k]) => k);
}

/**
 * The form's fields in schema order, for an organizer or event level: secrets are shown as
 * "stored" / "not set", never their value; instance-only settings are not shown at all.
 */
export function settingsFields(schema: Record<string, unknown>, display: DisplaySettings, opts: { instanceLevel?: boolean } = {}): SettingsField[] {
  const props = (schema.properties ?? {}) as Record<string, Prop>;
  // The operator's instance-level form (control/operator.routes.ts) shows them too.
  return Object.entries(props).filter(([, p]) => opts.instanceLevel === true || p['x-instance-only'] !== true).map(([key, p]) => {
    const kind = kindOf(p);
    const raw = display.values[key];
    let value: string | boolean = '';
    if (kind === 'checkbox') value = raw === true;
    else if (kind === 'list') value = Array.isArray(raw) ? raw.join(', ') : '';
    else if (kind !== 'secret' && raw !== undefined && raw !== null) value = String(raw);
    return {
      key, kind, value,
      label: p.title ?? key,
      help: p.description ?? '',
      options: p.enum?.map((v) => ({ value: String(v), label: String(v) })),
      secretSet: kind === 'secret' ? (raw as { set?: boolean } | undefined)?.set === true : undefined,
      source: display.sources[key] ?? 'default',
      ...(p['x-instance-only'] === true ? { instanceOnly: true } : {}),
    };
  });
}

/**
 * Turns the posted form into a patch for SettingsStore.set: only fields whose value changed are
 * written (so unchanged fields keep inheriting from the level above), `reset_<key>` clears a
 * value at this level, an empty secret keeps the stored one. Values are converted by the schema's
 * type; anything that does not convert is passed on as typed so ajv names the field.
 */
export function settingsPatch(fields: readonly SettingsField[], body: Readonly<Record<string, string | string[] | undefined>>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const f of fields) {
    const posted = body[f.key];
    const text = Array.isArray(posted) ? posted[posted.length - 1] ?? '' : posted ?? '';
    if (body[`reset_${f.key}`] === 'on') {
      patch[f.key] = null;
      continue;
    }
    switch (f.kind) {
      case 'checkbox': {
        const on = text === 'on';
        if (on !== f.value) patch[f.key] = on;
        break;
      }
      case 'secret':
        if (text !== '') patch[f.key] = text;
        break;
      case 'number':
        if (text.trim() !== String(f.value)) patch[f.key] = text.trim() === '' ? null : /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim();
        break;
      case 'list': {
        const items = text.split(',').map((s) => s.trim()).filter(Boolean);
        if (items.join(', ') !== f.value) patch[f.key] = items;
        break;
      }
      default:
        if (text !== f.value) patch[f.key] = text === '' ? null : text;
    }
  }
  return patch;
}

/** Splits SETTINGS_INVALID's detail ("_feeAbs must be >= 0; apiKey is required") into field → message. */
export function settingsErrors(detail: string, fields: readonly SettingsField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of detail.split('; ')) {
    const key = fields.find((f) => part === f.key || part.startsWith(`${f.key} `) || part.startsWith(`${f.key}.`) || part.startsWith(`${f.key}/`))?.key ?? 'form';
    out[key] = out[key] ? `${out[key]}; ${part}` : part;
  }
  return out;
}
