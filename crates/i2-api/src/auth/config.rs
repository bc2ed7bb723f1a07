//! Which authentication a server runs with, as resolved by the binary from upstream's
//! variables (`CCP4I2_LOCAL_SESSION_TOKEN`, `CCP4I2_REQUIRE_AUTH`, `AZURE_AD_*`).

use std::fmt;
use std::time::Duration;

/// The identity of desktop requests when `CCP4I2_LOCAL_USER_EMAIL` is unset (upstream's
/// default: `.invalid` can never be a real mailbox).
pub const DEFAULT_DESKTOP_EMAIL: &str = "desktop@ccp4i2.invalid";

/// Exactly one mode per server, as upstream picks exactly one middleware.
#[derive(Clone)]
pub enum AuthConfig {
    /// No credentials: every request is the `dev_admin` superuser. The binary allows this
    /// only on loopback addresses.
    Development,
    /// The desktop app's per-launch secret (`CCP4I2_LOCAL_SESSION_TOKEN`).
    LocalToken { token: String, email: String },
    /// Entra ID (Azure AD) v2 access tokens (`CCP4I2_REQUIRE_AUTH=true`).
    Entra(EntraConfig),
    /// Both set (a cloud deployment with a token for automation): the session token is
    /// accepted, and any other bearer token must be a valid Entra ID token. Upstream would
    /// use the session token alone here and refuse every Entra ID user.
    EntraAndLocalToken {
        entra: EntraConfig,
        token: String,
        email: String,
    },
}

/// Settings of Entra ID token validation.
#[derive(Debug, Clone)]
pub struct EntraConfig {
    /// `AZURE_AD_CLIENT_ID`: the only accepted `aud`.
    pub client_id: String,
    /// The only accepted `iss`: the tenant's v2 issuer unless overridden.
    pub issuer: String,
    /// Where the tenant's signing keys are published.
    pub jwks_url: String,
    /// `ALLOWED_AZURE_AD_GROUPS`: object ids; empty means no group check.
    pub allowed_groups: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// How long a fetched key set is used before it is fetched again.
    pub jwks_ttl: Duration,
    /// The least time between two fetches (an unknown `kid` cannot make the server
    /// hammer the key endpoint).
    pub jwks_min_refresh: Duration,
    /// Give up on one key fetch after this long.
    pub jwks_timeout: Duration,
}

impl EntraConfig {
    /// The tenant's published issuer and key set, with the usual timings.
    pub fn for_tenant(tenant_id: &str, client_id: &str) -> Self {
        EntraConfig {
            client_id: client_id.to_string(),
            issuer: format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
            jwks_url: format!("https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys"),
            allowed_groups: Vec::new(),
            leeway: Duration::from_secs(60),
            jwks_ttl: Duration::from_secs(3600),
            jwks_min_refresh: Duration::from_secs(30),
            jwks_timeout: Duration::from_secs(10),
        }
    }
}

impl AuthConfig {
    /// A short name for logs and `doctor`.
    pub fn mode_name(&self) -> &'static str {
        match self {
            AuthConfig::Development => "development (no authentication)",
            AuthConfig::LocalToken { .. } => "local session token",
            AuthConfig::Entra(_) => "Entra ID bearer tokens",
            AuthConfig::EntraAndLocalToken { .. } => "Entra ID bearer tokens and a session token",
        }
    }

    pub fn is_development(&self) -> bool {
        matches!(self, AuthConfig::Development)
    }
}

/// Never prints the session token.
impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthConfig::Development => f.write_str("Development"),
            AuthConfig::LocalToken { email, .. } => f
                .debug_struct("LocalToken")
                .field("token", &"***")
                .field("email", email)
                .finish(),
            AuthConfig::Entra(e) => f.debug_tuple("Entra").field(e).finish(),
            AuthConfig::EntraAndLocalToken { entra, email, .. } => f
                .debug_struct("EntraAndLocalToken")
                .field("entra", entra)
                .field("token", &"***")
                .field("email", email)
                .finish(),
        }
    }
}
