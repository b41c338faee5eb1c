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
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s a -l addr -d 'Where to listen: `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`, `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l workers -d 'Worker threads, each a single-threaded runtime serving its share of connections. Defaults to the CPUs this process may use, which respects taskset and cgroup CPU quotas: in a container limited to one CPU, one worker and no idle threads' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l grace-period -d 'After SIGINT or SIGTERM, how long calls in flight may take to finish before the connections still open are closed and the server exits 0. New connections are refused as soon as the signal arrives; a second signal exits at once' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l stream-count -d 'How many replies SayHelloStreamReply sends, each "Hello " + name' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l stream-interval -d 'The pause between two replies of SayHelloStreamReply (the first is sent at once)' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l log-format -d 'Log format on stderr: `text` for people, `json` for log collectors (one object per line)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line, fields at the top level'"
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l log-level -d 'Which logs to write: `error`, `warn`, `info`, `debug`, `trace`, or per module (`info,h2=debug`). Without it, RUST_LOG is used, then `info`' -r
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l no-reflection -d 'Do not serve server reflection (grpc.reflection.v1 and v1alpha). With it, grpcurl, evans and Postman can list and call the services without the proto files'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -l access-log -d 'Log one line per call on stderr: method, peer, status, latency. Off by default: at 100k calls a second a line per call costs more than the call'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c greeter -n "__fish_greeter_using_subcommand serve" -s V -l version -d 'Print version'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l name -d 'Who to greet, as a flag (the positional NAME and --name are the same; give one)' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s a -l addr -d 'The server: `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost), `[IPV6]:PORT`, `http://HOST:PORT`, `unix:PATH` or `unix:///ABS/PATH`' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s t -l timeout -d 'Deadline of the whole call, connecting included (`500ms`, `1s`, `2m`). It is sent to the server as `grpc-timeout`, so the server stops working on it when it expires' -r
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s o -l output -d 'How to print replies and failures: `text`, the greeting alone on stdout; `json`, one object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`)' -r -f -a "text\t'The greeting alone, one line per reply'
json\t'One JSON object per reply (protobuf JSON mapping)'"
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l stream -d 'Call SayHelloStreamReply instead: print each reply as it arrives'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -l bidi -d 'Call SayHelloBidiStream instead: send each line of stdin as a name and print each reply as it arrives, until stdin ends. The --timeout deadline covers the whole stream'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c greeter -n "__fish_greeter_using_subcommand hello" -s V -l version -d 'Print version'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "serve" -d 'Serve helloworld.Greeter until SIGINT or SIGTERM'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "hello" -d 'Call SayHello once and print the greeting'
complete -c greeter -n "__fish_greeter_using_subcommand help; and not __fish_seen_subcommand_from serve hello help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
