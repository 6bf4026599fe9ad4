// The tests' independent Sparkplug B decoder: Eclipse Tahu's JavaScript payload library (sparkplug-payload) on
// MQTT.js, nothing of the C# side.
//
//   node listen.js <port> <client id>
//
// Subscribes to spBv1.0/# on 127.0.0.1:<port> (MQTT 5) and prints one JSON line per message:
//   {"topic": ..., "payload": {"timestamp", "seq", "metrics": [{"name", "type", "value", "isHistorical", ...}]}}
// and {"event": "subscribed"} after every (re)subscription. The session is kept (clean start off, expiry 300 s), so a
// broker with persistence queues what arrives while the broker restarts and this client is not yet back.
// Each JSON line on stdin, {"topic": ..., "metrics": [{"name", "type", "value"}]}, is encoded and published (QoS 0,
// as Sparkplug commands are), answered by {"event": "sent", "topic": ...}.
'use strict';

const mqtt = require('mqtt');
const readline = require('readline');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

const [port, clientId] = [Number(process.argv[2]), process.argv[3]];
if (!port || !clientId) {
  console.error('usage: node listen.js <port> <client id>');
  process.exit(2);
}

const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');

// protobufjs gives 64-bit integers as Long objects: print them as numbers (every value here is a safe integer).
const plain = (value) => {
  if (value === null || value === undefined) return value;
  if (typeof value.toNumber === 'function' && 'low' in value && 'high' in value) return value.toNumber();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
};

const client = mqtt.connect({
  host: '127.0.0.1',
  port,
  clientId,
  protocolVersion: 5,
  clean: false,
  properties: { sessionExpiryInterval: 300 },
  reconnectPeriod: 200,
  resubscribe: false,
});

client.on('connect', () => {
  // No Local: the commands this decoder publishes are not echoed back as if the node had sent them.
  client.subscribe('spBv1.0/#', { qos: 1, nl: true }, (err) => {
    if (err) print({ event: 'error', error: String(err) });
    else print({ event: 'subscribed' });
  });
});

client.on('message', (topic, message) => {
  try {
    print({ topic, payload: plain(sparkplug.decodePayload(message)) });
  } catch (err) {
    print({ topic, error: String(err) });
  }
});

client.on('error', (err) => print({ event: 'error', error: String(err) }));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  const payload = sparkplug.encodePayload({ timestamp: Date.now(), metrics: command.metrics });
  client.publish(command.topic, Buffer.from(payload), { qos: 0 }, (err) => {
    if (err) print({ event: 'error', error: String(err) });
    else print({ event: 'sent', topic: command.topic });
  });
}).on('close', () => client.end(true, () => process.exit(0)));
