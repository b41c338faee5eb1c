//! Just enough Markdown for the documentation tests: fenced code blocks, code spans, links and
//! one-line HTML comments, each with the line it is on (1-based).

#![allow(dead_code)] // each test file uses its own part

/// A Markdown link's target and the line it is on.
#[derive(Debug, PartialEq, Eq)]
pub struct Link {
    pub line: usize,
    pub target: String,
}

/// A fenced code block.
#[derive(Debug, PartialEq, Eq)]
pub struct Block {
    /// The info string after the opening fence (`console`, `rust`, or empty).
    pub info: String,
    /// The line of the opening fence.
    pub line: usize,
    /// The lines between the fences, less the opening fence's indentation.
    pub lines: Vec<String>,
    /// The nearest non-blank line above the opening fence, trimmed, if it is an HTML comment:
    /// what the comment says, without `<!--` and `-->`.
    pub comment: Option<String>,
}

/// A span of inline code, outside code blocks.
#[derive(Debug, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub code: String,
}

/// The fenced code blocks of `text`, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut open: Option<(Fence, Block)> = None;
    for (index, line) in lines.iter().enumerate() {
        let fence = Fence::of(line);
        match (&mut open, fence) {
            (None, Some(fence)) => {
                let comment = lines[..index]
                    .iter()
                    .rev()
                    .find(|above| !above.trim().is_empty())
                    .and_then(|above| comment_of(above));
                let info = line.trim_start()[fence.len..].trim().to_owned();
                let block = Block {
                    info,
                    line: index + 1,
                    lines: Vec::new(),
                    comment,
                };
                open = Some((fence, block));
            }
            (Some((opening, _)), Some(closing)) if opening.closed_by(&closing, line) => {
                blocks.push(open.take().unwrap().1);
            }
            (Some((opening, block)), _) => {
                let indent = opening.indent.min(line.len() - line.trim_start().len());
                block.lines.push(line[indent..].to_owned());
            }
            (None, None) => {}
        }
    }
    blocks
}

/// What `line` says if it is a one-line HTML comment, trimmed.
pub fn comment_of(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix("<!--")?.strip_suffix("-->")?;
    Some(inner.trim().to_owned())
}

/// The one-line HTML comments of `text` outside code blocks, with their lines.
pub fn comments(text: &str) -> Vec<(usize, String)> {
    blank_blocks(text)
        .lines()
        .enumerate()
        .filter_map(|(index, line)| comment_of(line).map(|comment| (index + 1, comment)))
        .collect()
}

/// The code spans of `text` outside code blocks (a span may cross lines: it is reported on
/// the line it starts, its newlines as spaces).
pub fn code_spans(text: &str) -> Vec<Span> {
    let prose = blank_blocks(text);
    let line_of = |at: usize| prose[..at].matches('\n').count() + 1;
    spans(&prose)
        .into_iter()
        .map(|(start, end, ticks)| Span {
            line: line_of(start),
            code: prose[start + ticks..end - ticks]
                .replace('\n', " ")
                .trim()
                .to_owned(),
        })
        .collect()
}

/// The targets of the inline links (`[text](target)`, `![alt](target)`) and reference
/// definitions (`[label]: target`) of `text`, outside code blocks and code spans.
pub fn links(text: &str) -> Vec<Link> {
    let prose = blank_code(text);
    let line_of = |at: usize| prose[..at].matches('\n').count() + 1;
    let mut links = Vec::new();
    let mut from = 0;
    while let Some(found) = prose[from..].find("](") {
        let start = from + found + 2;
        let rest = &prose[start..];
        let end = rest.find([')', '\n']).unwrap_or(rest.len());
        let inner = rest[..end].trim();
        // `(<target> "title")`: the target is the first word, angle brackets off.
        let target = inner.split_whitespace().next().unwrap_or_default();
        links.push(Link {
            line: line_of(start),
            target: unbracket(target),
        });
        from = start + end;
    }
    for (number, line) in prose.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('[')
            && let Some((label, target)) = rest.split_once("]:")
            && !label.is_empty()
            && !label.contains(']')
            && let Some(target) = target.split_whitespace().next()
        {
            links.push(Link {
                line: number + 1,
                target: unbracket(target),
            });
        }
    }
    links
}

fn unbracket(target: &str) -> String {
    target
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// `text` with fenced code blocks and code spans blanked out (newlines kept, so line numbers
/// stay right).
pub fn blank_code(text: &str) -> String {
    let prose = blank_blocks(text);
    let mut out = prose.into_bytes();
    for (start, end, _) in spans(std::str::from_utf8(&out).unwrap()) {
        for byte in &mut out[start..end] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    // Whole spans, bounded by ASCII backticks, became ASCII spaces: still UTF-8.
    String::from_utf8(out).expect("blanking keeps UTF-8")
}

/// `text` with the lines of fenced code blocks, fences included, blanked out.
fn blank_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<Fence> = None;
    for line in text.split_inclusive('\n') {
        let fence = Fence::of(line.trim_end_matches('\n'));
        let in_code = match (&open, fence) {
            (None, Some(fence)) => {
                open = Some(fence);
                true
            }
            (Some(opening), Some(closing))
                if opening.closed_by(&closing, line.trim_end_matches('\n')) =>
            {
                open = None;
                true
            }
            (Some(_), _) => true,
            (None, None) => false,
        };
        if in_code {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The code spans of `prose` as (start, end, backticks): a run of n backticks up to the next
/// run of exactly n. A run with no closing run is literal text.
fn spans(prose: &str) -> Vec<(usize, usize, usize)> {
    let bytes = prose.as_bytes();
    let run_at = |at: usize| bytes[at..].iter().take_while(|b| **b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let mut j = i + open;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_at(j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(close) => {
                spans.push((i, close + open, open));
                i = close + open;
            }
            None => i += open,
        }
    }
    spans
}

/// A code fence: its character, how many, and how far it is indented.
#[derive(Debug, Clone, Copy)]
struct Fence {
    char: char,
    len: usize,
    indent: usize,
}

impl Fence {
    fn of(line: &str) -> Option<Fence> {
        let trimmed = line.trim_start();
        let char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = trimmed.chars().take_while(|c| *c == char).count();
        (len >= 3).then_some(Fence {
            char,
            len,
            indent: line.len() - trimmed.len(),
        })
    }

    /// Whether `closing`, found on `line`, closes a block opened by `self`.
    fn closed_by(&self, closing: &Fence, line: &str) -> bool {
        closing.char == self.char
            && closing.len >= self.len
            && line.trim_start()[closing.len..].trim().is_empty()
    }
}
