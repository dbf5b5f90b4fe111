// A real Vendure server for Tradewind's connector tests: SQLite through sql.js (WebAssembly,
// so `npm ci` builds nothing native), bound to 127.0.0.1, one fresh database file per run.
//
//   VENDURE_PORT         port to listen on (default 3000)
//   VENDURE_DB           SQLite file; created and seeded when missing
//   TRADEWIND_HOOKS_URL  when set, the companion plugin posts signed events there
//   TRADEWIND_WEBHOOK_SECRET  the plugin's signing secret (whsec_…)
//
// Prints `VENDURE_READY port=… fresh=… boot_ms=…` once the APIs answer.
'use strict';
const path = require('path');
const fs = require('fs');

// The companion plugin lives in the Python package, outside this folder: let it resolve
// `@vendure/core` from here, as it would from a merchant's own Vendure project.
process.env.NODE_PATH = [path.join(__dirname, 'node_modules'), process.env.NODE_PATH]
  .filter(Boolean)
  .join(path.delimiter);
require('module').Module._initPaths();

const {
  bootstrap, DefaultJobQueuePlugin, dummyPaymentHandler, DefaultLogger, LogLevel, LanguageCode,
} = require('@vendure/core');
const { populate } = require('@vendure/core/cli');

const PLUGIN = path.resolve(
  __dirname, '../../../../src/tradewind/integrations/vendure/vendure-plugin/tradewind-plugin.js',
);
const PORT = Number(process.env.VENDURE_PORT || 3000);
const DB = process.env.VENDURE_DB || path.join(__dirname, 'vendure.sqlite');
const fresh = !fs.existsSync(DB);

const plugins = [DefaultJobQueuePlugin.init({ useDatabaseForBuffer: true })];
if (process.env.TRADEWIND_HOOKS_URL) {
  const { TradewindPlugin } = require(PLUGIN);
  plugins.push(TradewindPlugin.init({
    url: process.env.TRADEWIND_HOOKS_URL,
    secret: process.env.TRADEWIND_WEBHOOK_SECRET,
    retries: 2,
  }));
}

const config = {
  apiOptions: { hostname: '127.0.0.1', port: PORT, adminApiPath: 'admin-api', shopApiPath: 'shop-api' },
  authOptions: {
    tokenMethod: ['bearer', 'cookie', 'api-key'], // 'api-key': long-lived keys (Vendure >= 3.6)
    superadminCredentials: { identifier: 'superadmin', password: 'superadmin' },
    cookieOptions: { secret: 'test-cookie-secret' },
    requireVerification: false,
  },
  dbConnectionOptions: {
    type: 'sqljs', location: DB, autoSave: true,
    synchronize: true, migrations: [], logging: false, // schema from the entities: test use only
  },
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  // Merchants commonly keep a GTIN/EAN on the variant as a custom field; the connector's
  // `barcode_field` setting names it.
  customFields: { ProductVariant: [{ name: 'barcode', type: 'string', nullable: true }] },
  logger: new DefaultLogger({ level: LogLevel.Warn }),
  plugins,
};

// The least a checkout needs: a zone with countries, a tax rate, a shipping and a payment method.
const initialData = {
  defaultLanguage: LanguageCode.en,
  defaultZone: 'Europe',
  countries: [
    { name: 'United Kingdom', code: 'GB', zone: 'Europe' },
    { name: 'Germany', code: 'DE', zone: 'Europe' },
  ],
  taxRates: [{ name: 'Standard Tax', percentage: 20 }],
  shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
  paymentMethods: [{
    name: 'Standard Payment',
    handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
  }],
  collections: [],
};

(async () => {
  const t0 = Date.now();
  const app = fresh ? await populate(() => bootstrap(config), initialData) : await bootstrap(config);
  const stop = async () => { await app.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`VENDURE_READY port=${PORT} fresh=${fresh} boot_ms=${Date.now() - t0}`);
})().catch((err) => { console.error(err); process.exit(1); });
