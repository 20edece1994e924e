// End-to-end scenario: the official JavaScript clients (@algolia/ingestion, algoliasearch) against a
// running `mockserver serve`.
//
// Usage: node scenario.mjs http://127.0.0.1:8787   (or MOCKSERVER_URL=... node scenario.mjs)
// Optional: MOCKSERVER_APP_ID, MOCKSERVER_API_KEY, MOCKSERVER_INDEX.
//
// Creates a push source, a search destination and a task, runs the task, pushes records through it
// (pushTask), then reads the fake index back from the control plane with a plain fetch. Then the
// Search client (algoliasearch, its Ingestion transporter pointed at the mock too) replaces the
// index through the push connector (replaceAllObjectsWithTransformation: copy to a temporary index,
// push with referenceIndexName, wait, move back) and searches it (searchSingleIndex). Prints one
// JSON object on stdout; exits non-zero (with the reason on stderr) on any failure.

import { apiClientVersion, ingestionClient } from '@algolia/ingestion';
import { algoliasearch } from 'algoliasearch';

const baseUrl = (process.argv[2] ?? process.env.MOCKSERVER_URL ?? '').replace(/\/+$/, '');
const appId = process.env.MOCKSERVER_APP_ID ?? 'JSE2EAPP';
const apiKey = process.env.MOCKSERVER_API_KEY ?? 'js-e2e-api-key';
const indexName = process.env.MOCKSERVER_INDEX ?? 'js-e2e-products';

function fail(message) {
  process.stderr.write(`scenario failed: ${message}\n`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) {
    fail(message);
  }
}

async function main() {
  check(baseUrl, 'give the mock base URL as the first argument or in MOCKSERVER_URL');
  const url = new URL(baseUrl);
  check(url.protocol === 'http:', `expected an http:// URL, got ${baseUrl}`);

  const client = ingestionClient(appId, apiKey, 'us', {
    hosts: [{ url: url.host, accept: 'readWrite', protocol: 'http' }],
  });

  const source = await client.createSource({ type: 'push', name: 'JS e2e push source' });
  check(typeof source.sourceID === 'string' && source.sourceID, `createSource: no sourceID in ${JSON.stringify(source)}`);

  const destination = await client.createDestination({
    type: 'search',
    name: 'JS e2e destination',
    input: { indexName },
  });
  check(destination.destinationID, `createDestination: no destinationID in ${JSON.stringify(destination)}`);

  const task = await client.createTask({
    sourceID: source.sourceID,
    destinationID: destination.destinationID,
    action: 'save',
  });
  check(task.taskID, `createTask: no taskID in ${JSON.stringify(task)}`);

  const run = await client.runTask({ taskID: task.taskID });
  check(run.runID, `runTask: no runID in ${JSON.stringify(run)}`);
  const fetchedRun = await client.getRun({ runID: run.runID });
  check(fetchedRun.taskID === task.taskID, `getRun: run ${run.runID} is not for task ${task.taskID}`);

  const records = [
    { objectID: 'sku-1', name: 'Running shoe', price: 89.5 },
    { objectID: 'sku-2', name: 'Trail shoe', price: 120 },
    { objectID: 'sku-3', name: 'Sock', price: 9.99, tags: ['wool', 'warm'] },
  ];
  const pushed = await client.pushTask({
    taskID: task.taskID,
    pushTaskPayload: { action: 'addObject', records },
  });
  check(pushed.runID, `pushTask: no runID in ${JSON.stringify(pushed)}`);

  const sources = await client.listSources({ itemsPerPage: 100 });
  check(
    sources.sources.some((s) => s.sourceID === source.sourceID),
    `listSources does not list ${source.sourceID}`,
  );

  const indexUrl = `${baseUrl}/__mock__/indexes/${encodeURIComponent(indexName)}?appID=${encodeURIComponent(appId)}`;
  // The control plane of a server with configured credentials needs them too.
  const response = await fetch(indexUrl, {
    headers: { 'x-algolia-application-id': appId, 'x-algolia-api-key': apiKey },
  });
  if (!response.ok) {
    fail(`GET ${indexUrl}: HTTP ${response.status} ${await response.text()}`);
  }
  const index = await response.json();
  const stored = [...index.records].sort((a, b) => a.objectID.localeCompare(b.objectID));
  check(stored.length === records.length, `index ${indexName} holds ${stored.length} records, expected ${records.length}`);

  const hosts = [{ url: url.host, accept: 'readWrite', protocol: 'http' }];
  const search = algoliasearch(appId, apiKey, { hosts, transformationOptions: { region: 'us', hosts } });
  const replacement = [
    { objectID: 'sku-4', name: 'Hiking shoe', price: 140 },
    { objectID: 'sku-5', name: 'Rain jacket', price: 99 },
  ];
  const replaced = await search.replaceAllObjectsWithTransformation({ indexName, objects: replacement, batchSize: 1 });
  check(
    replaced.watchResponses.length === replacement.length,
    `replaceAllObjectsWithTransformation: ${replaced.watchResponses.length} pushes, expected ${replacement.length}`,
  );
  const { items } = await search.listIndices();
  const indexNames = items.map((item) => item.name).sort();
  check(
    !indexNames.some((name) => name.startsWith(`${indexName}_tmp_`)),
    `a temporary index is left: ${indexNames.join(', ')}`,
  );
  const found = await search.searchSingleIndex({ indexName, searchParams: { query: 'shoe' } });
  check(found.nbHits === 1, `searchSingleIndex("shoe"): ${found.nbHits} hits, expected 1 (sku-4)`);

  const result = {
    ok: true,
    clientVersion: apiClientVersion,
    appId,
    sourceID: source.sourceID,
    destinationID: destination.destinationID,
    taskID: task.taskID,
    runID: run.runID,
    runStatus: fetchedRun.status,
    pushRunID: pushed.runID,
    pushEventID: pushed.eventID ?? null,
    indexName,
    nbHits: index.nbHits,
    records: stored,
    replaced: {
      copyTaskID: replaced.copyOperationResponse.taskID,
      moveTaskID: replaced.moveOperationResponse.taskID,
      pushes: replaced.watchResponses.length,
    },
    indexNames,
    search: { query: 'shoe', nbHits: found.nbHits, objectIDs: found.hits.map((hit) => hit.objectID) },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  const detail = error && typeof error === 'object' && 'status' in error ? ` (HTTP ${error.status})` : '';
  fail(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}${detail}`);
});
