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

/**
 * A record for the main thread: mapped, if this worker has a mapping for its type, and with its
 * payload as JSON unless the engine named this very mapping and it succeeded (then the engine
 * never reads the payload).
 */
function toWire(adapter: string, record: SourceRecord, now: string, mappedWith: Readonly<Record<string, string>> | undefined): WireRecord {
  const wire: WireRecord = { recordType: record.recordType, recordId: record.recordId, version: record.version, updatedAt: record.updatedAt };
  const mapping = allMappings.find(adapter, record.recordType);
  if (mapping) wire.premapped = { mappingId: mapping.id, mappingVersion: mapping.version, result: mapRecord(mapping, record.payload, { now, ruleVersion: ruleSetVersion }, { checkedByAdapter: true }) };
  const asNamed = mapping !== undefined && mappedWith?.[record.recordType] === `${mapping.id}@${mapping.version}`;
  if (!asNamed || !wire.premapped!.result.ok) wire.payloadJson = JSON.stringify(record.payload);
  return wire;
}

async function handle(request: PullRequest): Promise<PullReply> {
  try {
    const adapter = adaptersFor(request.tenant)[request.adapter];
    if (!adapter) throw new Error(`no adapter configured for ${request.adapter}`);
    const results = request.op === 'pullMany'
      ? await adapter.pullMany!(request.subjects, { since: request.since })
      : new Map([[request.subject.citizenId, await adapter.pull(request.subject, request.since)]]);
    const now = new Date().toISOString();
    const mappedWith = request.op === 'pullMany' ? request.mappedWith : undefined;
    const wire: [string, WirePullResult][] = [];
    for (const [citizenId, result] of results)
      wire.push([citizenId, { records: result.records.map((r) => toWire(request.adapter, r, now, mappedWith)), quarantined: result.quarantined, ...(result.unknownAtSource ? { unknownAtSource: true } : {}) }]);
    return { id: request.id, ok: true, results: wire };
  } catch (error) {
    return { id: request.id, ok: false, error: errorToWire(error) };
  }
}

port.on('message', (request: PullRequest) => {
  void handle(request).then((reply) => port.postMessage(reply));
});
