//! HTTPS served by kidsearch itself (rustls, ring), so staff passwords never cross the LAN in
//! clear. The certificate and key (PEM) come from `tls_cert` / `tls_key`; they are read again
//! on SIGHUP and when either file changes, without dropping connections: new handshakes get
//! the new certificate.
//!
//! Invariant: a broken new certificate never replaces a working one — the error is logged
//! and the old certificate stays in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
pub struct CertReloader {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times when last loaded.
    loaded: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Reads a PEM certificate chain and private key; errors name the file and what to do.
pub fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: cannot read certificates ({e}); give a PEM file with the server certificate first", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain ({e})", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file; give a PEM file with the server certificate first", cert.display()));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: no PEM private key ({e}); give the key of the certificate, unencrypted", key.display()))?;
    let signing = provider().key_provider.load_private_key(private).map_err(|e| format!("{}: unusable private key ({e})", key.display()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| format!("{} and {} do not belong together ({e})", cert.display(), key.display()))?;
    Ok(certified)
}

impl CertReloader {
    pub fn new(cert: PathBuf, key: PathBuf) -> Result<CertReloader, String> {
        let current = load(&cert, &key)?;
        let loaded = (modified(&cert), modified(&key));
        Ok(CertReloader { cert, key, current: RwLock::new(Arc::new(current)), loaded: RwLock::new(loaded) })
    }

    /// Reads the files again; on error the old certificate stays.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = load(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = (modified(&self.cert), modified(&self.key));
        Ok(())
    }

    /// Reloads when either file changed since the last load.
    pub fn reload_if_changed(&self) -> Option<Result<(), String>> {
        let now = (modified(&self.cert), modified(&self.key));
        let changed = *self.loaded.read().unwrap_or_else(|e| e.into_inner()) != now;
        changed.then(|| self.reload())
    }

    /// The rustls server settings: safe defaults, HTTP/1.1, this reloader as the certificate.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// Reloads on SIGHUP and when the files change (checked every 30 s), for the life of the server.
pub fn spawn_reloading(reloader: Arc<CertReloader>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    #[cfg(unix)]
    {
        let on_signal = reloader.clone();
        runtime.spawn(async move {
            let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
            while hangups.recv().await.is_some() {
                match on_signal.reload() {
                    Ok(()) => tracing::info!("TLS certificate reloaded (SIGHUP)"),
                    Err(e) => tracing::error!("TLS certificate not reloaded, the old one stays in use: {e}"),
                }
            }
        });
    }
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            match reloader.reload_if_changed() {
                Some(Ok(())) => tracing::info!("TLS certificate reloaded (files changed)"),
                Some(Err(e)) => tracing::error!("TLS certificate not reloaded, the old one stays in use: {e}"),
                None => {}
            }
        }
    });
}
