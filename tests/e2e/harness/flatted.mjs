// Minimal parser for the `flatted` format n8n uses for execution data
// (`/rest/executions/:id` returns `data` as a flatted string). Same algorithm
// as flatted's parse(): the top-level array holds every object and string;
// inside objects, a string value is an index into that array.
export function parseFlatted(text) {
  const input = JSON.parse(text, (_k, v) => (typeof v === 'string' ? new String(v) : v)).map((v) =>
    v instanceof String ? String(v) : v,
  );
  const seen = new Set();
  const revive = (output) => {
    const lazy = [];
    for (const k of Object.keys(output)) {
      const value = output[k];
      if (value instanceof String) {
        const tmp = input[value];
        if (typeof tmp === 'object' && tmp !== null && !seen.has(tmp)) {
          seen.add(tmp);
          output[k] = undefined;
          lazy.push([k, tmp]);
        } else {
          output[k] = tmp;
        }
      }
    }
    for (const [k, tmp] of lazy) output[k] = revive(tmp);
    return output;
  };
  const root = input[0];
  if (typeof root === 'object' && root !== null) {
    seen.add(root);
    return revive(root);
  }
  return root;
}
