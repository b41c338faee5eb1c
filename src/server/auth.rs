//! Bearer-token authentication for the Greeter (`--auth-token-file`, `GREETER_AUTH_TOKEN`).
//!
//! Only the Greeter is guarded: health and reflection stay open, so Kubernetes probes,
//! grpc_health_probe and grpcurl work without the secret.

use std::sync::Arc;

use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq as _;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The token a call must carry, if any, kept as its SHA-256: comparing digests of equal length
/// says nothing about the token's length either.
#[derive(Clone, Default)]
pub struct BearerAuth {
    token: Option<Arc<[u8]>>,
}

fn fingerprint(token: &[u8]) -> Arc<[u8]> {
    digest(&SHA256, token).as_ref().into()
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself, not even in a debug dump.
        f.debug_struct("BearerAuth")
            .field("required", &self.token.is_some())
            .finish()
    }
}

impl BearerAuth {
    /// Calls must carry `token` (read and checked by `crate::secret`), or nothing if None.
    pub fn new(token: Option<&str>) -> Self {
        BearerAuth {
            token: token.map(|token| fingerprint(token.as_bytes())),
        }
    }

    pub fn required(&self) -> bool {
        self.token.is_some()
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.token else {
            return Ok(request);
        };
        let Some(value) = request.metadata().get("authorization") else {
            return Err(Status::unauthenticated(
                "this server requires a token: send `authorization: Bearer <token>`",
            ));
        };
        let given = value
            .as_bytes()
            .split_at_checked(7)
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(b"bearer "))
            .map(|(_, token)| token);
        match given {
            Some(token) if bool::from(digest(&SHA256, token).as_ref().ct_eq(expected)) => {
                Ok(request)
            }
            Some(_) => Err(Status::unauthenticated("the bearer token is not valid")),
            None => Err(Status::unauthenticated(
                "the authorization header is not `Bearer <token>`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(auth: &BearerAuth, header: Option<&str>) -> Result<(), tonic::Code> {
        let mut request = Request::new(());
        if let Some(value) = header {
            request
                .metadata_mut()
                .insert("authorization", value.parse().unwrap());
        }
        auth.clone()
            .call(request)
            .map(drop)
            .map_err(|status| status.code())
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        let auth = BearerAuth::new(Some("s3cret"));
        assert!(auth.required());
        assert_eq!(call(&auth, Some("Bearer s3cret")), Ok(()));
        assert_eq!(call(&auth, Some("bearer s3cret")), Ok(()));
        let unauthenticated = Err(tonic::Code::Unauthenticated);
        assert_eq!(call(&auth, None), unauthenticated);
        assert_eq!(call(&auth, Some("Bearer s3cre")), unauthenticated);
        assert_eq!(call(&auth, Some("Bearer s3cret2")), unauthenticated);
        assert_eq!(call(&auth, Some("Basic s3cret")), unauthenticated);
        assert_eq!(call(&auth, Some("s3cret")), unauthenticated);
    }

    #[test]
    fn no_token_means_open() {
        let auth = BearerAuth::new(None);
        assert!(!auth.required());
        assert_eq!(call(&auth, None), Ok(()));
    }

    #[test]
    fn the_token_is_never_shown() {
        let auth = BearerAuth::new(Some("hidden"));
        assert!(!format!("{auth:?}").contains("hidden"));
    }
}
