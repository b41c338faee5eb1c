//! Request metadata from `-H`: `name: value`, `@FILE` (one header per line), and `${VAR}`
//! expanded from the environment, so secrets need not appear in argv.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};

/// Headers checked and ready to send.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<(AsciiMetadataKey, AsciiMetadataValue)>);

/// Why `-H` was refused: a usage error, or a file that could not be read.
#[derive(Debug)]
pub enum HeaderError {
    Usage(String),
    Unreadable(String),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Usage(message) | HeaderError::Unreadable(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for HeaderError {}

/// Headers gRPC itself sets; sending them would break the call.
const RESERVED: [&str; 4] = ["content-type", "te", "user-agent", "grpc-timeout"];

impl Headers {
    /// Parses every `-H` argument, reading `@FILE`s and expanding `${VAR}` with `env`.
    pub fn parse(
        arguments: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Headers, HeaderError> {
        let mut headers = Vec::new();
        for argument in arguments {
            match argument.strip_prefix('@') {
                Some(file) => {
                    let text = read(Path::new(file))?;
                    let lines = text
                        .lines()
                        .map(str::trim)
                        .filter(|line| !line.is_empty() && !line.starts_with('#'));
                    for line in lines {
                        headers.push(header(line, &env, &format!(" in {file}"))?);
                    }
                }
                None => headers.push(header(argument, &env, "")?),
            }
        }
        Ok(Headers(headers))
    }

    /// Whether a header `name` (lowercase) was given.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key.as_str() == name)
    }

    /// Adds `authorization` (the bearer token): it must not also come from `-H`.
    pub fn authorize(&mut self, value: AsciiMetadataValue) {
        self.0
            .push((AsciiMetadataKey::from_static("authorization"), value));
    }

    /// The headers as HTTP/2 sends them: without the connection-specific ones (RFC 9113,
    /// section 8.2.2: `connection`, those it names, `keep-alive`, `proxy-connection`,
    /// `transfer-encoding`, `upgrade`), which hyper drops from every request and h2 refuses.
    /// The replicas' channel hands its requests to h2 itself, so they are dropped here, once
    /// for a run.
    pub fn for_http2(&self) -> Headers {
        let mut dropped = vec![
            "connection".to_owned(),
            "keep-alive".to_owned(),
            "proxy-connection".to_owned(),
            "transfer-encoding".to_owned(),
            "upgrade".to_owned(),
        ];
        for (key, value) in &self.0 {
            if key.as_str() == "connection"
                && let Ok(names) = value.to_str()
            {
                dropped.extend(
                    names
                        .split(',')
                        .map(|name| name.trim().to_ascii_lowercase()),
                );
            }
        }
        let kept = self
            .0
            .iter()
            .filter(|(key, _)| !dropped.iter().any(|name| name == key.as_str()));
        Headers(kept.cloned().collect())
    }

    /// Adds the headers to a request's metadata.
    pub fn apply(&self, metadata: &mut MetadataMap) {
        for (key, value) in &self.0 {
            metadata.append(key.clone(), value.clone());
        }
    }
}

fn read(path: &Path) -> Result<String, HeaderError> {
    std::fs::read_to_string(path).map_err(|err| {
        HeaderError::Unreadable(format!(
            "could not read headers from {}: {}",
            path.display(),
            crate::report::describe_io(&err)
        ))
    })
}

fn header(
    line: &str,
    env: &impl Fn(&str) -> Option<String>,
    place: &str,
) -> Result<(AsciiMetadataKey, AsciiMetadataValue), HeaderError> {
    let usage = |message: String| HeaderError::Usage(format!("-H '{line}'{place}: {message}"));
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| usage("write it as 'name: value'".into()))?;
    let name = name.trim().to_ascii_lowercase();
    if name.ends_with("-bin") {
        return Err(usage("binary (-bin) headers are not supported".into()));
    }
    if name.starts_with("grpc-") || name.starts_with(':') || RESERVED.contains(&name.as_str()) {
        return Err(usage(format!("'{name}' is set by gRPC itself")));
    }
    let key = AsciiMetadataKey::from_str(&name)
        .map_err(|_| usage(format!("'{name}' is not a valid header name")))?;
    let value = expand(value.trim(), env).map_err(usage)?;
    // The gRPC spec allows printable ASCII only (HTTP would pass other bytes through).
    let printable = value.bytes().all(|byte| (b' '..=b'~').contains(&byte));
    let value = AsciiMetadataValue::from_str(&value)
        .ok()
        .filter(|_| printable)
        .ok_or_else(|| usage("the value must be printable ASCII".into()))?;
    Ok((key, value))
}

/// Replaces each `${VAR}` with the variable's value; an unset variable is an error, not an
/// empty string, so a missing secret never goes out as an empty token.
fn expand(text: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut expanded = String::with_capacity(text.len());
    let mut rest = text;
    // Split at the markers rather than at byte offsets: the text is anyone's UTF-8.
    while let Some((before, after)) = rest.split_once("${") {
        expanded.push_str(before);
        let (name, after) = after
            .split_once('}')
            .ok_or_else(|| "'${' without a closing '}'".to_owned())?;
        let value = env(name).ok_or_else(|| format!("${{{name}}} is not set"))?;
        expanded.push_str(&value);
        rest = after;
    }
    expanded.push_str(rest);
    Ok(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_takes_no_connection_specific_header() {
        let lines = [
            "connection: close, x-hop",
            "x-hop: 1",
            "keep-alive: 5",
            "upgrade: h2c",
            "x-kept: yes",
        ]
        .map(String::from);
        let headers = Headers::parse(&lines, |_| None).unwrap().for_http2();
        let names: Vec<&str> = headers.0.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn parse(arguments: &[&str]) -> Result<Vec<(String, String)>, String> {
        let arguments: Vec<String> = arguments.iter().map(|a| a.to_string()).collect();
        let headers = Headers::parse(&arguments, env).map_err(|e| e.to_string())?;
        Ok(headers
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect())
    }

    #[test]
    fn names_are_lowercased_and_values_trimmed() {
        let parsed = parse(&["X-Trace-Id:  abc ", "x-a:b:c"]).unwrap();
        assert_eq!(
            parsed,
            [
                ("x-trace-id".into(), "abc".into()),
                ("x-a".into(), "b:c".into())
            ]
        );
    }

    #[test]
    fn variables_expand_and_unset_ones_are_errors() {
        let parsed = parse(&["authorization: Bearer ${TOKEN}", "x-e: [${EMPTY}]"]).unwrap();
        assert_eq!(parsed[0].1, "Bearer s3cret");
        assert_eq!(parsed[1].1, "[]");
        let err = parse(&["authorization: Bearer ${NOPE}"]).unwrap_err();
        assert!(err.contains("${NOPE} is not set"), "{err}");
        assert!(parse(&["x: ${TOKEN"]).unwrap_err().contains("closing"));
    }

    #[test]
    fn expansion_keeps_multi_byte_text_whole() {
        let expand = |text| expand(text, &env);
        assert_eq!(expand("é${TOKEN}🌍").as_deref(), Ok("és3cret🌍"));
        assert_eq!(expand("${TOKEN}ü${EMPTY}").as_deref(), Ok("s3cretü"));
        assert_eq!(expand("🌍${é}").unwrap_err(), "${é} is not set");
        assert!(expand("ü${TOKEN}${🌍").unwrap_err().contains("closing"));
        assert_eq!(expand("$ü{TOKEN}").as_deref(), Ok("$ü{TOKEN}"));
    }

    #[test]
    fn reserved_and_malformed_headers_are_refused() {
        for (bad, why) in [
            ("no colon", "'name: value'"),
            ("grpc-timeout: 1S", "set by gRPC itself"),
            ("content-type: text/plain", "set by gRPC itself"),
            ("x-data-bin: AAAA", "binary"),
            ("bad name: v", "not a valid header name"),
            ("x-ok: caf\u{e9}", "printable ASCII"),
        ] {
            let err = parse(&[bad]).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
