
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'greeter' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'greeter'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'greeter' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve helloworld.Greeter until SIGINT or SIGTERM')
            [CompletionResult]::new('hello', 'hello', [CompletionResultType]::ParameterValue, 'Call SayHello once and print the greeting')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'greeter;serve' {
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Where to listen')
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'Where to listen')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Worker threads [default: the CPUs this process may use]')
            [CompletionResult]::new('--grace-period', '--grace-period', [CompletionResultType]::ParameterName, 'How long calls in flight may take to finish after SIGINT or SIGTERM')
            [CompletionResult]::new('--stream-count', '--stream-count', [CompletionResultType]::ParameterName, 'How many replies SayHelloStreamReply sends, each "Hello " + name')
            [CompletionResult]::new('--stream-interval', '--stream-interval', [CompletionResultType]::ParameterName, 'The pause between two replies of SayHelloStreamReply (the first is sent at once)')
            [CompletionResult]::new('--replica', '--replica', [CompletionResultType]::ParameterName, 'The name this server answers as, sent in a `greeter-replica` response header on every response, successful or not [default: the host name]')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the Unix socket file, in octal (e.g. 0660) [default: from the umask]')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Serve TLS with this certificate chain (PEM); needs --tls-key')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--tls-client-ca', '--tls-client-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by these CAs (PEM): mutual TLS')
            [CompletionResult]::new('--auth-token-file', '--auth-token-file', [CompletionResultType]::ParameterName, 'Require `authorization: Bearer <token>` on Greeter calls, the token read from FILE')
            [CompletionResult]::new('--max-recv-msg-size', '--max-recv-msg-size', [CompletionResultType]::ParameterName, 'The largest request message accepted, e.g. `4MiB`, `512KiB` or bytes')
            [CompletionResult]::new('--max-send-msg-size', '--max-send-msg-size', [CompletionResultType]::ParameterName, 'The largest response message sent; a larger one fails the call with RESOURCE_EXHAUSTED')
            [CompletionResult]::new('--max-concurrent-streams', '--max-concurrent-streams', [CompletionResultType]::ParameterName, 'How many calls one connection may have in flight at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Hold at most N client connections at once; 0 for no limit')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long a client may take to send what it started; 0 for as long as it likes')
            [CompletionResult]::new('--keepalive-interval', '--keepalive-interval', [CompletionResultType]::ParameterName, 'Send an HTTP/2 PING on each connection this often, to find dead clients')
            [CompletionResult]::new('--keepalive-timeout', '--keepalive-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to a keepalive PING before closing the connection')
            [CompletionResult]::new('--max-connection-idle', '--max-connection-idle', [CompletionResultType]::ParameterName, 'Close a connection that has had no call in flight for this long [default: never]')
            [CompletionResult]::new('--max-connection-age', '--max-connection-age', [CompletionResultType]::ParameterName, 'Ask a client to reconnect once its connection is this old [default: never]')
            [CompletionResult]::new('--max-connection-age-grace', '--max-connection-age-grace', [CompletionResultType]::ParameterName, 'How long calls in flight may go on after --max-connection-age before the connection is closed [default: until they finish]')
            [CompletionResult]::new('--metrics-addr', '--metrics-addr', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics over HTTP at ADDR, path /metrics, and the health at /healthz')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Which logs to write [default: RUST_LOG, else info]')
            [CompletionResult]::new('--fault-delay', '--fault-delay', [CompletionResultType]::ParameterName, 'Delay Greeter calls, for testing timeouts: one delay, or a distribution such as `10ms:5%,200ms:1%` (test only)')
            [CompletionResult]::new('--fault-status', '--fault-status', [CompletionResultType]::ParameterName, 'Fail Greeter calls, for testing retries and outlier detection: a status and the share of calls it fails, e.g. `UNAVAILABLE:2%` or `UNAVAILABLE:5%,INTERNAL:1%` (test only)')
            [CompletionResult]::new('--fault-seed', '--fault-seed', [CompletionResultType]::ParameterName, 'Seed the draws of --fault-delay and --fault-status, so a run repeats the same faults [default: random]')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'More metadata names --echo-metadata must never send back in clear, comma-separated (e.g. `x-api-key,x-csrf-token`)')
            [CompletionResult]::new('--no-reflection', '--no-reflection', [CompletionResultType]::ParameterName, 'Do not serve server reflection')
            [CompletionResult]::new('--access-log', '--access-log', [CompletionResultType]::ParameterName, 'Log one line per call: method, peer, status, latency')
            [CompletionResult]::new('--allow-request-faults', '--allow-request-faults', [CompletionResultType]::ParameterName, 'Let a call ask for its own fault in its metadata: `greeter-fault-delay: 200ms` (at most 60s) and `greeter-fault-status: UNAVAILABLE` (test only)')
            [CompletionResult]::new('--echo-metadata', '--echo-metadata', [CompletionResultType]::ParameterName, 'Send back the metadata each call arrived with, as `greeter-echo-NAME` response headers, with `greeter-authority` (the :authority it was sent to) and `greeter-peer` (the address it came from)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'greeter;hello' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Who to greet, as a flag (the same as NAME: give one of the two)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'The server to call; several (repeated, or comma-separated) spread the calls')
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'The server to call; several (repeated, or comma-separated) spread the calls')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Deadline of the whole call, connecting included')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline of the whole call, connecting included')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'How to print replies and failures')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print replies and failures')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Make N SayHello calls (over one connection: see --connections), then a summary on stderr')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Make N SayHello calls (over one connection: see --connections), then a summary on stderr')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Keep making SayHello calls for this long instead of --count, then print the summary')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'How many of the --count or --duration calls are in flight at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many of the --count or --duration calls are in flight at once')
            [CompletionResult]::new('--connections', '--connections', [CompletionResultType]::ParameterName, 'Open N connections to each address for the --count or --duration calls, which take them in turn')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Make the --count or --duration calls at RATE a second, each at its scheduled time (an open-loop load, as wrk2 and oha --rate), or ramp linearly: `100..2000` over --duration')
            [CompletionResult]::new('--percentiles', '--percentiles', [CompletionResultType]::ParameterName, 'The latency percentiles of the summary, comma-separated [default: 50,90,99,99.9,99.99]')
            [CompletionResult]::new('--max-p99', '--max-p99', [CompletionResultType]::ParameterName, 'Fail the run (exit 3) if the p99 latency of the OK calls is over DURATION')
            [CompletionResult]::new('--max-error-rate', '--max-error-rate', [CompletionResultType]::ParameterName, 'Fail the run (exit 3) if more than PERCENT of the calls failed, e.g. `0.1%`; up to that, failed calls are accepted (exit 0)')
            [CompletionResult]::new('--min-rate', '--min-rate', [CompletionResultType]::ParameterName, 'Fail the run (exit 3) if it made fewer than RATE calls a second, e.g. `1000/s`')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'With --count or --duration, write the run''s report to FILE: an HTML page or JSON')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send a request header: `name: value`, or `@FILE` to read one per line')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send a request header: `name: value`, or `@FILE` to read one per line')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retry a call that failed with UNAVAILABLE up to N times')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'The pause before the first retry; each next one doubles, up to 5s, with jitter')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Trust the server certificates these CAs signed (PEM) [default: the system''s CAs]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Present this client certificate chain (PEM), for a server that requires mutual TLS')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--server-name', '--server-name', [CompletionResultType]::ParameterName, 'The name the server''s certificate must carry, and the TLS SNI [default: the host of --addr]')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Send `authorization: Bearer <token>`, the token read from FILE')
            [CompletionResult]::new('--compress', '--compress', [CompletionResultType]::ParameterName, 'Compress requests with this encoding (the server must accept it)')
            [CompletionResult]::new('--max-recv-msg-size', '--max-recv-msg-size', [CompletionResultType]::ParameterName, 'The largest reply message accepted, e.g. `4MiB`, `512KiB` or bytes; a larger one fails with RESOURCE_EXHAUSTED')
            [CompletionResult]::new('--max-send-msg-size', '--max-send-msg-size', [CompletionResultType]::ParameterName, 'The largest request message sent; a larger one fails with RESOURCE_EXHAUSTED before it is sent')
            [CompletionResult]::new('--keepalive-interval', '--keepalive-interval', [CompletionResultType]::ParameterName, 'Send an HTTP/2 PING this often while calls are in flight [default: never]')
            [CompletionResult]::new('--keepalive-timeout', '--keepalive-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to a keepalive PING before the connection counts as broken (UNAVAILABLE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'With --count or --duration, print no replies: only the summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'With --count or --duration, print no replies: only the summary')
            [CompletionResult]::new('--no-latency-correction', '--no-latency-correction', [CompletionResultType]::ParameterName, 'With --rate, measure latency from when each call really started, not from its scheduled time: the closed-loop view, which hides a stalled server''s delay')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Call SayHelloStreamReply instead: print each reply as it arrives')
            [CompletionResult]::new('--wait-for-ready', '--wait-for-ready', [CompletionResultType]::ParameterName, 'Keep trying to connect until the deadline, instead of failing at once')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS to the server, as an `https://` --addr does')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (a warning says so on stderr)')
            [CompletionResult]::new('--bidi', '--bidi', [CompletionResultType]::ParameterName, 'Call SayHelloBidiStream instead: each line of stdin is a name')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'greeter;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve helloworld.Greeter until SIGINT or SIGTERM')
            [CompletionResult]::new('hello', 'hello', [CompletionResultType]::ParameterValue, 'Call SayHello once and print the greeting')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'greeter;help;serve' {
            break
        }
        'greeter;help;hello' {
            break
        }
        'greeter;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
