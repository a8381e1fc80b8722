/** Paging of worklists: `limit` rows from `offset`; the answer's `nextOffset` is null on the last page. */
import { z } from '@hono/zod-openapi';

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** The offset of the next page, or null when this one was the last (it came back short). */
export const nextOffsetOf = (rows: readonly unknown[], page: { limit: number; offset: number }): number | null => (rows.length === page.limit ? page.offset + page.limit : null);
