//! Network namespaces of the test's own (`ip netns`, so root): each with its own loopback, TCP
//! counters and addresses no other test sees; and a [`Lab`] of them, hosts on one bridge with
//! addresses from 198.18.0.0/15 (reserved for network benchmarks), links a test can cut.
//! Everything is removed on drop, also when the test fails.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{GREETER, not_inherited};

pub struct Netns {
    name: String,
    /// /etc/netns/NAME: files `ip netns exec` puts over /etc's for this namespace.
    etc: std::path::PathBuf,
}

impl Netns {
    /// Whether this machine lets a test make one: root, and iproute2's `ip`.
    pub fn possible() -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        root && ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip"]
            .iter()
            .any(|ip| std::path::Path::new(ip).exists())
    }

    /// A new namespace with its loopback up.
    pub fn new() -> Netns {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "greeter-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        let etc = std::path::Path::new("/etc/netns").join(&name);
        let netns = Netns { name, etc };
        ip(&["-n", &netns.name, "link", "set", "lo", "up"]);
        netns
    }

    /// The namespace's own /etc/hosts (with an nsswitch.conf that looks in it alone, never in
    /// DNS), as `ip netns exec` gives it to the programs it runs.
    pub fn hosts(&self, lines: &str) {
        std::fs::create_dir_all(&self.etc).expect("create /etc/netns/NAME");
        std::fs::write(self.etc.join("hosts"), lines).expect("write the hosts file");
        std::fs::write(self.etc.join("nsswitch.conf"), "hosts: files\n").expect("nsswitch");
    }

    /// `program ARGS` run inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command
    }

    /// `greeter ARGS` inside the namespace, inheriting nothing [`super::greeter`] drops.
    /// `ip netns exec` execs the program, so the child's pid is greeter's own.
    pub fn greeter(&self, args: &[&str]) -> Command {
        let mut command = self.command(GREETER, args);
        for (name, _) in std::env::vars_os() {
            if not_inherited(&name) {
                command.env_remove(name);
            }
        }
        command
    }

    /// A counter of the namespace's TCP stack (`/proc/net/snmp`, e.g. `ActiveOpens`: the
    /// connections its sockets tried to open, refused ones included).
    pub fn tcp_counter(&self, name: &str) -> u64 {
        let out = self
            .command("cat", &["/proc/net/snmp"])
            .output()
            .expect("read /proc/net/snmp in the namespace");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut tcp = text.lines().filter(|line| line.starts_with("Tcp:"));
        let (names, values) = (tcp.next().unwrap_or(""), tcp.next().unwrap_or(""));
        let index = names
            .split_whitespace()
            .position(|field| field == name)
            .unwrap_or_else(|| panic!("no Tcp counter {name} in {text}"));
        values
            .split_whitespace()
            .nth(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no value for {name} in {text}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Processes still inside keep only their sockets; the name goes.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// Hosts on one Ethernet bridge, each in a namespace of its own: what a Kubernetes node's pods
/// look like to each other. Host `i` is 198.18.0.(10 + i)/24 on its `eth0`, whose other end
/// is `port{i}` on the bridge, in the lab's switch namespace.
pub struct Lab {
    /// Dropped before the switch, so their links go first.
    pub hosts: Vec<Netns>,
    switch: Netns,
}

impl Lab {
    pub fn new(hosts: usize) -> Lab {
        let switch = Netns::new();
        ip(&[
            "-n",
            &switch.name,
            "link",
            "add",
            "bridge0",
            "type",
            "bridge",
        ]);
        ip(&["-n", &switch.name, "link", "set", "bridge0", "up"]);
        let hosts = (0..hosts)
            .map(|index| {
                let host = Netns::new();
                let port = format!("port{index}");
                ip(&[
                    "link",
                    "add",
                    "eth0",
                    "netns",
                    &host.name,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    &port,
                    "netns",
                    &switch.name,
                ]);
                ip(&[
                    "-n",
                    &switch.name,
                    "link",
                    "set",
                    &port,
                    "master",
                    "bridge0",
                    "up",
                ]);
                let address = format!("{}/24", Lab::address(index));
                ip(&["-n", &host.name, "addr", "add", &address, "dev", "eth0"]);
                ip(&["-n", &host.name, "link", "set", "eth0", "up"]);
                host
            })
            .collect();
        Lab { hosts, switch }
    }

    /// Host `index`'s address.
    pub fn address(index: usize) -> String {
        format!("198.18.0.{}", 10 + index)
    }

    /// Cuts host `index`'s link at the bridge, or mends it: its packets go nowhere, silently,
    /// as when a node fails.
    pub fn link(&self, index: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&[
            "-n",
            &self.switch.name,
            "link",
            "set",
            &format!("port{index}"),
            state,
        ]);
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
