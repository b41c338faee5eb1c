
use builtin;
use str;

set edit:completion:arg-completer[greeter] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'greeter'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'greeter'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Serve helloworld.Greeter until SIGINT or SIGTERM'
            cand hello 'Call SayHello once and print the greeting'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'greeter;serve'= {
            cand -a 'Where to listen'
            cand --addr 'Where to listen'
            cand --workers 'Worker threads [default: the CPUs this process may use]'
            cand --grace-period 'How long calls in flight may take to finish after SIGINT or SIGTERM'
            cand --stream-count 'How many replies SayHelloStreamReply sends, each "Hello " + name'
            cand --stream-interval 'The pause between two replies of SayHelloStreamReply (the first is sent at once)'
            cand --replica 'The name this server answers as, sent in a `greeter-replica` response header on every response, successful or not [default: the host name]'
            cand --unix-mode 'Permissions of the Unix socket file, in octal (e.g. 0660) [default: from the umask]'
            cand --tls-cert 'Serve TLS with this certificate chain (PEM); needs --tls-key'
            cand --tls-key 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)'
            cand --tls-client-ca 'Require client certificates signed by these CAs (PEM): mutual TLS'
            cand --auth-token-file 'Require `authorization: Bearer <token>` on Greeter calls, the token read from FILE'
            cand --max-recv-msg-size 'The largest request message accepted, e.g. `4MiB`, `512KiB` or bytes'
            cand --max-send-msg-size 'The largest response message sent; a larger one fails the call with RESOURCE_EXHAUSTED'
            cand --max-concurrent-streams 'How many calls one connection may have in flight at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)'
            cand --max-connections 'Hold at most N client connections at once; 0 for no limit'
            cand --request-timeout 'How long a client may take to send what it started; 0 for as long as it likes'
            cand --keepalive-interval 'Send an HTTP/2 PING on each connection this often, to find dead clients'
            cand --keepalive-timeout 'How long to wait for the answer to a keepalive PING before closing the connection'
            cand --max-connection-idle 'Close a connection that has had no call in flight for this long [default: never]'
            cand --max-connection-age 'Ask a client to reconnect once its connection is this old [default: never]'
            cand --max-connection-age-grace 'How long calls in flight may go on after --max-connection-age before the connection is closed [default: until they finish]'
            cand --metrics-addr 'Serve Prometheus metrics over HTTP at ADDR, path /metrics, and the health at /healthz'
            cand --log-format 'Log format on stderr'
            cand --log-level 'Which logs to write [default: RUST_LOG, else info]'
            cand --fault-delay 'Delay Greeter calls, for testing timeouts: one delay, or a distribution such as `10ms:5%,200ms:1%` (test only)'
            cand --fault-status 'Fail Greeter calls, for testing retries and outlier detection: a status and the share of calls it fails, e.g. `UNAVAILABLE:2%` or `UNAVAILABLE:5%,INTERNAL:1%` (test only)'
            cand --fault-seed 'Seed the draws of --fault-delay and --fault-status, so a run repeats the same faults [default: random]'
            cand --redact 'More metadata names --echo-metadata must never send back in clear, comma-separated (e.g. `x-api-key,x-csrf-token`)'
            cand --no-reflection 'Do not serve server reflection'
            cand --access-log 'Log one line per call: method, peer, status, latency'
            cand --allow-request-faults 'Let a call ask for its own fault in its metadata: `greeter-fault-delay: 200ms` (at most 60s) and `greeter-fault-status: UNAVAILABLE` (test only)'
            cand --echo-metadata 'Send back the metadata each call arrived with, as `greeter-echo-NAME` response headers, with `greeter-authority` (the :authority it was sent to) and `greeter-peer` (the address it came from)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'greeter;hello'= {
            cand --name 'Who to greet, as a flag (the same as NAME: give one of the two)'
            cand -a 'The server to call; several (repeated, or comma-separated) spread the calls'
            cand --addr 'The server to call; several (repeated, or comma-separated) spread the calls'
            cand -t 'Deadline of the whole call, connecting included'
            cand --timeout 'Deadline of the whole call, connecting included'
            cand -o 'How to print replies and failures'
            cand --output 'How to print replies and failures'
            cand -n 'Make N SayHello calls (over one connection: see --connections), then a summary on stderr'
            cand --count 'Make N SayHello calls (over one connection: see --connections), then a summary on stderr'
            cand --duration 'Keep making SayHello calls for this long instead of --count, then print the summary'
            cand -c 'How many of the --count or --duration calls are in flight at once'
            cand --concurrency 'How many of the --count or --duration calls are in flight at once'
            cand --connections 'Open N connections to each address for the --count or --duration calls, which take them in turn'
            cand --rate 'Make the --count or --duration calls at RATE a second, each at its scheduled time (an open-loop load, as wrk2 and oha --rate), or ramp linearly: `100..2000` over --duration'
            cand --percentiles 'The latency percentiles of the summary, comma-separated [default: 50,90,99,99.9,99.99]'
            cand --max-p99 'Fail the run (exit 3) if the p99 latency of the OK calls is over DURATION'
            cand --max-error-rate 'Fail the run (exit 3) if more than PERCENT of the calls failed, e.g. `0.1%`; up to that, failed calls are accepted (exit 0)'
            cand --min-rate 'Fail the run (exit 3) if it made fewer than RATE calls a second, e.g. `1000/s`'
            cand --report 'With --count or --duration, write the run''s report to FILE: an HTML page or JSON'
            cand -H 'Send a request header: `name: value`, or `@FILE` to read one per line'
            cand --header 'Send a request header: `name: value`, or `@FILE` to read one per line'
            cand --connect-timeout 'Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline]'
            cand --retries 'Retry a call that failed with UNAVAILABLE up to N times'
            cand --retry-backoff 'The pause before the first retry; each next one doubles, up to 5s, with jitter'
            cand --ca-cert 'Trust the server certificates these CAs signed (PEM) [default: the system''s CAs]'
            cand --cert 'Present this client certificate chain (PEM), for a server that requires mutual TLS'
            cand --key 'The private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)'
            cand --server-name 'The name the server''s certificate must carry, and the TLS SNI [default: the host of --addr]'
            cand --token-file 'Send `authorization: Bearer <token>`, the token read from FILE'
            cand --compress 'Compress requests with this encoding (the server must accept it)'
            cand --max-recv-msg-size 'The largest reply message accepted, e.g. `4MiB`, `512KiB` or bytes; a larger one fails with RESOURCE_EXHAUSTED'
            cand --max-send-msg-size 'The largest request message sent; a larger one fails with RESOURCE_EXHAUSTED before it is sent'
            cand --keepalive-interval 'Send an HTTP/2 PING this often while calls are in flight [default: never]'
            cand --keepalive-timeout 'How long to wait for the answer to a keepalive PING before the connection counts as broken (UNAVAILABLE)'
            cand -q 'With --count or --duration, print no replies: only the summary'
            cand --quiet 'With --count or --duration, print no replies: only the summary'
            cand --no-latency-correction 'With --rate, measure latency from when each call really started, not from its scheduled time: the closed-loop view, which hides a stalled server''s delay'
            cand --stream 'Call SayHelloStreamReply instead: print each reply as it arrives'
            cand --wait-for-ready 'Keep trying to connect until the deadline, instead of failing at once'
            cand -v 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)'
            cand --verbose 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)'
            cand --tls 'Speak TLS to the server, as an `https://` --addr does'
            cand --insecure-skip-verify 'Do not check the server''s certificate at all (a warning says so on stderr)'
            cand --bidi 'Call SayHelloBidiStream instead: each line of stdin is a name'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'greeter;help'= {
            cand serve 'Serve helloworld.Greeter until SIGINT or SIGTERM'
            cand hello 'Call SayHello once and print the greeting'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'greeter;help;serve'= {
        }
        &'greeter;help;hello'= {
        }
        &'greeter;help;help'= {
        }
    ]
    $completions[$command]
}
