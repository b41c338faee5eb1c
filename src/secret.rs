//! A token read from a file (`serve --auth-token-file`, `hello --token-file`; the file wins) or
//! from the environment (`GREETER_AUTH_TOKEN`, `GREETER_TOKEN`), one rule for both sides.
//!
//! The token is trimmed and must be printable ASCII without spaces, which every HTTP header
//! can carry. A file that cannot be read or holds no usable token is an error naming the file
//! (exit 1, like an unreadable TLS file); an empty or unusable token in the environment is a
//! usage error (exit 2). Messages name where the token came from, never the token.

use std::path::Path;

use color_eyre::eyre::{Report, Result, eyre};

use crate::usage::UsageError;

/// Where a side looks for its token.
pub struct Sources<'a> {
    pub subcommand: &'static str,
    /// The flag and the file it names, if given.
    pub file: Option<(&'static str, &'a Path)>,
    /// The variable and its value, if set.
    pub env: (&'static str, Option<String>),
}

impl Sources<'_> {
    /// The token, or None when neither source gives one.
    pub fn read(self) -> Result<Option<String>> {
        let (named, text, from_file) = match (self.file, self.env) {
            (Some((flag, path)), _) => {
                let text = std::fs::read_to_string(path).map_err(|err| {
                    eyre!(
                        "could not read {flag} {}: {}",
                        path.display(),
                        crate::report::describe_io(&err)
                    )
                })?;
                (format!("{flag} {}", path.display()), text, true)
            }
            (None, (variable, Some(text))) => (variable.to_owned(), text, false),
            (None, (_, None)) => return Ok(None),
        };
        let problem = |message: String| -> Report {
            if from_file {
                eyre!(message)
            } else {
                UsageError::invalid(self.subcommand, message).into()
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(problem(format!(
                "{named} holds an empty token: put the token there, or give no token at all"
            )));
        }
        if !token.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(problem(format!(
                "the token in {named} is not printable ASCII without spaces, which a header \
                 cannot carry"
            )));
        }
        Ok(Some(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_env(value: &str) -> Result<Option<String>> {
        Sources {
            subcommand: "hello",
            file: None,
            env: ("GREETER_TOKEN", Some(value.to_owned())),
        }
        .read()
    }

    #[test]
    fn the_token_is_trimmed() {
        assert_eq!(from_env("  s3cret\n").unwrap().as_deref(), Some("s3cret"));
    }

    #[test]
    fn an_empty_or_unprintable_variable_is_a_usage_error_that_does_not_quote_it() {
        for bad in [" \n", "caf\u{e9}", "two words"] {
            let err = from_env(bad).unwrap_err();
            assert!(err.downcast_ref::<UsageError>().is_some(), "{bad:?}: {err}");
            assert!(
                !err.to_string().contains(bad.trim()) || bad.trim().is_empty(),
                "{err}"
            );
        }
    }

    #[test]
    fn an_empty_file_is_an_error_naming_it_not_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "\n").unwrap();
        let err = Sources {
            subcommand: "serve",
            file: Some(("--auth-token-file", &path)),
            env: ("GREETER_AUTH_TOKEN", Some("ignored".into())),
        }
        .read()
        .unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_none(), "{err}");
        assert!(err.to_string().contains("holds an empty token"), "{err}");
    }

    #[test]
    fn no_source_is_no_token() {
        let none = Sources {
            subcommand: "serve",
            file: None,
            env: ("GREETER_AUTH_TOKEN", None),
        };
        assert_eq!(none.read().unwrap(), None);
    }
}
