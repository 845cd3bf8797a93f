//! Certificates for the TLS tests, made by rcgen in a directory of their
//! own: an authority, a server certificate for `localhost` and 127.0.0.1
//! signed by it, a client certificate signed by it, and a stranger's
//! self-signed client certificate; each as PEM files.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The certificate, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8).
    pub key: PathBuf,
}

/// The certificates of a test, removed when dropped.
#[derive(Debug)]
pub struct Pki {
    /// Where the files are.
    pub dir: TempDir,
    /// The authority (its certificate is the CA file of both sides).
    pub ca: Pair,
    /// The server's, for `localhost` and 127.0.0.1.
    pub server: Pair,
    /// A client's, signed by the authority.
    pub client: Pair,
    /// A client's that no one signed.
    pub stranger: Pair,
}

impl Pki {
    /// Makes them all.
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a directory for certificates");
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca_params = CertificateParams::new(Vec::new()).expect("parameters");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ruptime test authority");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("the authority");
        let ca = write(dir.path(), "ca", &ca_cert.pem(), &ca_key);
        let issuer = Issuer::new(ca_params, ca_key);
        let signed = |name: &str, sans: Vec<String>| {
            let key = KeyPair::generate().expect("a key");
            let mut params = CertificateParams::new(sans).expect("parameters");
            params.distinguished_name.push(DnType::CommonName, name);
            let cert = params
                .signed_by(&key, &issuer)
                .expect("a signed certificate");
            write(dir.path(), name, &cert.pem(), &key)
        };
        let server = signed("server", vec!["localhost".into(), "127.0.0.1".into()]);
        let client = signed("client", vec!["prometheus.test".into()]);
        let stranger_key = KeyPair::generate().expect("a key");
        let stranger_cert = CertificateParams::new(vec!["stranger.test".to_owned()])
            .expect("parameters")
            .self_signed(&stranger_key)
            .expect("a self-signed certificate");
        let stranger = write(dir.path(), "stranger", &stranger_cert.pem(), &stranger_key);
        Pki {
            dir,
            ca,
            server,
            client,
            stranger,
        }
    }
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

fn write(dir: &Path, name: &str, cert: &str, key: &KeyPair) -> Pair {
    let pair = Pair {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    fs::write(&pair.cert, cert).expect("a certificate file");
    fs::write(&pair.key, key.serialize_pem()).expect("a key file");
    pair
}
