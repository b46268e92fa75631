//! Deployment context: which service, where, which version.

use std::borrow::Cow;

use crate::error::ConfigError;

/// `OTEL_SERVICE_NAME`: the service name; wins over `service.name` in
/// `OTEL_RESOURCE_ATTRIBUTES`.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// `OTEL_RESOURCE_ATTRIBUTES`: comma-separated, percent-encoded `key=value` pairs.
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// Who emitted a record: service, environment, region, version and host.
///
/// Set once on the layer and written on every line, so each record is
/// self-contained. [`Deployment::from_env`] reads the OpenTelemetry
/// variables; values set in code win over the environment.
///
/// | field | resource attribute |
/// |---|---|
/// | `service` | `service.name` (or `OTEL_SERVICE_NAME`) |
/// | `environment` | `deployment.environment.name` (or the older `deployment.environment`) |
/// | `region` | `cloud.region` |
/// | `version` | `service.version` |
/// | `host` | `host.name` |
///
/// ```
/// use eventlog::Deployment;
///
/// let d = Deployment::from_pairs([("service.name", "checkout"), ("cloud.region", "eu-west-1")])
///     .environment("production");
/// assert_eq!(d.service_name(), Some("checkout"));
/// assert_eq!(d.region_name(), Some("eu-west-1"));
/// assert_eq!(d.environment_name(), Some("production"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    service: Option<String>,
    environment: Option<String>,
    region: Option<String>,
    version: Option<String>,
    host: Option<String>,
}

impl Deployment {
    /// An empty context: no key is written.
    pub const fn new() -> Self {
        Self {
            service: None,
            environment: None,
            region: None,
            version: None,
            host: None,
        }
    }

    /// Reads `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`.
    ///
    /// A malformed variable is an error, not silently skipped.
    pub fn from_env() -> Result<Self, ConfigError> {
        let read = |name: &str| match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode {
                name: name.to_owned(),
            }),
        };
        let mut d = match read(OTEL_RESOURCE_ATTRIBUTES)? {
            Some(attrs) => Self::from_resource_attributes(&attrs)?,
            None => Self::new(),
        };
        if let Some(name) = read(OTEL_SERVICE_NAME)?.filter(|n| !n.is_empty()) {
            d.service = Some(name);
        }
        Ok(d)
    }

    /// Parses an `OTEL_RESOURCE_ATTRIBUTES` value.
    ///
    /// ```
    /// use eventlog::Deployment;
    ///
    /// let d = Deployment::from_resource_attributes("service.name=api,host.name=web%2D1")?;
    /// assert_eq!(d.host_name(), Some("web-1"));
    /// assert!(Deployment::from_resource_attributes("service.name").is_err());
    /// # Ok::<(), eventlog::ConfigError>(())
    /// ```
    pub fn from_resource_attributes(value: &str) -> Result<Self, ConfigError> {
        let mut pairs = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || ConfigError::ResourceAttribute {
                entry: entry.to_owned(),
            };
            let (key, val) = entry.split_once('=').ok_or_else(bad)?;
            let key = key.trim();
            if key.is_empty() {
                return Err(bad());
            }
            let val: Cow<'_, str> = percent_encoding::percent_decode_str(val.trim())
                .decode_utf8()
                .map_err(|_| bad())?;
            pairs.push((key.to_owned(), val.into_owned()));
        }
        Ok(Self::from_pairs(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    /// Builds a context from OpenTelemetry resource attribute pairs,
    /// ignoring keys it does not map.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut d = Self::new();
        for (key, value) in pairs {
            let slot = match key {
                "service.name" => &mut d.service,
                "deployment.environment.name" => &mut d.environment,
                "deployment.environment" if d.environment.is_none() => &mut d.environment,
                "cloud.region" => &mut d.region,
                "service.version" => &mut d.version,
                "host.name" => &mut d.host,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }
        d
    }

    /// Sets the service name.
    #[must_use]
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self
    }

    /// Sets the environment (`production`, `staging`, …).
    #[must_use]
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }

    /// Sets the region.
    #[must_use]
    pub fn region(mut self, name: impl Into<String>) -> Self {
        self.region = Some(name.into());
        self
    }

    /// Sets the service version.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the host name.
    #[must_use]
    pub fn host(mut self, name: impl Into<String>) -> Self {
        self.host = Some(name.into());
        self
    }

    /// Fills every unset value from `other` (values already set win).
    #[must_use]
    pub fn or(mut self, other: Deployment) -> Self {
        self.service = self.service.or(other.service);
        self.environment = self.environment.or(other.environment);
        self.region = self.region.or(other.region);
        self.version = self.version.or(other.version);
        self.host = self.host.or(other.host);
        self
    }

    /// The service name, if set.
    pub fn service_name(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// The environment, if set.
    pub fn environment_name(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// The region, if set.
    pub fn region_name(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The service version, if set.
    pub fn version_name(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The host name, if set.
    pub fn host_name(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The machine's host name, read from the kernel where that is cheap.
    pub(crate) fn system_host() -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
    }

    pub(crate) fn values(&self) -> [Option<&str>; 5] {
        [
            self.service.as_deref(),
            self.environment.as_deref(),
            self.region.as_deref(),
            self.version.as_deref(),
            self.host.as_deref(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_attributes_map_to_fields() {
        let d = Deployment::from_resource_attributes(
            "service.name=checkout, deployment.environment.name=prod,cloud.region=eu%20west,\
             service.version=1.2.3,host.name=web-1,unrelated=x",
        )
        .unwrap();
        assert_eq!(
            d.values(),
            [
                Some("checkout"),
                Some("prod"),
                Some("eu west"),
                Some("1.2.3"),
                Some("web-1")
            ]
        );
    }

    #[test]
    fn malformed_resource_attributes_are_errors() {
        for bad in ["service.name", "=x", "a=%FF"] {
            assert!(
                matches!(
                    Deployment::from_resource_attributes(bad),
                    Err(ConfigError::ResourceAttribute { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Deployment::from_resource_attributes("").unwrap(),
            Deployment::new()
        );
    }

    #[test]
    fn code_wins_over_environment() {
        let env = Deployment::new().service("from-env").region("r");
        let d = Deployment::new().service("code").or(env);
        assert_eq!(d.service_name(), Some("code"));
        assert_eq!(d.region_name(), Some("r"));
    }
}
