import { z } from 'zod';
import type { Collector } from './contract.js';

// PLACEHOLDER: being written; replaced before this lands.
export const naver: Collector<Record<string, never>, { key: string }, Record<string, never>> = {
  id: 'naver',
  defaultBaseUrl: 'https://invalid.example',
  configSchema: z.strictObject({}),
  bookmarkSchema: z.object({}),
  partitions: () => [],
  check: async () => ({ ok: false, reason: 'not written yet' }),
  read: async function* () {},
};
