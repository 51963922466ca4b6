// Which request decides Lighthouse's simulated FCP and LCP, and what size would move them. Lighthouse's mobile
// metrics are not the observed load: its model ("lantern") replays the page's requests over slow 4G (150 ms round
// trips, 1.6 Mbit/s, TCP slow start per connection), so a metric moves in steps of a round trip, and a cut inside a
// step changes nothing. This reads what `scripts/lighthouse.sh --artifacts` kept and
//   node scripts/lighthouse-steps.mjs artifacts/lighthouse/artifacts
//       prints both metrics with every request on their simulated graph (start, end, bytes transferred);
//   node scripts/lighthouse-steps.mjs artifacts/lighthouse/artifacts _bg.wasm 120000 127000 134000
//       re-simulates with the transfer size of the request whose URL contains `_bg.wasm` set to each size.
// Uses the Lighthouse that scripts/lighthouse.sh installed into .tools/.
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const lh = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.tools', 'node_modules', 'lighthouse', 'core');
const {loadArtifacts} = await import(`${lh}/lib/asset-saver.js`);
const {LanternFirstContentfulPaint} = await import(`${lh}/computed/metrics/lantern-first-contentful-paint.js`);
const {LanternLargestContentfulPaint} = await import(`${lh}/computed/metrics/lantern-largest-contentful-paint.js`);
const {defaultSettings} = await import(`${lh}/config/constants.js`);

const [dir, pattern, ...sizes] = process.argv.slice(2);
if (!dir || (pattern && sizes.length === 0)) {
  console.error('usage: node scripts/lighthouse-steps.mjs ARTIFACTS_DIR [URL_PART SIZE...]');
  process.exit(2);
}
const artifacts = await loadArtifacts(dir);
const trace = artifacts.Trace ?? artifacts.traces?.defaultPass;
const log = artifacts.DevtoolsLog ?? artifacts.devtoolsLogs?.defaultPass;
const settings = {...defaultSettings, ...(artifacts.settings ?? {})};

async function simulate(devtoolsLog) {
  const data = {trace, devtoolsLog, gatherContext: artifacts.GatherContext, settings, URL: artifacts.URL, simulator: null};
  const context = {computedCache: new Map(), settings};
  return {
    FCP: await LanternFirstContentfulPaint.request(data, context),
    LCP: await LanternLargestContentfulPaint.request(data, context),
  };
}

if (!pattern) {
  for (const [name, result] of Object.entries(await simulate(log))) {
    const est = result.pessimisticEstimate;
    console.log(`${name} ${result.timing.toFixed(0)} ms (optimistic ${result.optimisticEstimate.timeInMs.toFixed(0)}, pessimistic ${est.timeInMs.toFixed(0)}); pessimistic graph's requests:`);
    const rows = [...est.nodeTimings.entries()].filter(([node]) => node.type === 'network');
    rows.sort((a, b) => a[1].startTime - b[1].startTime);
    for (const [node, t] of rows) {
      const r = node.request ?? node.record;
      console.log(`  ${t.startTime.toFixed(0).padStart(6)} - ${t.endTime.toFixed(0).padStart(6)} ms  ${String(r.transferSize).padStart(7)} B  ${r.url}`);
    }
  }
} else {
  const ids = new Set(log.filter((e) => e.method === 'Network.requestWillBeSent' && e.params.request.url.includes(pattern))
    .map((e) => e.params.requestId));
  if (ids.size === 0) {
    console.error(`no request's URL contains ${pattern}`);
    process.exit(1);
  }
  for (const size of sizes) {
    const changed = log.map((e) => {
      if (!ids.has(e.params?.requestId)) return e;
      if (e.method === 'Network.loadingFinished') return {...e, params: {...e.params, encodedDataLength: Number(size)}};
      if (e.method === 'Network.dataReceived') return {...e, params: {...e.params, encodedDataLength: 0}};
      return e;
    });
    const r = await simulate(changed);
    console.log(`${pattern} at ${size} B transferred: FCP ${r.FCP.timing.toFixed(0)} ms, LCP ${r.LCP.timing.toFixed(0)} ms`);
  }
}
