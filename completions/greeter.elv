
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
            cand --metrics-addr 'Serve Prometheus metrics over HTTP at ADDR, path /metrics'
            cand --log-format 'Log format on stderr'
            cand --log-level 'Which logs to write [default: RUST_LOG, else info]'
            cand --no-reflection 'Do not serve server reflection'
            cand --access-log 'Log one line per call: method, peer, status, latency'
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
            cand -n 'Make N SayHello calls over one connection, then print a summary on stderr'
            cand --count 'Make N SayHello calls over one connection, then print a summary on stderr'
            cand --duration 'Keep making SayHello calls for this long instead of --count, then print the summary'
            cand -c 'How many of the --count or --duration calls are in flight at once'
            cand --concurrency 'How many of the --count or --duration calls are in flight at once'
            cand -H 'Send a request header: `name: value`, or `@FILE` to read one per line'
            cand --header 'Send a request header: `name: value`, or `@FILE` to read one per line'
            cand --connect-timeout 'Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline]'
            cand --retries 'Retry a call that failed with UNAVAILABLE up to N times'
            cand --retry-backoff 'The pause before the first retry; each next one doubles, up to 5s, with jitter'
            cand -q 'With --count or --duration, print no replies: only the summary'
            cand --quiet 'With --count or --duration, print no replies: only the summary'
            cand --stream 'Call SayHelloStreamReply instead: print each reply as it arrives'
            cand --wait-for-ready 'Keep trying to connect until the deadline, instead of failing at once'
            cand -v 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)'
            cand --verbose 'Say on stderr what happens: each retry and connection attempt with its reason, and the response''s headers and trailers (`< name: value`)'
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
