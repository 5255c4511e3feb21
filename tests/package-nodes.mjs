// The package's nodes as n8n sees them: the list from package.json
// (`n8n.nodes`), each description read from the BUILT dist/ files. Tests use
// it to derive what the editor's node panel and an AI agent's tool list must
// show, so that a new node, operation or event is covered without editing
// the tests.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function readPackage(root) {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
}

/** A node class's description (plain or versioned node types). */
function descriptionOf(instance) {
  if (instance.nodeVersions) {
    const v = instance.currentVersion ?? instance.description?.defaultVersion;
    return instance.nodeVersions[v].description;
  }
  return instance.description;
}

const isOptionList = (p) => ['options', 'multiOptions'].includes(p?.type) && Array.isArray(p.options);

/**
 * The node's "operation" property (what n8n turns into actions, and what
 * AI tool descriptions are built from), if any: the first resource's.
 */
export function operationProperty(description) {
  return description.properties.find((p) => p.name === 'operation' && isOptionList(p));
}

/** Every "operation" property: one per resource in a node with several. */
export function operationProperties(description) {
  return description.properties.filter((p) => p.name === 'operation' && isOptionList(p));
}

/** A trigger's event choice (n8n matches the display names Event / Events / Trigger On). */
export function eventProperty(description) {
  return description.properties.find(
    (p) => ['event', 'events', 'trigger on'].includes(p.displayName?.toLowerCase()) && isOptionList(p),
  );
}

/**
 * Every node of the package: {file, name, type ("<package>.<name>"),
 * displayName, description, isTrigger, usableAsTool, actions}. `actions`
 * lists what a user can start from in the node panel: each operation
 * ({value, name, action, description}) or, for a trigger, each event
 * (action: "On <event>").
 */
export function packageNodes(root = ROOT) {
  const pkg = readPackage(root);
  const files = pkg.n8n?.nodes ?? [];
  const require = createRequire(path.join(root, 'package.json'));
  return files.map((file) => {
    const abs = path.join(root, file);
    if (!fs.existsSync(abs)) throw new Error(`${file} is not built: run \`npm run build\``);
    const mod = require(abs);
    const Node = Object.values(mod).find((v) => typeof v === 'function');
    if (!Node) throw new Error(`${file} exports no node class`);
    const description = descriptionOf(new Node());
    const isTrigger = description.group?.includes('trigger') ?? false;
    const ops = operationProperties(description);
    const events = eventProperty(description);
    let actions = [];
    if (ops.length) {
      // n8n's panel lists the actions of every resource; one action text
      // shared by several resources (Custom API Call) is listed once here.
      const seen = new Set();
      for (const o of ops.flatMap((p) => p.options)) {
        const action = o.action ?? o.name;
        if (seen.has(action)) continue;
        seen.add(action);
        actions.push({ value: o.value, name: o.name, action, description: o.description ?? '' });
      }
    } else if (isTrigger && events) {
      actions = events.options.map((o) => ({ value: o.value, name: o.name, action: o.action ?? `On ${o.name}`, description: o.description ?? '' }));
    }
    return {
      file,
      name: description.name,
      type: `${pkg.name}.${description.name}`,
      displayName: description.displayName,
      defaultName: description.defaults?.name ?? description.displayName,
      description,
      isTrigger,
      usableAsTool: !!description.usableAsTool,
      actions,
    };
  });
}

/** One operation of a node: {value, name, action, description}. */
export function operation(node, value) {
  const op = node.actions.find((a) => a.value === value);
  if (!op) throw new Error(`${node.displayName} has no operation "${value}" (has: ${node.actions.map((a) => a.value).join(', ')})`);
  return op;
}
