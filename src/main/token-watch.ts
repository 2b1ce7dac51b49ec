/**
 * Connects the token cache to the store's change announcements (migration 010, Db.listen). Started on
 * the first authentication, so CLI commands that build a container but never authenticate open no
 * listening connection. Until the subscription is live the cache stays off (see token-cache.ts).
 */
import type { TokenCacheControl } from '../app/auth/token-cache.js';
import type { Logger } from '../app/ports.js';
import type { Db, Subscription } from '../store/db.js';
import { TOKEN_CHANGES_CHANNEL } from '../store/token-ops.js';

export interface TokenWatch {
  ensureStarted(): void;
  close(): Promise<void>;
}

export function watchTokenChanges(db: Pick<Db, 'listen'>, cache: TokenCacheControl, logger: Logger): TokenWatch {
  let subscription: Promise<Subscription | null> | null = null;
  let wasLive = false;
  return {
    ensureStarted() {
      subscription ??= db.listen(TOKEN_CHANGES_CHANNEL, {
        message: () => cache.invalidate(),
        state: (live) => {
          cache.setLive(live);
          if (live !== wasLive) {
            if (live) logger.info({ channel: TOKEN_CHANGES_CHANNEL }, 'token change notifications live: verified tokens are cached');
            else logger.warn({ channel: TOKEN_CHANGES_CHANNEL }, 'token change notifications lost: every request reads the token store until they are back');
          }
          wasLive = live;
        },
      }).catch((error: unknown) => {
        logger.warn({ err: error }, 'cannot subscribe to token change notifications: tokens are not cached');
        return null;
      });
    },
    async close() {
      const current = subscription;
      subscription = null;
      cache.setLive(false);
      await (await current)?.close();
    },
  };
}
