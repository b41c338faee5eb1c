//! Headless Chromium (Debian's `chromium`, which `tests/infra/chromium-setup.sh` installs), for
//! what a person sees of a page the binary wrote: the DOM once its script has run, and a
//! screenshot.
//!
//! Each run is one browser in a process group of its own, with its profile and its home in a
//! temporary directory removed after it, so nothing outside is read or written; it reaches no
//! network (no background services, every host name unresolvable, and the pages it opens are
//! files); and it is killed, with every process it started, if it outlives [`BOUND`].

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{BOUND, skip};

/// The window a page is drawn in: wide enough for the report's two columns.
pub const WINDOW: (u32, u32) = (1280, 1400);

/// How much time a page's timers may take before the DOM is read or the screenshot taken:
/// virtual time, which headless Chromium fast-forwards when nothing else is pending, so it
/// costs no waiting.
const VIRTUAL_TIME_BUDGET_MS: u32 = 5000;

pub struct Chromium {
    binary: PathBuf,
}

impl Chromium {
    /// The installed Chromium; `None`, after a [`skip`] saying so, where there is none.
    pub fn find() -> Option<Chromium> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let found = std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file());
        match found {
            Some(binary) => Some(Chromium { binary }),
            None => {
                skip(
                    "chromium is not installed (tests/infra/chromium-setup.sh installs it, as root)",
                );
                None
            }
        }
    }

    /// The DOM of `page` (a file) once its script has run, as HTML.
    pub fn dump_dom(&self, page: &Path) -> String {
        self.run(page, vec!["--dump-dom".into()])
    }

    /// A screenshot of `page` (a file) in a [`WINDOW`]-sized window, written to `png`.
    pub fn screenshot(&self, page: &Path, png: &Path) {
        let mut flag = OsString::from("--screenshot=");
        flag.push(png);
        let _ = std::fs::remove_file(png);
        self.run(
            page,
            vec![
                flag,
                format!("--window-size={},{}", WINDOW.0, WINDOW.1).into(),
                "--hide-scrollbars".into(),
            ],
        );
        assert!(
            png.is_file(),
            "chromium wrote no screenshot to {}",
            png.display()
        );
    }

    /// Runs the browser on `page` with `args`; its stdout. Fails if it fails or outlives
    /// [`BOUND`].
    fn run(&self, page: &Path, args: Vec<OsString>) -> String {
        let dir = tempfile::tempdir().expect("temporary directory");
        let page =
            std::fs::canonicalize(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        let mut command = Command::new(&self.binary);
        command
            .arg("--headless")
            .arg("--disable-gpu")
            .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
            .arg({
                let mut flag = OsString::from("--user-data-dir=");
                flag.push(dir.path().join("profile"));
                flag
            })
            // No first-run dialogs, no services that call home, no crash reports; and every
            // host name resolves to nothing, should anything try.
            .args([
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-breakpad",
                "--no-pings",
                "--host-resolver-rules=MAP * ~NOTFOUND",
            ])
            .args(args)
            .arg(url(&page))
            // Its home and caches (~/.config/chromium, dconf) in the directory too.
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A group of its own, so a kill reaches the renderer and zygote processes too.
            .process_group(0);
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Chromium refuses to run as root with its sandbox.
            command.arg("--no-sandbox");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.binary.display()));
        let stdout = read_all(child.stdout.take().expect("piped stdout"));
        let stderr = read_all(child.stderr.take().expect("piped stderr"));
        let pid = child.id() as libc::pid_t;
        let ended = wait_unreaped(pid, BOUND);
        // The whole group, while the leader is unreaped: its id cannot have been reused yet.
        // SAFETY: kill(2) on the process group of a child of ours that is not reaped.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let status = child.wait().expect("reap chromium");
        let stdout = stdout.join().expect("stdout reader");
        let stderr = stderr.join().expect("stderr reader");
        assert!(
            ended,
            "chromium did not finish within {BOUND:?} on {}:\n{stderr}",
            page.display()
        );
        assert!(
            status.success(),
            "chromium failed ({status}) on {}:\n{stderr}",
            page.display()
        );
        stdout
    }
}

/// `file:///ABS/PATH`, every byte but the unreserved ones and `/` percent-encoded.
fn url(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let mut url = String::from("file://");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// Waits, at most `bound`, for the child `pid` to exit, leaving it unreaped (a zombie keeps its
/// id, and so its process group's, from being reused); whether it exited.
fn wait_unreaped(pid: libc::pid_t, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        // SAFETY: waitid on our own child, into a zeroed siginfo_t it fills in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
        let waited = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
        // SAFETY: si_pid is set by a waitid that found a child (and stays 0 when it did not).
        if waited == 0 && unsafe { info.si_pid() } == pid {
            return true;
        }
        if waited != 0 || Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn read_all(mut pipe: impl std::io::Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The text of the element with `id` in `dom` (as [`Chromium::dump_dom`] gives it), when that
/// element holds text only; `None` if there is no such element.
pub fn text_of(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!(r#" id="{id}""#))?;
    let start = at + dom[at..].find('>')? + 1;
    let end = start + dom[start..].find('<')?;
    Some(unescape(&dom[start..end]))
}

/// The value of `attribute` on the `<body>` of `dom`.
pub fn body_attribute(dom: &str, attribute: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let tag = &body[..body.find('>')?];
    let at = tag.find(&format!(r#" {attribute}=""#))? + attribute.len() + 3;
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

/// Text as the DOM serializer escapes it back to itself.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
