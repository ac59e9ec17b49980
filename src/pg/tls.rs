//! rustls configuration for each sslmode, as libpq: `prefer` and `require` encrypt without
//! checking the certificate; `verify-ca` checks the chain; `verify-full` also the host name.
//! Roots come from sslrootcert, or with `sslrootcert=system` from the operating system's
//! store (rustls-native-certs: the same files OpenSSL, hence libpq, reads, SSL_CERT_FILE
//! included). sslcert/sslkey authenticate the client.

use super::PgError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's sslmode values that strata honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(super) fn parse(text: &str) -> Result<Self, PgError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(PgError::BadUrl(format!(
                    "invalid sslmode value: \"{other}\" (disable, allow, prefer, require, verify-ca, verify-full)"
                )))
            }
        })
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where trusted server certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    File(PathBuf),
    /// `sslrootcert=system`: the operating system's trust store.
    System,
}

/// The TLS side of a connection, as libpq resolved it.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub root_cert: Option<RootCert>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

pub fn connector(mode: SslMode, files: &TlsFiles) -> Result<MakeRustlsConnect, PgError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(Unverified(provider)),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let anchors = roots(files.root_cert.as_ref())?;
            let mut store = RootCertStore::empty();
            for cert in &anchors {
                store
                    .add(cert.clone())
                    .map_err(|e| PgError::Tls(e.to_string()))?;
            }
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| PgError::Tls(e.to_string()))?;
            Arc::new(Verify {
                inner,
                anchors,
                check_name: mode == SslMode::VerifyFull,
            })
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match client_auth(files)? {
        Some((certs, key)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| PgError::Tls(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Trusted certificates: the sslrootcert file, or the system's store for `system`.
fn roots(root_cert: Option<&RootCert>) -> Result<Vec<CertificateDer<'static>>, PgError> {
    match root_cert {
        Some(RootCert::File(path)) => {
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                PgError::Tls(format!("cannot read sslrootcert {}: {e}", path.display()))
            })?;
            certs
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PgError::Tls(format!("sslrootcert {}: {e}", path.display())))
        }
        Some(RootCert::System) => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                return Err(PgError::Tls(format!(
                    "sslrootcert=system: no certificates in the system's trust store ({})",
                    why.join("; ")
                )));
            }
            Ok(found.certs)
        }
        None => Err(PgError::Tls(
            "no root certificate to verify the server with".into(),
        )),
    }
}

/// sslcert and sslkey; libpq refuses a key file that group or others can read.
fn client_auth(
    files: &TlsFiles,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, PgError> {
    let Some(cert_path) = &files.cert else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| PgError::Tls(format!("cannot read sslcert {}: {e}", cert_path.display())))?;
    let Some(key_path) = &files.key else {
        return Err(PgError::Tls(format!(
            "sslcert {} given without sslkey",
            cert_path.display()
        )));
    };
    let meta = std::fs::metadata(key_path)
        .map_err(|e| PgError::Tls(format!("cannot read sslkey {}: {e}", key_path.display())))?;
    let root_owned_group_readable = meta.uid() == 0 && meta.mode() & 0o037 == 0;
    if meta.mode() & 0o077 != 0 && !root_owned_group_readable {
        return Err(PgError::Tls(format!(
            "private key file \"{}\" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
            key_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| PgError::Tls(format!("cannot read sslkey {}: {e}", key_path.display())))?;
    Ok(Some((certs, key)))
}

#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// verify-ca checks the chain, verify-full also the host name. A server certificate that is
/// itself one of the trusted certificates (a self-signed one given as sslrootcert) is
/// accepted as OpenSSL, hence libpq, accepts it; webpki would say CaUsedAsEndEntity.
#[derive(Debug)]
struct Verify {
    inner: Arc<WebPkiServerVerifier>,
    anchors: Vec<CertificateDer<'static>>,
    check_name: bool,
}

impl ServerCertVerifier for Verify {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .anchors
            .iter()
            .any(|a| a.as_ref() == end_entity.as_ref())
        {
            if self.check_name {
                webpki::EndEntityCert::try_from(end_entity)
                    .and_then(|cert| cert.verify_is_valid_for_subject_name(server_name))
                    .map_err(|e| {
                        rustls::Error::InvalidCertificate(CertificateError::Other(
                            rustls::OtherError(Arc::new(e)),
                        ))
                    })?;
            }
            return Ok(ServerCertVerified::assertion());
        }
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                ..
            })) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
