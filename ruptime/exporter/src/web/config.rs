//! The web configuration file (`--web.config.file`), in the format of
//! Prometheus's exporter-toolkit, read strictly: an unknown key, a missing
//! certificate or a password that is not a bcrypt hash is an error that
//! names the file.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt          # relative paths: from the file's folder
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert
//!   client_ca_file: clients.crt
//!   min_version: TLS12             # TLS12 or TLS13
//!   max_version: TLS13
//! http_server_config:
//!   headers:
//!     Strict-Transport-Security: max-age=31536000
//! basic_auth_users:
//!   prometheus: $2y$10$...        # bcrypt, as htpasswd -nB writes it
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// What the file says, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    /// TLS, when the file asks for it.
    pub(crate) tls: Option<TlsSettings>,
    /// The bcrypt hash of each user's password; none: no authentication.
    pub(crate) users: BTreeMap<String, String>,
    /// Headers added to every answer.
    pub(crate) headers: Vec<(String, String)>,
}

/// How TLS is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub(crate) cert_file: PathBuf,
    pub(crate) key_file: PathBuf,
    pub(crate) client_auth: ClientAuth,
    /// The certificates client certificates must chain to.
    pub(crate) client_ca_file: Option<PathBuf>,
    /// Whether TLS 1.2 is spoken (1.3 always is, unless `max_version` says).
    pub(crate) tls12: bool,
    /// Whether TLS 1.3 is spoken.
    pub(crate) tls13: bool,
}

/// Which client certificates are asked for, as Go's `tls.ClientAuthType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// None.
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified.
    RequireAnyClientCert,
    /// Not required; verified when given.
    VerifyClientCertIfGiven,
    /// Required and verified.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    /// Whether a certificate is checked against `client_ca_file`.
    pub(crate) fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert
        )
    }

    /// Whether a connection without a certificate is refused.
    pub(crate) fn requires(self) -> bool {
        matches!(
            self,
            ClientAuth::RequireAnyClientCert | ClientAuth::RequireAndVerifyClientCert
        )
    }
}

impl FromStr for ClientAuth {
    type Err = String;

    fn from_str(text: &str) -> Result<ClientAuth, String> {
        Ok(match text {
            "" | "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            other => {
                return Err(format!(
                    "client_auth_type '{other}' is not NoClientCert, RequestClientCert, \
                     RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
                ));
            }
        })
    }
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map of tls_server_config, http_server_config and basic_auth_users"
)]
struct File {
    tls_server_config: Option<TlsFile>,
    http_server_config: Option<HttpFile>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map of cert_file, key_file, client_auth_type, client_ca_file, min_version and max_version"
)]
struct TlsFile {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
    max_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a map of http2 and headers")]
struct HttpFile {
    /// Accepted for the format's sake: the exporter speaks HTTP/1.1.
    #[allow(dead_code)]
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// The headers `http_server_config` may set, as exporter-toolkit allows.
const HEADERS: [&str; 5] = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
    "Content-Security-Policy",
];

/// Reads `text`, the file at `path` (relative paths in it are from its folder).
///
/// # Errors
/// What is wrong, without the file's name.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Settings, String> {
    let file: File = if text.trim().is_empty() {
        File::default()
    } else {
        let options = serde_saphyr::options! { with_snippet: false };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            // The parser's advice is for programmers, not for this file's readers.
            e.to_string()
                .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        })?
    };
    let folder = path.parent().unwrap_or(Path::new(""));
    let tls = match file.tls_server_config {
        Some(tls) => tls_settings(tls, folder)?,
        None => None,
    };
    let users = file.basic_auth_users.unwrap_or_default();
    for (user, hash) in &users {
        if user.contains(':') {
            return Err(format!(
                "basic_auth_users: '{user}': a user name holds no ':'"
            ));
        }
        bcrypt::HashParts::from_str(hash)
            .map_err(|_| format!("basic_auth_users: {user}: not a bcrypt hash"))?;
    }
    let mut headers = Vec::new();
    for (name, value) in file
        .http_server_config
        .and_then(|http| http.headers)
        .unwrap_or_default()
    {
        let Some(known) = HEADERS.iter().find(|h| h.eq_ignore_ascii_case(&name)) else {
            return Err(format!(
                "http_server_config: header '{name}' is not one of {}",
                HEADERS.join(", ")
            ));
        };
        if value.bytes().any(|b| b.is_ascii_control()) {
            return Err(format!(
                "http_server_config: header {known}: a control character"
            ));
        }
        headers.push(((*known).to_owned(), value));
    }
    Ok(Settings {
        tls,
        users,
        headers,
    })
}

/// The TLS of `tls_server_config`; none when it names no certificate, key,
/// authority or client authentication (exporter-toolkit then serves HTTP).
fn tls_settings(tls: TlsFile, folder: &Path) -> Result<Option<TlsSettings>, String> {
    if tls.cert_file.is_none()
        && tls.key_file.is_none()
        && tls.client_ca_file.is_none()
        && tls.client_auth_type.is_none()
    {
        return Ok(None);
    }
    let within = |path: PathBuf| folder.join(path);
    let cert_file = tls
        .cert_file
        .map(within)
        .ok_or("tls_server_config: cert_file is missing")?;
    let key_file = tls
        .key_file
        .map(within)
        .ok_or("tls_server_config: key_file is missing")?;
    let client_auth: ClientAuth = tls
        .client_auth_type
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|why| format!("tls_server_config: {why}"))?;
    let client_ca_file = tls.client_ca_file.map(within);
    match (client_auth.verifies(), &client_ca_file) {
        (true, None) => {
            return Err(format!(
                "tls_server_config: client_auth_type {client_auth:?} needs a client_ca_file"
            ));
        }
        (false, Some(_)) => {
            return Err(format!(
                "tls_server_config: client_ca_file is set, but client_auth_type \
                 {client_auth:?} does not verify certificates"
            ));
        }
        _ => {}
    }
    let min = version(tls.min_version.as_deref(), "min_version")?.unwrap_or(12);
    let max = version(tls.max_version.as_deref(), "max_version")?.unwrap_or(13);
    if min > max {
        return Err("tls_server_config: min_version is above max_version".to_owned());
    }
    Ok(Some(TlsSettings {
        cert_file,
        key_file,
        client_auth,
        client_ca_file,
        tls12: min <= 12,
        tls13: max >= 13,
    }))
}

/// A TLS version (`TLS12`, `TLS13`) as 12 or 13.
fn version(text: Option<&str>, key: &str) -> Result<Option<u8>, String> {
    match text {
        None => Ok(None),
        Some("TLS12") => Ok(Some(12)),
        Some("TLS13") => Ok(Some(13)),
        Some(old @ ("TLS10" | "TLS11")) => Err(format!(
            "tls_server_config: {key} {old}: not spoken here (TLS 1.2 and 1.3 are)"
        )),
        Some(other) => Err(format!(
            "tls_server_config: {key} '{other}' is not TLS12 or TLS13"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    fn read(text: &str) -> Result<Settings, String> {
        parse(text, Path::new("/etc/ruptime/web.yml"))
    }

    #[test]
    fn an_empty_file_asks_for_nothing() {
        assert_eq!(read(""), Ok(Settings::default()));
        assert_eq!(read("{}\n"), Ok(Settings::default()));
        assert_eq!(
            read("tls_server_config:\n  min_version: TLS13\n"),
            Ok(Settings::default())
        );
    }

    #[test]
    fn tls_and_users_as_exporter_toolkit_writes_them() {
        let text = format!(
            "tls_server_config:
  cert_file: server.crt
  key_file: /keys/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
http_server_config:
  http2: false
  headers:
    x-frame-options: deny
basic_auth_users:
  prometheus: '{HASH}'
"
        );
        let settings = read(&text).unwrap();
        assert_eq!(
            settings.tls,
            Some(TlsSettings {
                cert_file: "/etc/ruptime/server.crt".into(),
                key_file: "/keys/server.key".into(),
                client_auth: ClientAuth::RequireAndVerifyClientCert,
                client_ca_file: Some("/etc/ruptime/ca.crt".into()),
                tls12: false,
                tls13: true,
            })
        );
        assert_eq!(settings.users["prometheus"], HASH);
        assert_eq!(
            settings.headers,
            [("X-Frame-Options".to_owned(), "deny".to_owned())]
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, why) in [
            ("tls_server_config:\n  cert: x\n", "unknown field `cert`"),
            ("basic_auth: {}\n", "unknown field `basic_auth`"),
            (
                "tls_server_config:\n  key_file: k\n",
                "cert_file is missing",
            ),
            (
                "tls_server_config:\n  cert_file: c\n",
                "key_file is missing",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Maybe\n",
                "client_auth_type 'Maybe' is not",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: VerifyClientCertIfGiven\n",
                "needs a client_ca_file",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n",
                "does not verify certificates",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS10\n",
                "min_version TLS10: not spoken here",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n  max_version: TLS12\n",
                "min_version is above max_version",
            ),
            (
                "basic_auth_users:\n  alice: secret\n",
                "alice: not a bcrypt hash",
            ),
            (
                "http_server_config:\n  headers:\n    Server: x\n",
                "header 'Server' is not one of",
            ),
            ("- a list\n", "expected mapping start at line 1, column 1"),
            ("tls_server_config: [\n", "line 1"),
            ("tls_server_config: []\n", "at line 1, column 20"),
            (
                "basic_auth_users:\n  a: b\n  a: c\n",
                "duplicate mapping key: a at line 3, column 3",
            ),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }
}
