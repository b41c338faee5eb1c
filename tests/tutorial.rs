//! `docs/TUTORIAL.md` stays true: the files, symbols and excerpts it names are in the
//! repository, and every command of its `console` blocks prints what it shows.
//!
//! The conventions are written down in the tutorial's last section, "How this page stays
//! true"; in short:
//! - a backticked repository path in the prose exists;
//! - `<!-- symbol: FILE NAME -->`: NAME occurs in FILE, as a whole word; every backticked
//!   `name()` in the prose is declared so;
//! - `<!-- excerpt: FILE -->` above a code block: its lines are lines of FILE, in order (`// ...`
//!   stands for lines left out);
//! - a `console` block is commands (`$ ...`) each followed by exactly what it prints, stdout and
//!   stderr together (`...` for any lines; `$ echo $?` checks the exit code before it); they
//!   run in `sh` in one temporary directory, with `greeter` the binary under test, against a
//!   server the harness starts and whose port replaces the page's `localhost:50051`;
//! - `<!-- harness: server ARGS -->` above a block starts a server of its own with ARGS added,
//!   `<!-- harness: no-server -->` points `localhost:50051` at a port where nothing listens.

mod common;
mod markdown;

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{BOUND, GREETER, Server};
use markdown::Block;

const TUTORIAL: &str = "docs/TUTORIAL.md";

/// Where the page's server seems to be; the harness puts the real port in its place.
const PLACEHOLDER: &str = "localhost:50051";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tutorial() -> String {
    std::fs::read_to_string(repo().join(TUTORIAL)).expect("read docs/TUTORIAL.md")
}

/// Fails with every problem found, one per line, each naming the tutorial's line.
fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{TUTORIAL}: {what}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

fn read_repo_file(path: &str) -> Option<String> {
    std::fs::read_to_string(repo().join(path)).ok()
}

// ---------------------------------------------------------------------------------------------
// Files, symbols and excerpts

#[test]
fn the_files_it_names_exist() {
    let page = tutorial();
    let mut problems = Vec::new();
    let mut paths = 0;
    for span in markdown::code_spans(&page) {
        if is_repo_path(&span.code) {
            paths += 1;
            if !repo().join(&span.code).exists() {
                problems.push(format!(
                    "line {}: `{}` is not a file or directory of the repository",
                    span.line, span.code
                ));
            }
        }
    }
    assert_no_problems("files", &problems);
    assert!(paths > 0, "no repository path found: is the parser broken?");
}

#[test]
fn the_symbols_it_names_are_in_their_files() {
    let page = tutorial();
    let mut problems = Vec::new();
    let mut declared = Vec::new();
    for (line, comment) in markdown::comments(&page) {
        let Some(rest) = comment.strip_prefix("symbol:") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [file, symbol] = words[..] else {
            problems.push(format!(
                "line {line}: expected <!-- symbol: FILE NAME -->, got <!-- {comment} -->"
            ));
            continue;
        };
        declared.push(symbol.to_owned());
        match read_repo_file(file) {
            None => problems.push(format!(
                "line {line}: symbol {symbol}: {file} is not a file of the repository"
            )),
            Some(text) if !occurs_as_word(&text, symbol) => problems.push(format!(
                "line {line}: symbol {symbol} does not occur in {file}"
            )),
            Some(_) => {}
        }
    }
    for span in markdown::code_spans(&page) {
        if let Some(name) = called_name(&span.code)
            && !declared.iter().any(|symbol| symbol == name)
        {
            problems.push(format!(
                "line {}: `{}` names a function no <!-- symbol: FILE {name} --> places",
                span.line, span.code
            ));
        }
    }
    assert_no_problems("symbols", &problems);
    assert!(!declared.is_empty(), "no <!-- symbol: ... --> at all");
}

#[test]
fn the_excerpts_are_in_their_files() {
    let page = tutorial();
    let mut problems = Vec::new();
    let blocks = markdown::blocks(&page);
    let mut excerpts = 0;
    for block in &blocks {
        let Some(file) = block
            .comment
            .as_deref()
            .and_then(|comment| comment.strip_prefix("excerpt:"))
            .map(str::trim)
        else {
            continue;
        };
        excerpts += 1;
        let Some(text) = read_repo_file(file) else {
            problems.push(format!(
                "line {}: excerpt of {file}, which is not a file of the repository",
                block.line
            ));
            continue;
        };
        if let Err(missing) = excerpt_matches(&block.lines, &text) {
            problems.push(format!(
                "line {}: excerpt of {file}: {missing:?} is not a line of {file} (after the \
                 excerpt's lines before it)",
                block.line
            ));
        }
    }
    // An excerpt comment that is not right above a block checks nothing.
    let above_blocks: Vec<usize> = blocks.iter().map(|block| block.line).collect();
    for (line, comment) in markdown::comments(&page) {
        if (comment.starts_with("excerpt:") || comment.starts_with("harness:"))
            && !blocks.iter().any(|block| {
                block.comment.as_deref() == Some(comment.as_str()) && block.line > line
            })
        {
            problems.push(format!(
                "line {line}: <!-- {comment} --> is not right above a code block (blocks start \
                 on lines {above_blocks:?})"
            ));
        }
    }
    assert_no_problems("excerpts", &problems);
    assert!(excerpts > 0, "no <!-- excerpt: ... --> at all");
}

/// A repository path as the tutorial writes one: relative to the root, with a `/` (`src/`,
/// `tests/common/`) or a file name with a source extension (`build.rs`).
fn is_repo_path(code: &str) -> bool {
    let plain = code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
    let relative = !code.starts_with(['/', '.', '-']);
    let file_name = [".rs", ".toml", ".proto", ".md", ".sh", ".yaml", ".lock"]
        .iter()
        .any(|ext| code.ends_with(ext) && code.len() > ext.len());
    plain && relative && (code.contains('/') || file_name)
}

/// `name` of a span `name()` or `path::name()`.
fn called_name(code: &str) -> Option<&str> {
    let name = code.strip_suffix("()")?;
    let valid = !name.is_empty()
        && !name.starts_with(':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    valid.then_some(name)
}

/// Whether `symbol` occurs in `text` with no identifier character right before or after it.
fn occurs_as_word(text: &str, symbol: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(symbol).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + symbol.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whether every line of `excerpt` (trimmed, blank lines and `// ...` aside) is a line of
/// `text` (trimmed), in order; else the first that is not.
fn excerpt_matches(excerpt: &[String], text: &str) -> Result<(), String> {
    let mut file = text.lines().map(str::trim);
    for line in excerpt.iter().map(|line| line.trim()) {
        if line.is_empty() || line.starts_with("// ...") {
            continue;
        }
        if !file.any(|candidate| candidate == line) {
            return Err(line.to_owned());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Commands

#[test]
fn every_console_block_prints_what_it_shows() {
    let page = tutorial();
    let blocks = markdown::blocks(&page);
    let session = Session::new();
    let mut problems = Vec::new();
    let mut default_server: Option<Server> = None;
    let mut commands = 0;
    for (index, block) in blocks.iter().enumerate() {
        if block.info != "console" {
            continue;
        }
        let shown_servers: Vec<&str> = blocks[..index]
            .iter()
            .filter(|earlier| earlier.info == "text")
            .flat_map(|earlier| earlier.lines.iter().map(String::as_str))
            .collect();
        let steps = match steps(block) {
            Ok(steps) => steps,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        // The server the block talks to, kept alive until the block is done.
        let target = match Target::for_block(block, &shown_servers, &session, &mut default_server) {
            Ok(target) => target,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let addr = target.addr();
        let mut last_code: Option<i32> = None;
        for step in steps {
            commands += 1;
            let expected: Vec<String> = step
                .expected
                .iter()
                .map(|line| line.replace(PLACEHOLDER, &addr))
                .collect();
            if step.command == "echo $?" {
                let got = last_code.map_or("unknown".to_owned(), |c| c.to_string());
                if expected != [got.clone()] {
                    problems.push(format!(
                        "line {}: `echo $?`: the exit code was {got}, the page shows {expected:?}",
                        step.line
                    ));
                }
                continue;
            }
            let command = step.command.replace(PLACEHOLDER, &addr);
            let (code, output) = match session.run(&command, &addr) {
                Ok(ran) => ran,
                Err(problem) => {
                    problems.push(format!("line {}: {problem}", step.line));
                    last_code = None;
                    continue;
                }
            };
            last_code = code;
            let got: Vec<&str> = output.lines().collect();
            if !lines_match(&expected, &got) {
                problems.push(format!(
                    "line {}: `{}` (run as `{command}`, exit {code:?}) printed\n    {}\n  but \
                     the page shows\n    {}",
                    step.line,
                    step.command,
                    got.join("\n    "),
                    expected.join("\n    ")
                ));
            }
        }
        drop(target);
    }
    assert_no_problems("console blocks", &problems);
    assert!(
        commands > 0,
        "no console command at all: is the parser broken?"
    );
}

/// One command of a console block and what it should print.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The commands of a console block, each with the output lines that follow it.
fn steps(block: &Block) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    for (offset, line) in block.lines.iter().enumerate() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: block.line + 1 + offset,
                command: command.to_owned(),
                expected: Vec::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.expected.push(line.clone());
        } else {
            return Err(format!(
                "line {}: a console block must start with a `$ ` command, not {line:?}",
                block.line + 1 + offset
            ));
        }
    }
    if steps.is_empty() {
        return Err(format!(
            "line {}: a console block with no command",
            block.line
        ));
    }
    Ok(steps)
}

/// Whether `got` is `expected`, line for line, where an expected `...` stands for any number of
/// lines.
fn lines_match(expected: &[String], got: &[&str]) -> bool {
    match expected.split_first() {
        None => got.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=got.len()).any(|skip| lines_match(rest, &got[skip..]))
        }
        Some((first, rest)) => got
            .split_first()
            .is_some_and(|(line, more)| line == first && lines_match(rest, more)),
    }
}

/// What a console block talks to.
enum Target<'a> {
    /// The server most blocks share.
    Shared(&'a Server),
    /// A server of the block's own (`<!-- harness: server ARGS -->`).
    Own(Server),
    /// A port where nothing listens (`<!-- harness: no-server -->`), refusing while the socket
    /// is held.
    Nothing { _held: socket2::Socket, port: u16 },
}

impl<'a> Target<'a> {
    fn for_block(
        block: &Block,
        shown: &[&str],
        session: &Session,
        default_server: &'a mut Option<Server>,
    ) -> Result<Target<'a>, String> {
        let directive = block
            .comment
            .as_deref()
            .and_then(|comment| comment.strip_prefix("harness:"))
            .map(str::trim);
        let shows = |args: &str| {
            let line = format!("$ greeter serve {args}");
            shown
                .iter()
                .any(|shown| shown.trim_end() == line.trim_end())
        };
        match directive {
            None => {
                if !shows("") {
                    return Err(format!(
                        "line {}: a console block needs a server, but no text block before it \
                         shows `$ greeter serve`",
                        block.line
                    ));
                }
                if default_server.is_none() {
                    *default_server = Some(session.serve(&[], block)?);
                }
                Ok(Target::Shared(default_server.as_ref().unwrap()))
            }
            Some("no-server") => {
                let (socket, addr) = common::refusing_addr();
                let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
                Ok(Target::Nothing {
                    _held: socket,
                    port,
                })
            }
            Some(directive) => {
                let Some(args) = directive.strip_prefix("server ") else {
                    return Err(format!(
                        "line {}: unknown <!-- harness: {directive} -->: expected `server ARGS` \
                         or `no-server`",
                        block.line
                    ));
                };
                if !shows(args) {
                    return Err(format!(
                        "line {}: <!-- harness: server {args} --> is not what the page shows: no \
                         text block before it has `$ greeter serve {args}`",
                        block.line
                    ));
                }
                let args: Vec<&str> = args.split_whitespace().collect();
                Ok(Target::Own(session.serve(&args, block)?))
            }
        }
    }

    /// The address that replaces the placeholder.
    fn addr(&self) -> String {
        let port = match self {
            Target::Shared(server) => server.port(),
            Target::Own(server) => server.port(),
            Target::Nothing { port, .. } => *port,
        };
        format!("localhost:{port}")
    }
}

/// A temporary directory for the commands (`work/`) and the `greeter` they find on the PATH
/// (`bin/`); removed on drop, whatever happened.
struct Session {
    dir: tempfile::TempDir,
}

impl Session {
    fn new() -> Session {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("work")).unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::os::unix::fs::symlink(GREETER, dir.path().join("bin/greeter")).unwrap();
        Session { dir }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// `greeter serve --addr 127.0.0.1:0 ARGS`, in the work directory, once it is ready; or,
    /// naming `block`, what it said instead.
    fn serve(&self, args: &[&str], block: &Block) -> Result<Server, String> {
        let mut command = common::greeter(
            ["serve", "--addr", "127.0.0.1:0"]
                .into_iter()
                .chain(args.iter().copied()),
        );
        command.current_dir(self.work());
        Server::spawn(command).map_err(|outcome| {
            format!(
                "line {}: the block's `greeter serve {}` did not start: {outcome:?}",
                block.line,
                args.join(" ")
            )
        })
    }

    /// Runs `command` in `sh`, stdout and stderr together, in the work directory, with
    /// `GREETER_ADDR` at `addr`; its exit code and what it printed, or why it has neither.
    fn run(&self, command: &str, addr: &str) -> Result<(Option<i32>, String), String> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.dir.path().join("bin")];
        paths.extend(std::env::split_paths(&path));
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("exec 2>&1\n{command}"))
            .current_dir(self.work())
            .env("PATH", std::env::join_paths(paths).unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so that all it started can be killed together.
            .process_group(0);
        for (name, _) in std::env::vars_os() {
            if common::not_inherited(&name) {
                sh.env_remove(name);
            }
        }
        sh.env("GREETER_ADDR", addr);
        let mut group = Group(Some(sh.spawn().expect("spawn sh")));
        let stdout = group.child().stdout.take().expect("piped stdout");
        let reader = thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = { stdout }.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let exited = exited_within(group.child(), BOUND);
        // Whatever the command left running goes too, so that the pipe closes.
        let status = group.end();
        let output = reader.join().expect("stdout reader");
        match status {
            Some(status) if exited => Ok((status.code(), output)),
            _ => Err(format!(
                "`{command}` did not finish within {BOUND:?} (killed); it printed: {output:?}"
            )),
        }
    }
}

/// A child leading its own process group, which is killed as a whole, and the child reaped,
/// when it ends or is dropped.
struct Group(Option<Child>);

impl Group {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("not ended yet")
    }

    /// Kills what is left of the group and reaps the leader: its exit status.
    fn end(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.0.take()?;
        // SAFETY: kill(2) on the process group this test created. Its leader is not reaped
        // yet (only `wait` below reaps it), so the group's id cannot have been reused.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        child.wait().ok()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.end();
    }
}

/// Waits, at most `bound`, for `child` to exit, without reaping it (so that its process group
/// can still be killed safely).
fn exited_within(child: &Child, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        // SAFETY: waitid(2) with WNOWAIT on our own child, into a zeroed siginfo_t.
        let exited = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
            let rc = libc::waitid(libc::P_PID, child.id(), &mut info, flags);
            assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
            info.si_pid() != 0
        };
        if exited {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_harness_rules_themselves() {
    let lines = |text: &[&str]| text.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&lines(&["a", "b"]), &["a", "b"]));
    assert!(!lines_match(&lines(&["a", "b"]), &["a", "b", "c"]));
    assert!(!lines_match(&lines(&["a"]), &[]));
    assert!(lines_match(&lines(&["..."]), &[]));
    assert!(lines_match(
        &lines(&["...", "-----"]),
        &["...++*", "..+", "-----"]
    ));
    assert!(!lines_match(&lines(&["...", "x"]), &["y"]));

    assert!(is_repo_path("src/server/greeter.rs"));
    assert!(is_repo_path("tests/common/"));
    assert!(is_repo_path("build.rs"));
    assert!(!is_repo_path("cert.pem"));
    assert!(!is_repo_path("/run/greeter.sock"));
    assert!(!is_repo_path("~/.cargo/bin"));
    assert!(!is_repo_path("greeter_server::Greeter"));
    assert!(!is_repo_path(".proto"));
    assert!(!is_repo_path("greeter serve"));

    assert_eq!(called_name("say_hello()"), Some("say_hello"));
    assert_eq!(called_name("protox::compile()"), Some("protox::compile"));
    assert_eq!(called_name("client.say_hello(x)"), None);
    assert_eq!(called_name("()"), None);

    assert!(occurs_as_word("tonic::include_proto!(x)", "include_proto"));
    assert!(occurs_as_word("fn attempt(", "attempt"));
    assert!(!occurs_as_word("fn attempts(", "attempt"));
    assert!(!occurs_as_word("fn reattempt(", "attempt"));

    let file = "fn a() {\n    let x = 1;\n    let y = 2;\n}\n";
    assert!(excerpt_matches(&lines(&["fn a() {", "// ...", "  let y = 2;", "}"]), file).is_ok());
    assert_eq!(
        excerpt_matches(&lines(&["let y = 2;", "let x = 1;"]), file),
        Err("let x = 1;".to_owned())
    );
}
