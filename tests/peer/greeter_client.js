/*
 * The official gRPC Node helloworld client (@grpc/grpc-js), as an independent peer for
 * `greeter serve`.
 *
 * Modelled on grpc-node's examples/helloworld/dynamic_codegen/greeter_client.js: the proto is
 * loaded at run time with @grpc/proto-loader, with the example's options. It takes the same
 * arguments as greeter_client.py and prints the same: each reply's message alone on a line; on
 * an RPC error `error: CODE: details` on stderr and exit 64 + the status number, like
 * `greeter hello`.
 *
 *   node greeter_client.js --target ADDR [--name NAME]... [--timeout SECS]
 *       [--method unary|server-stream|bidi] [--compression none|gzip|deflate]
 *       [--ca-cert PEM [--cert PEM --key PEM]] [--token TOKEN] [--authority AUTHORITY]
 *
 * ADDR goes to grpc-js unchanged: HOST:PORT, [::1]:PORT, unix:PATH, unix:///ABS/PATH.
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

const METHODS = ['unary', 'server-stream', 'bidi'];
// grpc-js's numbers for grpc.default_compression_algorithm.
const COMPRESSION = { none: 0, deflate: 1, gzip: 2 };

function usage(message) {
  process.stderr.write(
    'usage: greeter_client.js --target ADDR [--name NAME]... [--timeout SECS]\n' +
      `    [--method ${METHODS.join('|')}] [--compression none|gzip|deflate]\n` +
      '    [--ca-cert PEM [--cert PEM --key PEM]] [--token TOKEN] [--authority AUTHORITY]\n' +
      `greeter_client.js: error: ${message}\n`
  );
  process.exit(2);
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        target: { type: 'string' },
        name: { type: 'string', multiple: true },
        timeout: { type: 'string', default: '5' },
        method: { type: 'string', default: 'unary' },
        compression: { type: 'string', default: 'none' },
        'ca-cert': { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        token: { type: 'string' },
        authority: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.target === undefined) usage('the following arguments are required: --target');
  const timeout = Number(values.timeout);
  if (values.timeout.trim() === '' || !Number.isFinite(timeout)) {
    usage(`argument --timeout: invalid float value: '${values.timeout}'`);
  }
  if (!METHODS.includes(values.method)) {
    usage(`argument --method: invalid choice: '${values.method}'`);
  }
  if (!(values.compression in COMPRESSION)) {
    usage(`argument --compression: invalid choice: '${values.compression}'`);
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    usage('--cert and --key go together');
  }
  return { ...values, timeout, names: values.name || ['world'] };
}

function main() {
  const args = parse();
  let credentials;
  if (args['ca-cert'] !== undefined) {
    const read = (file) => fs.readFileSync(file);
    credentials = grpc.credentials.createSsl(
      read(args['ca-cert']),
      args.key !== undefined ? read(args.key) : null,
      args.cert !== undefined ? read(args.cert) : null
    );
  } else {
    credentials = grpc.credentials.createInsecure();
  }
  const channelOptions = { 'grpc.default_compression_algorithm': COMPRESSION[args.compression] };
  // What the channel sends as :authority, as a proxy or a C-core client over a Unix socket
  // would send it.
  if (args.authority !== undefined) channelOptions['grpc.default_authority'] = args.authority;
  const client = new helloProto.Greeter(args.target, credentials, channelOptions);

  const metadata = new grpc.Metadata();
  if (args.token !== undefined) metadata.add('authorization', `Bearer ${args.token}`);
  const options = { deadline: Date.now() + args.timeout * 1000 };

  const print = (reply) => process.stdout.write(`${reply.message}\n`);
  let finished = false;
  const finish = (err) => {
    if (finished) return;
    finished = true;
    if (err) {
      const name = grpc.status[err.code] || String(err.code);
      process.stderr.write(`error: ${name}: ${err.details}\n`);
      process.exitCode = 64 + err.code;
    }
    client.close();
    // Normally nothing is left and node exits now; never linger if something is.
    setTimeout(() => process.exit(), 1000).unref();
  };

  if (args.method === 'unary') {
    client.sayHello({ name: args.names[0] }, metadata, options, (err, reply) => {
      if (!err) print(reply);
      finish(err);
    });
    return;
  }
  let call;
  if (args.method === 'server-stream') {
    call = client.sayHelloStreamReply({ name: args.names[0] }, metadata, options);
  } else {
    call = client.sayHelloBidiStream(metadata, options);
    for (const name of args.names) call.write({ name });
    call.end();
  }
  call.on('data', print);
  // 'error' comes with a status other than OK, before 'status'.
  call.on('error', finish);
  call.on('status', () => finish(null));
}

main();
