# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_greeter_global_optspecs
    string join \n h/help V/version
end

function __fish_greeter_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_greeter_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_greeter_using_subcommand
    set -l cmd (__fish_greeter_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c greeter -n "__fish_greeter_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c greeter -n "__fish_greeter_needs_command" -s V -l version -d 'Print version'
complete -c greeter -n "__fish_greeter_needs_command" -f -a "serve" -d 'Serve helloworld.Greeter until SIGINT or SIGTERM'
complete -c greeter -n "__fish_greeter_needs_command" -f -a "hello" -d 'Call SayHello once and print the greeting'
complete -c greeter -n "__fish_greeter_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s a -l addr -d 'Where to listen' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l workers -d 'Worker threads [default: the CPUs this process may use]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l grace-period -d 'How long calls in flight may take to finish after SIGINT or SIGTERM' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l stream-count -d 'How many replies SayHelloStreamReply sends, each "Hello " + name' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l stream-interval -d 'The pause between two replies of SayHelloStreamReply (the first is sent at once)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l replica -d 'The name this server answers as, sent in a `greeter-replica` response header on every response, successful or not [default: the host name]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l unix-mode -d 'Permissions of the Unix socket file, in octal (e.g. 0660) [default: from the umask]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l tls-cert -d 'Serve TLS with this certificate chain (PEM); needs --tls-key' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l tls-key -d 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l tls-client-ca -d 'Require client certificates signed by these CAs (PEM): mutual TLS' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l auth-token-file -d 'Require `authorization: Bearer <token>` on Greeter calls, the token read from FILE' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-recv-msg-size -d 'The largest request message accepted, e.g. `4MiB`, `512KiB` or bytes' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-send-msg-size -d 'The largest response message sent; a larger one fails the call with RESOURCE_EXHAUSTED' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-concurrent-streams -d 'How many calls one connection may have in flight at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-connections -d 'Hold at most N client connections at once; 0 for no limit' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l request-timeout -d 'How long a client may take to send what it started; 0 for as long as it likes' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l keepalive-interval -d 'Send an HTTP/2 PING on each connection this often, to find dead clients' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l keepalive-timeout -d 'How long to wait for the answer to a keepalive PING before closing the connection' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-connection-idle -d 'Close a connection that has had no call in flight for this long [default: never]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-connection-age -d 'Ask a client to reconnect once its connection is this old [default: never]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l max-connection-age-grace -d 'How long calls in flight may go on after --max-connection-age before the connection is closed [default: until they finish]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l metrics-addr -d 'Serve Prometheus metrics over HTTP at ADDR, path /metrics, and the health at /healthz' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l log-format -d 'Log format on stderr' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line, fields at the top level'"
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l log-level -d 'Which logs to write [default: RUST_LOG, else info]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l fault-delay -d 'Delay Greeter calls, for testing timeouts: one delay, or a distribution such as `10ms:5%,200ms:1%` (test only)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l fault-status -d 'Fail Greeter calls, for testing retries and outlier detection: a status and the share of calls it fails, e.g. `UNAVAILABLE:2%` or `UNAVAILABLE:5%,INTERNAL:1%` (test only)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l fault-seed -d 'Seed the draws of --fault-delay and --fault-status, so a run repeats the same faults [default: random]' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l redact -d 'More metadata names --echo-metadata must never send back in clear, comma-separated (e.g. `x-api-key,x-csrf-token`)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l no-reflection -d 'Do not serve server reflection'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l access-log -d 'Log one line per call: method, peer, status, latency'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l allow-request-faults -d 'Let a call ask for its own fault in its metadata: `greeter-fault-delay: 200ms` (at most 60s) and `greeter-fault-status: UNAVAILABLE` (test only)'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l echo-metadata -d 'Send back the metadata each call arrived with, as `greeter-echo-NAME` response headers, with `greeter-authority` (the :authority it was sent to) and `greeter-peer` (the address it came from)'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s V -l version -d 'Print version'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l name -d 'Who to greet, as a flag (the same as NAME: give one of the two)' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s a -l addr -d 'The server to call; several (repeated, or comma-separated) spread the calls' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s t -l timeout -d 'Deadline of the whole call, connecting included' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s o -l output -d 'How to print replies and failures' -r -f -a "text\t'The greeting alone, one line per reply'
json\t'One JSON object per reply (protobuf JSON mapping)'"
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s n -l count -d 'Make N SayHello calls (over one connection: see --connections), then a summary on stderr' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l duration -d 'Keep making SayHello calls for this long instead of --count, then print the summary' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s c -l concurrency -d 'How many of the --count or --duration calls are in flight at once' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l connections -d 'Open N connections to each address for the --count or --duration calls, which take them in turn' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l rate -d 'Make the --count or --duration calls at RATE a second, each at its scheduled time (an open-loop load, as wrk2 and oha --rate), or ramp linearly: `100..2000` over --duration' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l percentiles -d 'The latency percentiles of the summary, comma-separated [default: 50,90,99,99.9,99.99]' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l max-p99 -d 'Fail the run (exit 3) if the p99 latency of the OK calls is over DURATION' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l max-error-rate -d 'Fail the run (exit 3) if more than PERCENT of the calls failed, e.g. `0.1%`; up to that, failed calls are accepted (exit 0)' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l min-rate -d 'Fail the run (exit 3) if it made fewer than RATE calls a second, e.g. `1000/s`' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l report -d 'With --count or --duration, write the run\'s report to FILE: an HTML page or JSON' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s H -l header -d 'Send a request header: `name: value`, or `@FILE` to read one per line' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l connect-timeout -d 'Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline]' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l retries -d 'Retry a call that failed with UNAVAILABLE up to N times' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l retry-backoff -d 'The pause before the first retry; each next one doubles, up to 5s, with jitter' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l ca-cert -d 'Trust the server certificates these CAs signed (PEM) [default: the system\'s CAs]' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l cert -d 'Present this client certificate chain (PEM), for a server that requires mutual TLS' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l key -d 'The private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l server-name -d 'The name the server\'s certificate must carry, and the TLS SNI [default: the host of --addr]' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l token-file -d 'Send `authorization: Bearer <token>`, the token read from FILE' -r -F
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l compress -d 'Compress requests with this encoding (the server must accept it)' -r -f -a "gzip\t''
zstd\t''"
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l max-recv-msg-size -d 'The largest reply message accepted, e.g. `4MiB`, `512KiB` or bytes; a larger one fails with RESOURCE_EXHAUSTED' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l max-send-msg-size -d 'The largest request message sent; a larger one fails with RESOURCE_EXHAUSTED before it is sent' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l keepalive-interval -d 'Send an HTTP/2 PING this often while calls are in flight [default: never]' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l keepalive-timeout -d 'How long to wait for the answer to a keepalive PING before the connection counts as broken (UNAVAILABLE)' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s q -l quiet -d 'With --count or --duration, print no replies: only the summary'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l no-latency-correction -d 'With --rate, measure latency from when each call really started, not from its scheduled time: the closed-loop view, which hides a stalled server\'s delay'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l stream -d 'Call SayHelloStreamReply instead: print each reply as it arrives'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l wait-for-ready -d 'Keep trying to connect until the deadline, instead of failing at once'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s v -l verbose -d 'Say on stderr what happens: each retry and connection attempt with its reason, and the response\'s headers and trailers (`< name: value`)'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l tls -d 'Speak TLS to the server, as an `https://` --addr does'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l insecure-skip-verify -d 'Do not check the server\'s certificate at all (a warning says so on stderr)'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l bidi -d 'Call SayHelloBidiStream instead: each line of stdin is a name'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s V -l version -d 'Print version'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "serve" -d 'Serve helloworld.Greeter until SIGINT or SIGTERM'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "hello" -d 'Call SayHello once and print the greeting'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
