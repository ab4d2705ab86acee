import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { SecretBox } from './crypto.js';
import type { DatabaseHandle } from './db/client.js';
import type { EventBus } from './events/bus.js';
import type { BackgroundWork } from './jobs/background.js';
import type { StoreRegistry } from './backup/store-service.js';

/** The running product's shared parts, built once at start and handed to every operation. */
export interface Runtime {
  config: Config;
  database: DatabaseHandle;
  secrets: SecretBox;
  events: EventBus;
  log: Logger;
  background: BackgroundWork;
  /** Opens backup stores (chosen once, at start). */
  backupStores: StoreRegistry;
  /** Identifies this process when it holds a lease on durable work. */
  instanceId: string;
}
