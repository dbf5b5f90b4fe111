// Tradewind companion plugin for Vendure (>= 3.0): posts signed events to Tradewind so that
// orders arrive within seconds instead of at the next poll.
//
// Vendure has no outgoing webhooks of its own, only an in-process EventBus; this plugin
// listens to it and POSTs to Tradewind's inbound webhook route, `{url}/{topic}`:
//
//   order/placed         OrderPlacedEvent
//   order/state-changed  OrderStateTransitionEvent of a placed order (not of carts)
//   order/refunded       RefundStateTransitionEvent to Settled (a refund changes no order
//                        state, so without this it would wait for the order's next change)
//   stock/adjusted       StockMovementEvent of type ADJUSTMENT, one delivery per variant
//                        and stock location, with the level Vendure now holds there
//
// Each delivery is signed the Standard Webhooks way (https://www.standardwebhooks.com):
// `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
// "{id}.{timestamp}.{body}" keyed with the base64 part of the whsec_… secret>`. The body
// says only *what* changed; Tradewind re-reads the order through the Admin API, so a late,
// doubled or lost delivery never leaves it with stale data (its poll is the safety net).
//
// Plain CommonJS with no build step and no dependency beyond Vendure itself. Install:
// see README.md beside this file.
'use strict';

const crypto = require('crypto');
const { Inject } = require('@nestjs/common');
const {
  EventBus,
  Logger,
  OrderPlacedEvent,
  OrderStateTransitionEvent,
  PluginCommonModule,
  RefundStateTransitionEvent,
  StockLevelService,
  StockMovementEvent,
  VendurePlugin,
} = require('@vendure/core');

const VERSION = '1.0.0';
const LOG_CONTEXT = 'TradewindPlugin';
const SECRET_PREFIX = 'whsec_';
// A 4xx other than these means Tradewind refused the delivery for good (bad signature,
// unknown plugin): resending the same bytes cannot help.
const RETRYABLE_STATUS = new Set([408, 425, 429]);

function signingKey(secret) {
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(raw, 'base64');
  if (key.length < 16) {
    throw new Error(`${LOG_CONTEXT}: \`secret\` must be the whsec_… value shown by Tradewind`);
  }
  return key;
}

/** The Standard Webhooks headers for one attempt (a fresh timestamp each time). */
function signedHeaders(key, id, body, now = Date.now()) {
  const timestamp = String(Math.floor(now / 1000));
  const signature = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'content-type': 'application/json',
    'user-agent': `tradewind-vendure-plugin/${VERSION}`,
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

function orderData(event) {
  const { order, ctx } = event;
  return {
    orderId: String(order.id),
    code: order.code,
    fromState: event.fromState,
    toState: event.toState,
    channelToken: ctx && ctx.channel ? ctx.channel.token : undefined,
  };
}

/**
 * One delivery per (variant, stock location) whose stock on hand was set by hand or by an
 * API client, with what Vendure can now sell there (on hand − allocated): Tradewind ignores
 * its own push coming back and sends its level again after anybody else's change.
 */
async function stockData(event, stockLevels) {
  if (event.type !== 'ADJUSTMENT') {
    return []; // sales, allocations and releases follow orders, which have their own events
  }
  const channelToken = event.ctx && event.ctx.channel ? event.ctx.channel.token : undefined;
  const seen = new Map();
  for (const movement of event.stockMovements) {
    const variantId = movement.productVariant ? movement.productVariant.id : movement.productVariantId;
    const locationId = movement.stockLocation ? movement.stockLocation.id : movement.stockLocationId;
    if (variantId == null || locationId == null) continue;
    seen.set(`${variantId}:${locationId}`, [String(variantId), String(locationId)]);
  }
  const deliveries = [];
  for (const [productVariantId, stockLocationId] of seen.values()) {
    const data = { productVariantId, stockLocationId, channelToken };
    try {
      const level = await stockLevels.getStockLevel(event.ctx, productVariantId, stockLocationId);
      data.stockOnHand = level.stockOnHand;
      data.stockAllocated = level.stockAllocated;
    } catch (error) {
      // Without the level Tradewind simply sends its own again.
      Logger.warn(`stock level of variant ${productVariantId} unreadable: ${error}`, LOG_CONTEXT);
    }
    deliveries.push(['stock/adjusted', data]);
  }
  return deliveries;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class TradewindPlugin {
  /**
   * @param {object} options
   * @param {string} options.url     Tradewind's hook URL for this plugin: https://…/hooks/<plugin id>
   * @param {string} options.secret  the plugin's webhook secret in Tradewind (whsec_…)
   * @param {number} [options.retries=5]      further attempts after a failed delivery
   * @param {number} [options.timeoutMs=10000] per attempt
   */
  static init(options) {
    if (!options || !/^https?:\/\/[^/]+\/.*hooks\/\d+\/?$/.test(String(options.url || ''))) {
      throw new Error(`${LOG_CONTEXT}: \`url\` must be Tradewind's https://…/hooks/<plugin id>`);
    }
    if (!options.secret) {
      throw new Error(`${LOG_CONTEXT}: \`secret\` (the plugin's whsec_… value) is required`);
    }
    TradewindPlugin.options = {
      retries: 5,
      timeoutMs: 10000,
      backoffMs: 500,
      ...options,
      url: options.url.replace(/\/+$/, ''),
      key: signingKey(options.secret),
    };
    return TradewindPlugin;
  }

  constructor(eventBus, stockLevels) {
    this.eventBus = eventBus;
    this.stockLevels = stockLevels;
    this.subscriptions = [];
    this.inFlight = new Set();
  }

  onApplicationBootstrap() {
    if (!TradewindPlugin.options) {
      throw new Error(`${LOG_CONTEXT}: add it to plugins as TradewindPlugin.init({ url, secret })`);
    }
    const listen = (type, deliveries) => {
      this.subscriptions.push(
        this.eventBus.ofType(type).subscribe(async (event) => {
          try {
            for (const [topic, data] of await deliveries(event)) this.send(topic, data);
          } catch (error) {
            Logger.error(`could not describe ${type.name}: ${error}`, LOG_CONTEXT);
          }
        }),
      );
    };
    listen(OrderPlacedEvent, (event) => [['order/placed', orderData(event)]]);
    listen(OrderStateTransitionEvent, (event) =>
      event.order.orderPlacedAt ? [['order/state-changed', orderData(event)]] : [],
    );
    listen(RefundStateTransitionEvent, (event) =>
      event.toState === 'Settled' ? [['order/refunded', { ...orderData(event), refundId: String(event.refund.id) }]] : [],
    );
    listen(StockMovementEvent, (event) => stockData(event, this.stockLevels));
    Logger.info(`posting events to ${TradewindPlugin.options.url}`, LOG_CONTEXT);
  }

  async onApplicationShutdown() {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
  }

  send(topic, data) {
    const delivery = this.deliver(topic, data).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  async deliver(topic, data) {
    const { url, key, retries, timeoutMs, backoffMs } = TradewindPlugin.options;
    // One id for every attempt: Tradewind stores a delivery once per id.
    const id = `msg_${crypto.randomUUID()}`;
    const body = JSON.stringify({ id, type: topic, timestamp: new Date().toISOString(), data });
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      let outcome;
      try {
        const response = await fetch(`${url}/${topic}`, {
          method: 'POST',
          headers: signedHeaders(key, id, body),
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.ok) return;
        outcome = `HTTP ${response.status}`;
        if (response.status < 500 && !RETRYABLE_STATUS.has(response.status)) {
          Logger.error(`${topic} ${id} refused (${outcome}); check url and secret`, LOG_CONTEXT);
          return;
        }
      } catch (error) {
        outcome = String(error && error.message ? error.message : error);
      }
      if (attempt < retries) {
        await sleep(backoffMs * 2 ** attempt);
      } else {
        // Tradewind's poll still imports the order; only the shortcut is lost.
        Logger.warn(`${topic} ${id} not delivered after ${retries + 1} attempt(s): ${outcome}`, LOG_CONTEXT);
      }
    }
  }
}

// Decorators applied by hand: this file needs no TypeScript build.
Inject(EventBus)(TradewindPlugin, undefined, 0);
Inject(StockLevelService)(TradewindPlugin, undefined, 1);
const Plugin =
  VendurePlugin({ imports: [PluginCommonModule], compatibility: '>=3.0.0' })(TradewindPlugin) ||
  TradewindPlugin;

module.exports = { TradewindPlugin: Plugin, signedHeaders, VERSION };
