//! Every address form of the contract, and the errors that say what to write instead.

use super::*;

fn listen(text: &str) -> ListenAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn target(text: &str) -> Target {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn listen_error(text: &str) -> String {
    text.parse::<ListenAddr>().unwrap_err().to_string()
}

fn target_error(text: &str) -> String {
    text.parse::<Target>().unwrap_err().to_string()
}

fn name(host: &str) -> Host {
    Host::Name(host.into())
}

#[test]
fn listen_forms() {
    assert_eq!(listen(":50051"), ListenAddr::AllInterfaces { port: 50051 });
    assert_eq!(listen(":0"), ListenAddr::AllInterfaces { port: 0 });
    assert_eq!(
        listen("127.0.0.1:0"),
        ListenAddr::Host {
            host: Host::Ip([127, 0, 0, 1].into()),
            port: 0
        }
    );
    assert_eq!(
        listen("[::1]:8080"),
        ListenAddr::Host {
            host: Host::Ip(Ipv6Addr::LOCALHOST.into()),
            port: 8080
        }
    );
    assert_eq!(
        listen("[::]:50051"),
        ListenAddr::Host {
            host: Host::Ip(Ipv6Addr::UNSPECIFIED.into()),
            port: 50051
        }
    );
    assert_eq!(
        listen("localhost:65535"),
        ListenAddr::Host {
            host: name("localhost"),
            port: 65535
        }
    );
    assert_eq!(
        listen("unix:/run/greeter.sock"),
        ListenAddr::Unix("/run/greeter.sock".into())
    );
    assert_eq!(
        listen("unix:greeter.sock"),
        ListenAddr::Unix("greeter.sock".into())
    );
    assert_eq!(
        listen("unix:///run/greeter.sock"),
        ListenAddr::Unix("/run/greeter.sock".into())
    );
}

#[test]
fn listen_errors_say_what_to_write() {
    assert!(listen_error("50051").contains("write HOST:PORT"));
    assert!(listen_error("localhost").contains("no port"));
    assert!(listen_error(":").contains("is not a port"));
    assert!(listen_error(":65536").contains("0 to 65535"));
    assert!(listen_error(":-1").contains("is not a port"));
    assert!(listen_error("::1:50051").contains("brackets"));
    assert!(listen_error("[::1]").contains("no port"));
    assert!(listen_error("[::1:50051").contains("without ']'"));
    assert!(listen_error("[1.2.3.4]:1").contains("not an IPv6 address"));
    assert!(listen_error("bad host:1").contains("neither an IP address nor a host name"));
    assert!(listen_error("a..b:1").contains("neither"));
    assert!(listen_error("http://localhost:1").contains("unsupported scheme"));
    assert!(listen_error("unix:").contains("empty"));
    assert!(listen_error("unix://host/path").contains("three slashes"));
    let longest = format!("unix:/{}", "a".repeat(106));
    assert_eq!(listen(&longest), ListenAddr::Unix(longest[5..].into()));
    let too_long = format!("unix:/{}", "a".repeat(107));
    assert!(
        listen_error(&too_long).contains("108 bytes long; Linux allows at most 107"),
        "{}",
        listen_error(&too_long)
    );
}

#[test]
fn target_forms() {
    let localhost = |port| Target::Tcp {
        host: name("localhost"),
        port,
        tls: false,
    };
    assert_eq!(target("localhost:50051"), localhost(50051));
    assert_eq!(target(":50051"), localhost(50051));
    assert_eq!(target("http://localhost:50051"), localhost(50051));
    assert_eq!(target("http://localhost:50051/"), localhost(50051));
    assert_eq!(target("dns:///localhost:50051"), localhost(50051));
    let tcp = |host: Host, port, tls| Target::Tcp { host, port, tls };
    let ipv6_loopback = || Host::Ip(Ipv6Addr::LOCALHOST.into());
    for (text, expected) in [
        ("[::1]:1", tcp(ipv6_loopback(), 1, false)),
        ("http://[::1]:1", tcp(ipv6_loopback(), 1, false)),
        (
            "127.0.0.2:443",
            tcp(Host::Ip([127, 0, 0, 2].into()), 443, false),
        ),
        (
            "greeter.default.svc.cluster.local:50051",
            tcp(name("greeter.default.svc.cluster.local"), 50051, false),
        ),
        ("https://localhost:443", tcp(name("localhost"), 443, true)),
        ("https://[::1]:8443/", tcp(ipv6_loopback(), 8443, true)),
        ("unix:/tmp/g.sock", Target::Unix("/tmp/g.sock".into())),
        ("unix:///tmp/g.sock", Target::Unix("/tmp/g.sock".into())),
        ("unix:rel.sock", Target::Unix("rel.sock".into())),
    ] {
        assert_eq!(target(text), expected, "{text}");
    }
}

#[test]
fn target_errors_say_what_to_write() {
    assert!(target_error("localhost").contains("write HOST:PORT"));
    assert!(target_error("localhost:http").contains("is not a port"));
    assert!(target_error("ftp://localhost:1").contains("unsupported scheme 'ftp://'"));
    assert!(target_error("https://localhost:1/x").contains("has a path"));
    assert!(target_error("https://localhost").contains("no port"));
    assert!(target_error("grpcs://localhost:1").contains("https://HOST:PORT"));
    assert!(target_error("http://localhost:1/helloworld").contains("has a path"));
    assert!(target_error("http://localhost").contains("no port"));
    assert!(target_error("fe80::1:50051").contains("brackets"));
    assert!(target_error("").contains("no port"));
}

#[test]
fn plaintext_off_host_is_tcp_without_tls_beyond_loopback() {
    for local in [
        "localhost:1",
        "127.0.0.1:1",
        "127.9.9.9:1",
        "[::1]:1",
        "unix:/a",
    ] {
        assert!(!target(local).plaintext_off_host(), "{local}");
    }
    for tls in ["https://greeter.example:443", "https://10.0.0.1:1"] {
        assert!(!target(tls).plaintext_off_host(), "{tls}");
    }
    for exposed in [
        "greeter.example:50051",
        "10.0.0.1:1",
        "http://[2001:db8::1]:1",
    ] {
        assert!(target(exposed).plaintext_off_host(), "{exposed}");
    }
}

#[test]
fn only_loopback_and_unix_listeners_are_unexposed() {
    for exposed in [
        ":1",
        "0.0.0.0:1",
        "[::]:1",
        "10.0.0.1:1",
        "greeter.example:1",
    ] {
        assert!(listen(exposed).is_exposed(), "{exposed}");
    }
    for local in ["127.0.0.1:1", "[::1]:1", "localhost:1", "unix:/a"] {
        assert!(!listen(local).is_exposed(), "{local}");
    }
}

#[test]
fn display_is_the_canonical_form() {
    for text in [
        ":50051",
        "127.0.0.1:0",
        "[::1]:8080",
        "localhost:1",
        "unix:/a/b",
    ] {
        assert_eq!(listen(text).to_string(), text);
    }
    assert_eq!(listen("unix:///a/b").to_string(), "unix:/a/b");
    for text in [
        "localhost:50051",
        "[::1]:1",
        "127.0.0.2:443",
        "unix:rel.sock",
    ] {
        assert_eq!(target(text).to_string(), text);
    }
    assert_eq!(target(":7").to_string(), "localhost:7");
    assert_eq!(target("http://[::1]:7").to_string(), "[::1]:7");
    assert_eq!(target("https://[::1]:7").to_string(), "[::1]:7");
}
