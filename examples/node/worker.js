#!/usr/bin/env node
// An ARI worker for StasisBroadcast(): claim offered calls, handle the ones won.
//
//     npm ci && node worker.js --app pool-1     # against the test bed on 127.0.0.1:8088
//
// Each CallBroadcast on the application's WebSocket is an offer. The worker claims it
// (POST /ari/events/claim); success (204) means it won and StasisStart follows on the same
// WebSocket, 409 that another worker was faster, 404 that the offer is over. A won call is
// "handled" here by printing its args and sending it back to the dialplan
// (POST /ari/channels/{id}/continue); it counts once its StasisEnd arrives.
//
// ari-client builds its API from the swagger that Asterisk serves at connect time. On
// Asterisk 22.10+ the claim endpoint's nickname in events.json is "claimChannel", so it is
// client.events.claimChannel({channelId, application}).
'use strict';

const { parseArgs } = require('node:util');
const ari = require('ari-client');

const { values: opts } = parseArgs({
  options: {
    app: { type: 'string' },
    url: { type: 'string', default: 'http://127.0.0.1:8088' },
    user: { type: 'string', default: 'asb' },
    password: { type: 'string', default: 'asb' },
    'max-calls': { type: 'string', default: '0' }, // exit after N handled calls (0 = forever)
    'think-ms': { type: 'string', default: '0' }, // pause before sending a won call on
  },
});
if (!opts.app) {
  console.error(
    'usage: node worker.js --app NAME [--url URL] [--user U] [--password P] [--max-calls N] [--think-ms MS]',
  );
  process.exit(2);
}
const maxCalls = Number(opts['max-calls']);
const thinkMs = Number(opts['think-ms']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ari-client rejects with new Error(<response body>) and drops the HTTP status, so the
// outcome of a claim is told apart by Asterisk's message, e.g. 404's
// {"message":"Channel not found or not in broadcast state"}.
function claimFailure(err) {
  try {
    return JSON.parse(err.message).message;
  } catch {
    return err.message;
  }
}

async function main() {
  // Fetches Asterisk's swagger. (swagger-client 2.0.26 inside ari-client prints a harmless
  // "This API is using a deprecated version of Swagger!" notice here.)
  const client = await ari.connect(opts.url, opts.user, opts.password);
  const ours = new Set(); // channels we continued; each counts as handled at its StasisEnd
  let handled = 0;

  const shutdown = (why) => {
    console.log(why);
    client.stop(); // closes the WebSocket: the application goes away
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('interrupted, shutting down'));
  process.on('SIGTERM', () => shutdown('interrupted, shutting down'));

  client.on('CallBroadcast', async (event, channel) => {
    console.log(`offered ${channel.id} (caller '${event.caller}', called '${event.called}')`);
    try {
      await client.events.claimChannel({ channelId: channel.id, application: opts.app });
      // StasisStart follows on this WebSocket (it may even be handled before this line runs).
      console.log(`won ${channel.id}`);
    } catch (err) {
      const why = claimFailure(err);
      if (/claimed/i.test(why)) {
        console.log(`lost ${channel.id}: another worker claimed it`); // 409
      } else {
        console.log(`claim of ${channel.id} failed: ${why}`);
      }
    }
  });

  client.on('StasisStart', async (event, channel) => {
    // The channel is ours, exactly as if the dialplan had run Stasis(app,args...).
    console.log(`StasisStart ${channel.id} args=${JSON.stringify(event.args)}`);
    await sleep(thinkMs);
    ours.add(channel.id);
    console.log(`continuing ${channel.id}`);
    try {
      await channel.continueInDialplan();
    } catch (err) {
      ours.delete(channel.id);
      console.log(`continue of ${channel.id} failed: ${claimFailure(err)}`);
    }
  });

  client.on('StasisEnd', (event, channel) => {
    if (!ours.delete(channel.id)) return;
    handled += 1;
    console.log(`done with ${channel.id} (${handled} handled)`);
    if (maxCalls > 0 && handled >= maxCalls) shutdown(`handled ${handled} calls, exiting`);
  });

  // Opening the WebSocket registers the application with Asterisk.
  await client.start(opts.app);
  console.log(`${opts.app}: connected to ${opts.url}, waiting for offers`);
}

main().catch((err) => {
  console.error(`worker failed: ${err.message || err}`);
  process.exit(1);
});
