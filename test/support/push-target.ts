/** The push-target simulator served over real HTTP on 127.0.0.1 (Node). See push-target-core.ts. */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createPushTargetCore, type PushTargetCore, type TargetFaults } from './push-target-core';

export { passThroughMappings, pushTargetAdapter, type AppliedEffect, type TargetFaults } from './push-target-core';

export interface PushTarget extends Omit<PushTargetCore, 'app' | 'releaseHanging'> {
  url: string;
  close(): Promise<void>;
}

export async function startPushTarget(options: { name: string; seed?: number; faults?: Partial<TargetFaults>; hangMs?: number; port?: number }): Promise<PushTarget> {
  const core = createPushTargetCore(options);
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const started = serve({ fetch: core.app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, (info) => resolve({ server: started as Server, port: info.port }));
    started.once('error', reject);
  });
  const { app: _app, releaseHanging, ...rest } = core;
  return {
    ...rest,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        releaseHanging();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
