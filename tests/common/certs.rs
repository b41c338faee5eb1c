//! Test certificates, made fresh with rcgen into a temporary directory: a CA and a server
//! certificate it signed (for `localhost` and 127.0.0.1), an unrelated CA, an expired server
//! certificate, a CA certificate it signed that a server wrongly serves, and client
//! certificates for mutual TLS, one from each CA; and on demand, `openssl req -x509`'s own.

use std::path::{Path, PathBuf};

use super::TempFiles;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

/// The PEM files of one test; removed on drop. A test that only wants files of its own (a
/// token) takes [`TempFiles`], which makes no keys.
pub struct Certs {
    files: TempFiles,
}

impl Certs {
    pub fn new() -> Certs {
        let certs = Certs {
            files: TempFiles::new(),
        };
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
        let (ca_as_server, key) = ca_signed_ca(&["localhost", "127.0.0.1"], &issuer);
        certs.write("ca-as-server.pem", &ca_as_server);
        certs.write("ca-as-server.key", &key);
        certs
    }

    /// A directory for certificates the test makes itself ([`Certs::openssl_self_signed`],
    /// [`Certs::expired_self_signed`]), without the set [`Certs::new`] generates.
    pub fn empty() -> Certs {
        Certs {
            files: TempFiles::new(),
        }
    }

    /// The certificate almost every user makes first, by the very command they use:
    /// `openssl req -x509` (self-signed, and `CA:TRUE` with OpenSSL 3) for `subject_alt_name`
    /// (`DNS:localhost,IP:127.0.0.1`), written as `NAME.pem` and `NAME.key`.
    pub fn openssl_self_signed(&self, name: &str, subject_alt_name: &str) {
        let (cert, key) = (
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}.key")),
        );
        let out = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key,
            ])
            .args([
                "-out",
                &cert,
                "-days",
                "30",
                "-subj",
                "/CN=localhost",
                "-addext",
            ])
            .arg(format!("subjectAltName={subject_alt_name}"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run openssl (Debian: apt-get install openssl)");
        assert!(out.status.success(), "openssl req -x509: {out:?}");
    }

    /// The path of one of the files: `ca.pem`/`.key`, `other-ca.pem`, `server.pem`/`.key`,
    /// `expired.pem`/`.key`, `client.pem`/`.key`, `other-client.pem`/`.key` (signed by the
    /// unrelated CA), `ca-as-server.pem`/`.key` (a CA certificate for the server's names).
    pub fn path(&self, name: &str) -> String {
        self.files.path(name)
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
        self.files.dir()
    }

    /// Writes a file of the test's own (a broken PEM) and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        self.files.write(name, contents)
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

impl Certs {
    /// Like `openssl req -x509` makes it (self-signed, `CA:TRUE`, for `localhost` and
    /// 127.0.0.1) but valid only in 2020, which openssl 3.0 cannot make: `NAME.pem`, `NAME.key`.
    pub fn expired_self_signed(&self, name: &str) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}.key"), &key.serialize_pem());
    }
}

/// A CA certificate for `names`, signed by `issuer`, that a server wrongly serves as its own:
/// its PEM and its key's PEM.
fn ca_signed_ca(names: &[&str], issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, &names[0]);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
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
