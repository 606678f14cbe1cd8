//! TLS: the certificate chain and private key from PEM files, TLS 1.2 and 1.3
//! only (rustls has nothing older), read again on SIGHUP. Each new connection
//! takes the configuration current when it opens, so that replacing it touches
//! no connection under way.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

pub struct Tls {
    certificate: PathBuf,
    key: PathBuf,
    config: RwLock<Arc<ServerConfig>>,
}

impl Tls {
    /// Reads the files; an error names the file and what is wrong.
    pub fn load(certificate: PathBuf, key: PathBuf) -> Result<Self, String> {
        let config = read(&certificate, &key)?;
        Ok(Tls {
            certificate,
            key,
            config: RwLock::new(Arc::new(config)),
        })
    }

    /// Reads the files again. On an error the configuration in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = read(&self.certificate, &self.key)?;
        *self.config.write().expect("tls lock") = Arc::new(config);
        Ok(())
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.read().expect("tls lock").clone())
    }
}

fn read(certificate: &Path, key: &Path) -> Result<ServerConfig, String> {
    let named = |path: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let chain_pem = std::fs::read(certificate).map_err(|e| named(certificate, &e))?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(certificate, &e))?;
    if chain.is_empty() {
        return Err(named(certificate, &"no certificate (PEM) in the file"));
    }
    let key_pem = std::fs::read(key).map_err(|e| named(key, &e))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| named(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| format!("{} and {}: {e}", certificate.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
