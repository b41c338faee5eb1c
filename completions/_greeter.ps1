
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
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Where to listen: `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`, `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port')
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'Where to listen: `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`, `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Worker threads, each a single-threaded runtime serving its share of connections. Defaults to the CPUs this process may use, which respects taskset and cgroup CPU quotas: in a container limited to one CPU, one worker and no idle threads')
            [CompletionResult]::new('--grace-period', '--grace-period', [CompletionResultType]::ParameterName, 'After SIGINT or SIGTERM, how long calls in flight may take to finish before the connections still open are closed and the server exits 0. New connections are refused as soon as the signal arrives; a second signal exits at once')
            [CompletionResult]::new('--stream-count', '--stream-count', [CompletionResultType]::ParameterName, 'How many replies SayHelloStreamReply sends, each "Hello " + name')
            [CompletionResult]::new('--stream-interval', '--stream-interval', [CompletionResultType]::ParameterName, 'The pause between two replies of SayHelloStreamReply (the first is sent at once)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr: `text` for people, `json` for log collectors (one object per line)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Which logs to write: `error`, `warn`, `info`, `debug`, `trace`, or per module (`info,h2=debug`). Without it, RUST_LOG is used, then `info`')
            [CompletionResult]::new('--no-reflection', '--no-reflection', [CompletionResultType]::ParameterName, 'Do not serve server reflection (grpc.reflection.v1 and v1alpha). With it, grpcurl, evans and Postman can list and call the services without the proto files')
            [CompletionResult]::new('--access-log', '--access-log', [CompletionResultType]::ParameterName, 'Log one line per call on stderr: method, peer, status, latency. Off by default: at 100k calls a second a line per call costs more than the call')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'greeter;hello' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Who to greet, as a flag (the positional NAME and --name are the same; give one)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'The server: `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost), `[IPV6]:PORT`, `http://HOST:PORT`, `unix:PATH` or `unix:///ABS/PATH`')
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'The server: `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost), `[IPV6]:PORT`, `http://HOST:PORT`, `unix:PATH` or `unix:///ABS/PATH`')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Deadline of the whole call, connecting included (`500ms`, `1s`, `2m`). It is sent to the server as `grpc-timeout`, so the server stops working on it when it expires')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline of the whole call, connecting included (`500ms`, `1s`, `2m`). It is sent to the server as `grpc-timeout`, so the server stops working on it when it expires')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'How to print replies and failures: `text`, the greeting alone on stdout; `json`, one object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print replies and failures: `text`, the greeting alone on stdout; `json`, one object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Call SayHelloStreamReply instead: print each reply as it arrives')
            [CompletionResult]::new('--bidi', '--bidi', [CompletionResultType]::ParameterName, 'Call SayHelloBidiStream instead: send each line of stdin as a name and print each reply as it arrives, until stdin ends. The --timeout deadline covers the whole stream')
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
