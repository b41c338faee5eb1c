
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
