/*
 * The official gRPC Node helloworld server (@grpc/grpc-js), as an independent peer for
 * `greeter hello`.
 *
 * Modelled on grpc-node's examples/helloworld/dynamic_codegen/greeter_server.js (the proto is
 * loaded at run time with @grpc/proto-loader, with the example's options), plus the two
 * streaming methods of the helloworld proto, a port the kernel picks, a readiness line, and
 * stderr lines per SayHello naming the deadline and the metadata it saw. It takes the same
 * arguments as greeter_server.py, but --identity-only, and prints the same.
 *
 *   node greeter_server.js [--addr ADDR] [--delay SECS]
 *       [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
 *       [--require-token TOKEN] [--max-recv BYTES]
 *
 * ADDR: 127.0.0.1:0 (the default), [::1]:0, unix:PATH. Once it accepts connections it prints
 * `listening on HOST:PORT` (the real port) or `listening on unix:PATH` on stdout. SIGTERM or
 * SIGINT: a graceful shutdown, forced after a second, and exit 0.
 *
 * Set up by tests/peer/node-setup.sh, which prints where node_modules is: run with NODE_PATH
 * set to it.
 */

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_PATH = path.join(__dirname, '..', '..', 'proto', 'helloworld.proto');
const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const helloProto = grpc.loadPackageDefinition(packageDefinition).helloworld;

function log(line) {
  process.stderr.write(`${line}\n`);
}

// Python's repr() of a str, so these lines read like greeter_server.py's: `name='you'`.
function pyRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

function usage(message) {
  process.stderr.write(
    'usage: greeter_server.js [--addr ADDR] [--delay SECS]\n' +
      '    [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]\n' +
      '    [--require-token TOKEN] [--max-recv BYTES]\n' +
      `greeter_server.js: error: ${message}\n`
  );
  process.exit(2);
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        addr: { type: 'string', default: '127.0.0.1:0' },
        delay: { type: 'string', default: '0' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        'require-token': { type: 'string' },
        'max-recv': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage(err.message);
  }
  const delay = Number(values.delay);
  if (values.delay.trim() === '' || !Number.isFinite(delay) || delay < 0) {
    usage(`argument --delay: invalid float value: '${values.delay}'`);
  }
  let maxRecv;
  if (values['max-recv'] !== undefined) {
    maxRecv = Number(values['max-recv']);
    if (!Number.isInteger(maxRecv)) {
      usage(`argument --max-recv: invalid int value: '${values['max-recv']}'`);
    }
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    usage('--tls-cert and --tls-key go together');
  }
  if (values['tls-client-ca'] !== undefined && values['tls-cert'] === undefined) {
    usage('--tls-client-ca needs --tls-cert and --tls-key');
  }
  return { ...values, delay, maxRecv };
}

function greeter(args) {
  const token = args['require-token'];

  // Like a real server: say what is wrong, never echo what was sent.
  function refused(metadata) {
    if (token === undefined) return null;
    const given = metadata.get('authorization');
    if (given.length === 0) return 'missing bearer token';
    if (given.length !== 1 || given[0] !== `Bearer ${token}`) return 'invalid bearer token';
    return null;
  }

  function sayHello(call, callback) {
    const deadline = call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    const shown = Number.isFinite(ms) ? ((ms - Date.now()) / 1000).toFixed(3) : 'none';
    log(`SayHello name=${pyRepr(call.request.name)} deadline_remaining=${shown}`);
    for (const [key, values] of Object.entries(call.metadata.toJSON())) {
      for (const value of values) {
        log(`metadata ${key}: ${Buffer.isBuffer(value) ? value.toString('base64') : value}`);
      }
    }
    const why = refused(call.metadata);
    if (why !== null) {
      callback({ code: grpc.status.UNAUTHENTICATED, details: why });
      return;
    }
    const reply = () => callback(null, { message: 'Hello ' + call.request.name });
    if (args.delay <= 0) {
      reply();
      return;
    }
    // Waits like a slow handler, but gives up when the client does.
    const timer = setTimeout(reply, args.delay * 1000);
    call.on('cancelled', () => {
      clearTimeout(timer);
      log('SayHello cancelled');
    });
  }

  function sayHelloStreamReply(call) {
    call.on('error', () => {});
    for (let i = 0; i < 3; i++) call.write({ message: 'Hello ' + call.request.name });
    call.end();
  }

  function sayHelloBidiStream(call) {
    call.on('error', () => {});
    call.on('data', (request) => call.write({ message: 'Hello ' + request.name }));
    call.on('end', () => call.end());
  }

  return { sayHello, sayHelloStreamReply, sayHelloBidiStream };
}

function credentials(args) {
  if (args['tls-cert'] === undefined) return grpc.ServerCredentials.createInsecure();
  const clientCa =
    args['tls-client-ca'] !== undefined ? fs.readFileSync(args['tls-client-ca']) : null;
  return grpc.ServerCredentials.createSsl(
    clientCa,
    [{ private_key: fs.readFileSync(args['tls-key']), cert_chain: fs.readFileSync(args['tls-cert']) }],
    clientCa !== null
  );
}

// What the readiness line shows: ADDR with the real port, or the unix: address as given.
function shown(addr, port) {
  if (addr.startsWith('unix:')) return addr;
  const colon = addr.lastIndexOf(':');
  return `${colon < 0 ? addr : addr.slice(0, colon)}:${port}`;
}

function main() {
  const args = parse();
  const options = {};
  if (args.maxRecv !== undefined) options['grpc.max_receive_message_length'] = args.maxRecv;
  const server = new grpc.Server(options);
  server.addService(helloProto.Greeter.service, greeter(args));

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Graceful first, so calls in flight finish; never more than a second of it.
    setTimeout(() => {
      server.forceShutdown();
      process.exit(0);
    }, 1000).unref();
    server.tryShutdown(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.bindAsync(args.addr, credentials(args), (err, port) => {
    if (err) {
      log(`could not listen on ${args.addr}: ${err.message}`);
      process.exit(1);
    }
    // Since grpc-js 1.10 a bound server serves at once (start() is deprecated): it accepts
    // connections by the time this callback runs.
    process.stdout.write(`listening on ${shown(args.addr, port)}\n`);
  });
}

main();
