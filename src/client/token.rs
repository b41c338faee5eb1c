//! The bearer token: `--token-file FILE` or `GREETER_TOKEN`, sent as `authorization: Bearer
//! <token>` on every call, marked sensitive, and never printed.

use std::path::Path;

use tonic::metadata::AsciiMetadataValue;

use super::HeaderError;

/// Where the token came from, for messages that must name the source but never the token.
pub enum TokenSource<'a> {
    File(&'a Path),
    Env(&'static str),
}

/// Reads the token (the file wins over the variable) and makes the header value. A file that
/// cannot be read, or holds what cannot be a header value, is an error naming the file (exit
/// 1); an empty token is a usage error (exit 2).
pub fn bearer(
    file: Option<&Path>,
    env: Option<String>,
) -> Result<Option<AsciiMetadataValue>, HeaderError> {
    let (source, text) = match (file, env) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                HeaderError::Unreadable(format!(
                    "could not read --token-file {}: {}",
                    path.display(),
                    crate::report::describe_io(&err)
                ))
            })?;
            (TokenSource::File(path), text)
        }
        (None, Some(text)) => (TokenSource::Env("GREETER_TOKEN"), text),
        (None, None) => return Ok(None),
    };
    let token = text.trim();
    let named = match &source {
        TokenSource::File(path) => format!("--token-file {}", path.display()),
        TokenSource::Env(name) => (*name).to_owned(),
    };
    if token.is_empty() {
        return Err(HeaderError::Usage(format!(
            "{named} holds an empty token: give the token, or neither --token-file nor \
             GREETER_TOKEN"
        )));
    }
    // Printable ASCII without spaces, as `greeter serve` requires of its token; the message
    // must not quote the token.
    let printable = token.bytes().all(|byte| byte.is_ascii_graphic());
    let mut value = AsciiMetadataValue::try_from(format!("Bearer {token}"))
        .ok()
        .filter(|_| printable)
        .ok_or_else(|| {
            let problem = format!("the token in {named} is not printable ASCII without spaces");
            match source {
                TokenSource::File(_) => HeaderError::Unreadable(problem),
                TokenSource::Env(_) => HeaderError::Usage(problem),
            }
        })?;
    // Kept out of HPACK's tables, and out of any Debug output.
    value.set_sensitive(true);
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_trimmed_and_sensitive() {
        let value = bearer(None, Some("  s3cret\n".into())).unwrap().unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer s3cret");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("s3cret"));
    }

    #[test]
    fn empty_and_unprintable_tokens_are_refused_without_quoting_them() {
        let empty = bearer(None, Some(" \n".into())).unwrap_err();
        assert!(matches!(empty, HeaderError::Usage(_)), "{empty}");
        let bad = bearer(None, Some("caf\u{e9}".into())).unwrap_err();
        assert!(!bad.to_string().contains("caf"), "{bad}");
        assert!(bearer(None, None).unwrap().is_none());
    }
}
