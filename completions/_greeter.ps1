
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
            [CompletionResult]::new('--metrics-addr', '--metrics-addr', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics over HTTP at ADDR, path /metrics')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Which logs to write [default: RUST_LOG, else info]')
            [CompletionResult]::new('--no-reflection', '--no-reflection', [CompletionResultType]::ParameterName, 'Do not serve server reflection')
            [CompletionResult]::new('--access-log', '--access-log', [CompletionResultType]::ParameterName, 'Log one line per call: method, peer, status, latency')
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
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Make N SayHello calls over one connection, then print a summary on stderr')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Make N SayHello calls over one connection, then print a summary on stderr')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Keep making SayHello calls for this long instead of --count, then print the summary')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'How many of the --count or --duration calls are in flight at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many of the --count or --duration calls are in flight at once')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send a request header: `name: value`, or `@FILE` to read one per line')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send a request header: `name: value`, or `@FILE` to read one per line')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retry a call that failed with UNAVAILABLE up to N times')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'The pause before the first retry; each next one doubles, up to 5s, with jitter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'With --count or --duration, print no replies: only the summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'With --count or --duration, print no replies: only the summary')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Call SayHelloStreamReply instead: print each reply as it arrives')
            [CompletionResult]::new('--wait-for-ready', '--wait-for-ready', [CompletionResultType]::ParameterName, 'Keep trying to connect until the deadline, instead of failing at once')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)')
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
