//! Test certificates, made fresh with rcgen into a temporary directory: a CA and a server
//! certificate it signed (for `localhost` and 127.0.0.1), an unrelated CA, an expired server
//! certificate, and client certificates for mutual TLS, one from each CA.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use tempfile::TempDir;

/// The PEM files of one test; removed on drop.
pub struct Certs {
    dir: TempDir,
}

impl Certs {
    pub fn new() -> Certs {
        let dir = tempfile::tempdir().expect("temporary directory");
        let certs = Certs { dir };
        let (issuer, ca_pem, ca_key) = ca("greeter test CA");
        certs.write("ca.pem", &ca_pem);
        certs.write("ca.key", &ca_key);
        let (other_issuer, other_ca_pem, _) = ca("an unrelated CA");
        certs.write("other-ca.pem", &other_ca_pem);
        let (other_client, key) = leaf(&["greeter-client"], Purpose::Client, &other_issuer, false);
        certs.write("other-client.pem", &other_client);
        certs.write("other-client.key", &key);

        let (server, key) = leaf(&["localhost", "127.0.0.1"], Purpose::Server, &issuer, false);
        certs.write("server.pem", &server);
        certs.write("server.key", &key);
        let (expired, key) = leaf(&["localhost", "127.0.0.1"], Purpose::Server, &issuer, true);
        certs.write("expired.pem", &expired);
        certs.write("expired.key", &key);
        let (client, key) = leaf(&["greeter-client"], Purpose::Client, &issuer, false);
        certs.write("client.pem", &client);
        certs.write("client.key", &key);
        certs
    }

    /// The path of one of the files: `ca.pem`/`.key`, `other-ca.pem`, `server.pem`/`.key`,
    /// `expired.pem`/`.key`, `client.pem`/`.key`, `other-client.pem`/`.key` (signed by the
    /// unrelated CA).
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// `greeter hello`'s flags to trust the test CA and present the certificate `identity`
    /// (`client` or `other-client`).
    pub fn client_flags(&self, identity: &str) -> Vec<String> {
        vec![
            "--ca-cert".into(),
            self.path("ca.pem"),
            "--cert".into(),
            self.path(&format!("{identity}.pem")),
            "--key".into(),
            self.path(&format!("{identity}.key")),
        ]
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file of the test's own (a broken PEM, a token) and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }
}

enum Purpose {
    Server,
    Client,
}

/// A CA: the issuer, its certificate's PEM and its key's PEM.
fn ca(name: &str) -> (Issuer<'static, KeyPair>, String, String) {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    let key_pem = key.serialize_pem();
    (Issuer::new(params, key), pem, key_pem)
}

/// A certificate for `names`, signed by `issuer`: its PEM and its key's PEM.
fn leaf(
    names: &[&str],
    purpose: Purpose,
    issuer: &Issuer<'static, KeyPair>,
    expired: bool,
) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, &names[0]);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![match purpose {
        Purpose::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Purpose::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}
