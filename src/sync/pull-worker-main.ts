/**
 * The pull worker's thread (see pull-worker.ts): builds the adapters from the configuration it is
 * given, pulls what it is asked for, and maps every record it read with the mapping the engine
 * would pick, so only fragments and JSON text travel back to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceRecord } from '../../adapters/adapter';
import { mapRecord } from '../../mappings/mapping';
import type { Config } from '../config';
import { ruleSetVersion } from '../rules';
import { nodeAdapterTransport } from '../runtime/node-transport';
import { tenantAdapters } from '../runtime/adapters';
import { allMappings } from './all-mappings';
import { errorToWire, type PullReply, type PullRequest, type WirePullResult, type WireRecord } from './pull-worker';

const { config } = workerData as { config: Config };
const adaptersFor = tenantAdapters(config, nodeAdapterTransport(config));
const port = parentPort!;

function toWire(adapter: string, record: SourceRecord): WireRecord {
  const wire: WireRecord = { recordType: record.recordType, recordId: record.recordId, version: record.version, updatedAt: record.updatedAt, payloadJson: JSON.stringify(record.payload) };
  const mapping = allMappings.find(adapter as never, record.recordType);
  if (mapping) wire.premapped = { mappingId: mapping.id, mappingVersion: mapping.version, result: mapRecord(mapping, record.payload, { now: new Date().toISOString(), ruleVersion: ruleSetVersion }, { checkedByAdapter: true }) };
  return wire;
}

async function handle(request: PullRequest): Promise<PullReply> {
  try {
    const adapter = adaptersFor(request.tenant)[request.adapter];
    if (!adapter) throw new Error(`no adapter configured for ${request.adapter}`);
    const results = request.op === 'pullMany'
      ? await adapter.pullMany!(request.subjects, { since: request.since })
      : new Map([[request.subject.citizenId, await adapter.pull(request.subject, request.since)]]);
    const wire: [string, WirePullResult][] = [];
    for (const [citizenId, result] of results)
      wire.push([citizenId, { records: result.records.map((r) => toWire(request.adapter, r)), quarantined: result.quarantined, ...(result.unknownAtSource ? { unknownAtSource: true } : {}) }]);
    return { id: request.id, ok: true, results: wire };
  } catch (error) {
    return { id: request.id, ok: false, error: errorToWire(error) };
  }
}

port.on('message', (request: PullRequest) => {
  void handle(request).then((reply) => port.postMessage(reply));
});
