//! The TLS server of `tls_server_config`, by rustls (ring's cryptography):
//! the certificate and key from PEM files, and client certificates asked
//! for, required and verified as `client_auth_type` says.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, Error as TlsError, RootCertStore, ServerConfig,
    SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use super::config::{ClientAuth, TlsSettings};

/// The server configuration `tls` asks for.
///
/// # Errors
/// A file that cannot be read or holds no certificate or key, a key that
/// does not fit the certificate: the file and the reason.
pub(crate) fn server_config(tls: &TlsSettings) -> Result<Arc<ServerConfig>, String> {
    let provider = provider();
    let certs = certificates(&tls.cert_file, "cert_file")?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .map_err(|e| format!("key_file {}: {}", tls.key_file.display(), pem_error(&e)))?;
    let verifier: Arc<dyn ClientCertVerifier> = match (&tls.client_ca_file, tls.client_auth) {
        (_, ClientAuth::NoClientCert) => WebPkiClientVerifier::no_client_auth(),
        (Some(file), auth) if auth.verifies() => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(file, "client_ca_file")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("client_ca_file {}: {e}", file.display()))?;
            }
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider));
            let builder = if auth.requires() {
                builder
            } else {
                builder.allow_unauthenticated()
            };
            builder
                .build()
                .map_err(|e| format!("client_ca_file {}: {e}", file.display()))?
        }
        (_, auth) => Arc::new(AnyClientCert {
            provider: Arc::clone(&provider),
            mandatory: auth.requires(),
        }),
    };
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (tls.tls12, &rustls::version::TLS12),
        (tls.tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter_map(|(on, version)| on.then_some(version))
    .collect();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "cert_file {} and key_file {}: {e}",
                tls.cert_file.display(),
                tls.key_file.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The cryptography: ring's, which builds with a C compiler alone.
fn provider() -> Arc<CryptoProvider> {
    // rustls marks ring's provider deprecated for want of post-quantum key
    // exchange, which aws-lc-rs has and needs cmake to build.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file, at least one.
fn certificates(file: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let named = |why: String| format!("{key} {}: {why}", file.display());
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| named(pem_error(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(pem_error(&e)))?;
    if certs.is_empty() {
        return Err(named("no certificate in it".to_owned()));
    }
    Ok(certs)
}

/// What went wrong reading a PEM file, in a user's words.
fn pem_error(error: &rustls_pki_types::pem::Error) -> String {
    match error {
        rustls_pki_types::pem::Error::Io(e) => ruptime_common::oserror::describe(e),
        rustls_pki_types::pem::Error::NoItemsFound => "nothing of that kind in it".to_owned(),
        other => format!("not PEM: {other:?}"),
    }
}

/// `RequestClientCert` and `RequireAnyClientCert`: a client certificate
/// asked for (and with `mandatory`, required) but not checked against any
/// authority; the handshake's signature still proves the client holds its key.
#[derive(Debug)]
struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, signed, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, signed, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
