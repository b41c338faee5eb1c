//! The bearer token (`--token-file FILE` or `GREETER_TOKEN`, read by `crate::secret`), sent as
//! `authorization: Bearer <token>` on every call, marked sensitive, and never printed.

use color_eyre::eyre::{Result, eyre};
use tonic::metadata::AsciiMetadataValue;

/// The header value for `token`; `source` names where it came from (never the token).
pub fn bearer(token: &str, source: &str) -> Result<AsciiMetadataValue> {
    let mut value = AsciiMetadataValue::try_from(format!("Bearer {token}"))
        .map_err(|_| eyre!("the token in {source} cannot be sent in a header"))?;
    // Kept out of HPACK's tables, and out of any Debug output.
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_sensitive_and_never_shown() {
        let value = bearer("s3cret", "a test").unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer s3cret");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("s3cret"));
    }
}
