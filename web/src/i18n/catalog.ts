import type { vi } from './vi';

export type MessageKey = keyof typeof vi;
// Every catalog has exactly the Vietnamese catalog's keys: a missing key is a compile error,
// and so is an extra one (excess property check on the object literal).
export type Catalog = { readonly [K in MessageKey]: string };
