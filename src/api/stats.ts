/** `/v1/stats`: evaluation figures (R22) — aggregates only, small counts suppressed. */
import { newRouter } from './router';

export const statsRoutes = newRouter();
