//! TLS for `https://` endpoints (feature `tls`): which certificates, from
//! the builder or the `OTEL_EXPORTER_OTLP_[LOGS_]CERTIFICATE` /
//! `…_CLIENT_CERTIFICATE` / `…_CLIENT_KEY` variables, read and checked at
//! build, then handed to the transport.
//!
//! ```text
//!  builder paths ─┐
//!                 ├─ TlsFiles::resolve ─> TlsMaterial (PEM read, parsed) ─┬─> gRPC: tonic ClientTlsConfig
//!  OTEL_… paths  ─┘   (builder > LOGS_ > generic)                          └─> HTTP: rustls ClientConfig
//! ```
//!
//! Without a CA file the system's roots are trusted (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR` are honoured), read once per process for the HTTP
//! transport. A problem that can be known at build (a
//! missing or unreadable file, no certificate in it, a key that does not
//! parse, a certificate without its key) is an [`OtlpError::Tls`]; one that
//! shows only when connecting (a wrong CA, an expired certificate, a
//! refused client certificate) fails the export: it is retried like any
//! connection failure, counted, and said by `last_error()`.

use std::path::{Path, PathBuf};

use crate::OtlpError;
use crate::env::{Lookup, var_pair};

/// `OTEL_EXPORTER_OTLP_CERTIFICATE`: a PEM file of the CA certificates
/// that sign the collector's certificate (instead of the system's roots).
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_CERTIFICATE, "OTEL_EXPORTER_OTLP_CERTIFICATE");
/// ```
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE`: wins over `OTEL_EXPORTER_OTLP_CERTIFICATE`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: a PEM file of this client's
/// certificate chain, for collectors that require mutual TLS; needs the key.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
/// ```
pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE`: wins over the generic one.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE, "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: a PEM file of the client certificate's
/// private key (PKCS#8, PKCS#1 or SEC1).
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_CLIENT_KEY, "OTEL_EXPORTER_OTLP_CLIENT_KEY");
/// ```
pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY`: wins over the generic one.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY, "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";

/// The largest certificate or key file read (a CA bundle is ~200 KiB).
const MAX_PEM_BYTES: u64 = 4 << 20;

/// The certificate files given to the builder (`None` = not set in code).
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsFiles {
    pub(crate) ca: Option<PathBuf>,
    pub(crate) client: Option<(PathBuf, PathBuf)>,
}

/// One file, where its path came from.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    from: String,
}

impl TlsFiles {
    /// Whether code set any file (an `http://` endpoint with one is a mistake).
    pub(crate) fn any(&self) -> bool {
        self.ca.is_some() || self.client.is_some()
    }

    /// The files to use, the builder's first, then the variables'; read and
    /// checked. `Ok(None)` means: system roots, no client certificate.
    pub(crate) fn resolve(&self, env: Lookup<'_>) -> Result<Option<TlsMaterial>, OtlpError> {
        let from_env = |logs, generic| -> Result<Option<Source>, OtlpError> {
            Ok(var_pair(env, logs, generic)?.map(|(name, value)| Source {
                path: PathBuf::from(value),
                from: name.to_owned(),
            }))
        };
        let builder = |path: &Path| Source {
            path: path.to_owned(),
            from: "the builder".to_owned(),
        };
        let ca = match &self.ca {
            Some(path) => Some(builder(path)),
            None => from_env(
                OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
                OTEL_EXPORTER_OTLP_CERTIFICATE,
            )?,
        };
        let client = if let Some((cert, key)) = &self.client {
            Some((builder(cert), builder(key)))
        } else {
            let cert = from_env(
                OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
                OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
            )?;
            let key = from_env(
                OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
                OTEL_EXPORTER_OTLP_CLIENT_KEY,
            )?;
            match (cert, key) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                (Some(only), None) | (None, Some(only)) => {
                    return Err(tls_error(
                        "client certificate",
                        &only,
                        "a client certificate needs its key and a key its certificate: set both \
                         OTEL_EXPORTER_OTLP_[LOGS_]CLIENT_CERTIFICATE and …_CLIENT_KEY",
                    ));
                }
            }
        };
        if ca.is_none() && client.is_none() {
            return Ok(None);
        }
        TlsMaterial::read(ca.as_ref(), client.as_ref()).map(Some)
    }
}

fn tls_error(what: &'static str, source: &Source, reason: impl Into<String>) -> OtlpError {
    OtlpError::Tls {
        what,
        path: source.path.clone(),
        from: source.from.clone(),
        reason: reason.into(),
    }
}

/// Reads a PEM file, at most [`MAX_PEM_BYTES`].
fn read_pem(what: &'static str, source: &Source) -> Result<Vec<u8>, OtlpError> {
    use std::io::Read as _;
    let file = std::fs::File::open(&source.path)
        .map_err(|e| tls_error(what, source, format!("cannot open it: {e}")))?;
    let mut pem = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| tls_error(what, source, format!("cannot read it: {e}")))?;
    if pem.len() as u64 > MAX_PEM_BYTES {
        return Err(tls_error(
            what,
            source,
            format!("larger than {MAX_PEM_BYTES} bytes: not a certificate or key file"),
        ));
    }
    Ok(pem)
}

/// Certificates and keys read from their files and checked, for the transports.
#[derive(Clone)]
pub(crate) struct TlsMaterial {
    /// The CA file's PEM (tonic takes PEM); `None` = the system's roots.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// The client certificate chain's PEM and the key's PEM.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// Parsed at build (so every file problem shows then); the HTTP
    /// transport builds its rustls configuration from it.
    #[cfg(feature = "tls")]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    parsed: parsed::Parsed,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca_pem.as_ref().map(|_| "PEM"))
            .field("client_identity", &self.identity_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsMaterial {
    fn read(ca: Option<&Source>, client: Option<&(Source, Source)>) -> Result<Self, OtlpError> {
        let ca_pem = ca.map(|s| read_pem("CA certificate", s)).transpose()?;
        let identity_pem = client
            .map(|(cert, key)| {
                Ok::<_, OtlpError>((
                    read_pem("client certificate", cert)?,
                    read_pem("client key", key)?,
                ))
            })
            .transpose()?;
        #[cfg(feature = "tls")]
        {
            let parsed = parsed::Parsed::new(ca_pem.as_deref(), ca, identity_pem.as_ref(), client)?;
            Ok(TlsMaterial {
                ca_pem,
                identity_pem,
                parsed,
            })
        }
        #[cfg(not(feature = "tls"))]
        {
            // Only reached for an `https://` endpoint, which `resolve`
            // refuses without the feature; keep the files unparsed.
            Ok(TlsMaterial {
                ca_pem,
                identity_pem,
            })
        }
    }

    /// The rustls configuration of the HTTP transport.
    #[cfg(all(feature = "tls", feature = "http"))]
    pub(crate) fn rustls_config(&self) -> Result<rustls::ClientConfig, OtlpError> {
        self.parsed.client_config()
    }
}

/// The rustls configuration with system roots, for `https://` without files.
#[cfg(all(feature = "tls", feature = "http"))]
pub(crate) fn system_rustls_config() -> Result<rustls::ClientConfig, OtlpError> {
    parsed::Parsed::system().client_config()
}

/// A rustls configuration that trusts nothing, for an `http://` endpoint
/// (reqwest needs one even when it never speaks TLS).
#[cfg(all(feature = "tls", feature = "http"))]
pub(crate) fn plain_rustls_config() -> Result<rustls::ClientConfig, OtlpError> {
    parsed::Parsed::nothing().client_config()
}

/// The gRPC transport's TLS settings.
#[cfg(all(feature = "tls", feature = "grpc"))]
pub(crate) fn tonic_config(material: Option<&TlsMaterial>) -> tonic::transport::ClientTlsConfig {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    // stunnel, nginx and most terminators in front of a collector do not
    // negotiate ALPN: gRPC is HTTP/2 whatever they say.
    let mut config = ClientTlsConfig::new().assume_http2(true);
    match material.and_then(|m| m.ca_pem.as_ref()) {
        Some(pem) => config = config.ca_certificate(Certificate::from_pem(pem)),
        None => config = config.with_native_roots(),
    }
    if let Some((cert, key)) = material.and_then(|m| m.identity_pem.as_ref()) {
        config = config.identity(Identity::from_pem(cert, key));
    }
    config
}

#[cfg(feature = "tls")]
mod parsed {
    //! The PEM files parsed with rustls' types: every problem a file can
    //! have is found here, at build.

    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::{Source, tls_error};
    use crate::OtlpError;

    /// The system's roots, read once per process: every export thread of
    /// every output would otherwise read the whole certificate store again.
    fn system_roots() -> Arc<rustls::RootCertStore> {
        static ROOTS: std::sync::OnceLock<Arc<rustls::RootCertStore>> = std::sync::OnceLock::new();
        ROOTS
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                let native = rustls_native_certs::load_native_certs();
                let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
                Arc::new(roots)
            })
            .clone()
    }

    #[derive(Clone)]
    pub(super) struct Parsed {
        /// The CA file's certificates; `None` = the system's roots.
        roots: Option<Vec<CertificateDer<'static>>>,
        identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    }

    fn certificates(
        what: &'static str,
        pem: &[u8],
        source: &Source,
    ) -> Result<Vec<CertificateDer<'static>>, OtlpError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_error(what, source, format!("not valid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(tls_error(what, source, "holds no PEM certificate"));
        }
        Ok(certs)
    }

    impl Parsed {
        #[cfg(feature = "http")]
        pub(super) fn system() -> Self {
            Parsed {
                roots: None,
                identity: None,
            }
        }

        #[cfg(feature = "http")]
        pub(super) fn nothing() -> Self {
            Parsed {
                roots: Some(Vec::new()),
                identity: None,
            }
        }

        pub(super) fn new(
            ca_pem: Option<&[u8]>,
            ca: Option<&Source>,
            identity_pem: Option<&(Vec<u8>, Vec<u8>)>,
            client: Option<&(Source, Source)>,
        ) -> Result<Self, OtlpError> {
            let roots = match (ca_pem, ca) {
                (Some(pem), Some(source)) => {
                    let certs = certificates("CA certificate", pem, source)?;
                    let mut store = rustls::RootCertStore::empty();
                    for cert in &certs {
                        store.add(cert.clone()).map_err(|e| {
                            tls_error(
                                "CA certificate",
                                source,
                                format!("not a usable CA certificate: {e}"),
                            )
                        })?;
                    }
                    Some(certs)
                }
                _ => None,
            };
            let identity = match (identity_pem, client) {
                (Some((cert_pem, key_pem)), Some((cert, key))) => {
                    let chain = certificates("client certificate", cert_pem, cert)?;
                    let private = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
                        tls_error(
                            "client key",
                            key,
                            format!("holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
                        )
                    })?;
                    Some((chain, Arc::new(private)))
                }
                _ => None,
            };
            let parsed = Parsed { roots, identity };
            // Builds once now, so a key that does not match its certificate's
            // algorithm is an error here, not at the first export.
            if let Some((_, key)) = client {
                parsed.client_config().map_err(|e| match e {
                    OtlpError::Tls { reason, .. } => tls_error("client key", key, reason),
                    other => other,
                })?;
            }
            Ok(parsed)
        }

        /// A rustls configuration on ring (not the process-wide provider,
        /// which a library must not install).
        pub(super) fn client_config(&self) -> Result<rustls::ClientConfig, OtlpError> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let roots = if let Some(certs) = &self.roots {
                let mut roots = rustls::RootCertStore::empty();
                for cert in certs {
                    // Checked in `new`.
                    let _ = roots.add(cert.clone());
                }
                Arc::new(roots)
            } else {
                system_roots()
            };
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| OtlpError::Client(Box::new(e)))?
                .with_root_certificates(roots);
            let mut config = match &self.identity {
                Some((chain, key)) => builder
                    .with_client_auth_cert(chain.clone(), key.clone_key())
                    .map_err(|e| OtlpError::Tls {
                        what: "client key",
                        path: std::path::PathBuf::new(),
                        from: "the client certificate".to_owned(),
                        reason: format!("does not fit the client certificate: {e}"),
                    })?,
                None => builder.with_no_client_auth(),
            };
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(config)
        }
    }
}
