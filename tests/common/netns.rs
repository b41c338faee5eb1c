//! A network namespace of the test's own (`ip netns`, so root): its own loopback, its own TCP
//! counters, and addresses no other test sees. Removed on drop, also when the test fails.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{GREETER, not_inherited};

pub struct Netns {
    name: String,
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
        let netns = Netns { name };
        ip(&["-n", &netns.name, "link", "set", "lo", "up"]);
        netns
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
