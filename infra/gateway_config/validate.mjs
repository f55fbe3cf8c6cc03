// Runs the real gateway's own config code on what a stack hands it (infra/gateway_config/check.py).
// argv[2]: the gateway build folder (scripts/build-gateway.sh). stdin: JSON list of
// {where, configPath, env, args}. stdout: JSON list of {where, ok, error}.
// For each hand-off: the process environment becomes exactly `env`, the command-line flags are read
// as the gateway's CLI reads them (packages/core/src/cli.ts: --port/-p, --host/-H, --config/-c,
// --log-level/-l become loadConfig overrides), then the gateway's loadConfig (file, environment,
// overrides, zod schema) and validateSecrets (the secrets its start requires) judge it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const build = process.argv[2];
const loader = await import(pathToFileURL(join(build, 'app/packages/core/dist/config/loader.js')).href);
const handoffs = JSON.parse(readFileSync(0, 'utf-8'));

// The same flags, in the same way, as the 0.1.0 CLI's parseArgs (which is not exported).
function overridesFrom(args) {
  const parsed = {};
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    switch (args[i]) {
      case '--port': case '-p': parsed.port = Number(next); i++; break;
      case '--host': case '-H': parsed.host = next; i++; break;
      case '--config': case '-c': parsed.config = next; i++; break;
      case '--log-level': case '-l': parsed.logLevel = next; i++; break;
      default: break;
    }
  }
  const overrides = {};
  if (parsed.port || parsed.host) {
    overrides.gateway = { ...(parsed.port ? { port: parsed.port } : {}), ...(parsed.host ? { host: parsed.host } : {}) };
  }
  if (parsed.logLevel) overrides.logging = { level: parsed.logLevel };
  return { parsed, overrides };
}

const results = [];
for (const h of handoffs) {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, h.env);
  const { parsed, overrides } = overridesFrom(h.args);
  try {
    const config = loader.loadConfig({
      configPath: parsed.config ?? h.configPath,
      overrides: Object.keys(overrides).length > 0 ? overrides : undefined,
    });
    loader.validateSecrets(config);
    results.push({ where: h.where, ok: true, error: null, environment: config.core.environment });
  } catch (err) {
    results.push({ where: h.where, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}
process.stdout.write(JSON.stringify(results));
