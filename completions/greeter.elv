
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
            cand -a 'Where to listen: `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`, `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port'
            cand --addr 'Where to listen: `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`, `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port'
            cand --workers 'Worker threads, each a single-threaded runtime serving its share of connections. Defaults to the CPUs this process may use, which respects taskset and cgroup CPU quotas: in a container limited to one CPU, one worker and no idle threads'
            cand --grace-period 'After SIGINT or SIGTERM, how long calls in flight may take to finish before the connections still open are closed and the server exits 0. New connections are refused as soon as the signal arrives; a second signal exits at once'
            cand --stream-count 'How many replies SayHelloStreamReply sends, each "Hello " + name'
            cand --stream-interval 'The pause between two replies of SayHelloStreamReply (the first is sent at once)'
            cand --log-format 'Log format on stderr: `text` for people, `json` for log collectors (one object per line)'
            cand --log-level 'Which logs to write: `error`, `warn`, `info`, `debug`, `trace`, or per module (`info,h2=debug`). Without it, RUST_LOG is used, then `info`'
            cand --no-reflection 'Do not serve server reflection (grpc.reflection.v1 and v1alpha). With it, grpcurl, evans and Postman can list and call the services without the proto files'
            cand --access-log 'Log one line per call on stderr: method, peer, status, latency. Off by default: at 100k calls a second a line per call costs more than the call'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'greeter;hello'= {
            cand --name 'Who to greet, as a flag (the positional NAME and --name are the same; give one)'
            cand -a 'The server: `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost), `[IPV6]:PORT`, `http://HOST:PORT`, `unix:PATH` or `unix:///ABS/PATH`'
            cand --addr 'The server: `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost), `[IPV6]:PORT`, `http://HOST:PORT`, `unix:PATH` or `unix:///ABS/PATH`'
            cand -t 'Deadline of the whole call, connecting included (`500ms`, `1s`, `2m`). It is sent to the server as `grpc-timeout`, so the server stops working on it when it expires'
            cand --timeout 'Deadline of the whole call, connecting included (`500ms`, `1s`, `2m`). It is sent to the server as `grpc-timeout`, so the server stops working on it when it expires'
            cand -o 'How to print replies and failures: `text`, the greeting alone on stdout; `json`, one object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`)'
            cand --output 'How to print replies and failures: `text`, the greeting alone on stdout; `json`, one object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`)'
            cand --stream 'Call SayHelloStreamReply instead: print each reply as it arrives'
            cand --bidi 'Call SayHelloBidiStream instead: send each line of stdin as a name and print each reply as it arrives, until stdin ends. The --timeout deadline covers the whole stream'
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
