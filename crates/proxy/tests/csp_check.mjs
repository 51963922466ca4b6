// Evaluates Content-Security-Policy strings with Google's CSP Evaluator (npm `csp_evaluator`) and prints one JSON
// line: [{"csp": "...", "findings": [{"severity": 10, "level": "HIGH", "directive", "value", "description"}]}].
// Used by crates/proxy/tests/csp.rs.   node csp_check.mjs NODE_MODULES_DIR CSP...
import { createRequire } from 'node:module';
import path from 'node:path';

const [modules, ...policies] = process.argv.slice(2);
if (!modules || policies.length === 0) {
  console.error('usage: node csp_check.mjs NODE_MODULES_DIR CSP...');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), 'noop.js'));
const { CspEvaluator } = require('csp_evaluator/dist/evaluator.js');
const { CspParser } = require('csp_evaluator/dist/parser.js');
const { Severity } = require('csp_evaluator/dist/finding.js');

const out = policies.map((csp) => ({
  csp,
  findings: new CspEvaluator(new CspParser(csp).csp).evaluate().map((f) => ({
    severity: f.severity,
    level: Severity[f.severity],
    directive: f.directive,
    value: f.value ?? null,
    description: f.description,
  })),
}));
console.log(JSON.stringify(out));
