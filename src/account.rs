//! Where an account lives, and the only hosts a token may ever be sent to.
//!
//! An amoCRM/Kommo account is `{subdomain}.{zone}` with the zone from a closed
//! list. Users paste it in many shapes (bare subdomain, host, URL with a
//! trailing slash, the `referer` value of an OAuth redirect), so the parser is
//! liberal about shape and strict about content: anything that could route the
//! token elsewhere (another host, user-info, a path or query, an odd port, an IP
//! literal, a Unicode or punycode look-alike, whitespace) is refused before any
//! request exists. The one escape hatch is a base URL on a loopback IP address,
//! for the local emulator and for tests; it cannot reach another machine.

use std::fmt;

use serde::Deserialize;
use url::{Host, Url};

/// The closed list of domains amoCRM and Kommo accounts live under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    AmocrmRu,
    AmocrmCom,
    KommoCom,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::AmocrmRu, Zone::AmocrmCom, Zone::KommoCom];

    pub fn domain(self) -> &'static str {
        match self {
            Zone::AmocrmRu => "amocrm.ru",
            Zone::AmocrmCom => "amocrm.com",
            Zone::KommoCom => "kommo.com",
        }
    }

    pub fn parse(s: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|z| z.domain() == s)
    }

    /// The OAuth consent page for integrations of this zone. amocrm.com is the
    /// former name of Kommo and authorises on kommo.com.
    pub fn authorize_url(self) -> &'static str {
        match self {
            Zone::AmocrmRu => "https://www.amocrm.ru/oauth",
            Zone::AmocrmCom | Zone::KommoCom => "https://www.kommo.com/oauth",
        }
    }
}

/// Why an account address was refused. Every message says what was wrong with
/// the input and what a valid one looks like; none repeats more of the input
/// than the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    Empty,
    Whitespace,
    NonAscii { ch: char },
    Punycode,
    InsecureScheme,
    UnsupportedScheme,
    UserInfo,
    PathOrQuery,
    Port,
    IpLiteral,
    NotAmoHost { host: String },
    BadSubdomain { subdomain: String },
    NestedSubdomain,
    UnknownZone { zone: String },
    Malformed,
    LoopbackOnly { host: String },
    LoopbackNeedsIp,
    LoopbackScheme,
    SubdomainOnly,
}

const EXAMPLE: &str =
    "Enter your account as `example.amocrm.ru`, `https://example.kommo.com/` or just the subdomain `example`.";

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AddressError::*;
        match self {
            Empty => write!(f, "The account address is empty. {EXAMPLE}"),
            Whitespace => write!(f, "The account address contains spaces or line breaks. Remove them. {EXAMPLE}"),
            NonAscii { ch } => write!(
                f,
                "The account address contains the character '{ch}' (U+{:04X}), which no amoCRM or Kommo address contains; it may be a look-alike of a Latin letter. Type the address again in Latin letters. {EXAMPLE}",
                *ch as u32
            ),
            Punycode => write!(f, "The account address contains an internationalised (xn--) name, which no amoCRM or Kommo account has. {EXAMPLE}"),
            InsecureScheme => write!(f, "The account address uses http://. amoCRM and Kommo are only reachable over https://, and the token must not travel unencrypted. {EXAMPLE}"),
            UnsupportedScheme => write!(f, "The account address must start with https:// or with the host name. {EXAMPLE}"),
            UserInfo => write!(f, "The account address contains a user name or password before '@'. Remove it. {EXAMPLE}"),
            PathOrQuery => write!(f, "The account address contains a path, query or fragment after the host. Keep only the host, such as `example.amocrm.ru`. {EXAMPLE}"),
            Port => write!(f, "The account address names a port. amoCRM and Kommo accounts are only served on the standard https port; remove the ':' and the number. {EXAMPLE}"),
            IpLiteral => write!(f, "The account address is an IP address. amoCRM and Kommo accounts are reached by name. {EXAMPLE} For the local emulator choose the environment \"Local Emulator or Test Server\"."),
            NotAmoHost { host } => write!(f, "The host `{host}` is not an amoCRM or Kommo account. Accounts live under amocrm.ru, amocrm.com or kommo.com. {EXAMPLE}"),
            BadSubdomain { subdomain } => write!(f, "`{subdomain}` is not a valid account subdomain: use 1 to 63 Latin letters, digits and inner hyphens. {EXAMPLE}"),
            NestedSubdomain => write!(f, "The account address has more than one name before the amoCRM or Kommo domain. Accounts look like `example.amocrm.ru`. {EXAMPLE}"),
            UnknownZone { zone } => write!(f, "`{zone}` is not an amoCRM or Kommo zone; choose amocrm.ru, amocrm.com or kommo.com."),
            Malformed => write!(f, "The account address is not a valid address. {EXAMPLE}"),
            LoopbackOnly { host } => write!(f, "The base URL host `{host}` is not a loopback address. A custom base URL may only point at this machine (127.0.0.0/8 or [::1]), for the local emulator or tests; for a real account choose the environment \"amoCRM or Kommo Account\"."),
            SubdomainOnly => write!(f, "Enter only the subdomain of the account, such as `example` for example.amocrm.ru, and choose the zone separately."),
            LoopbackScheme => write!(f, "The base URL must start with http:// or https://, such as http://127.0.0.1:8080."),
            LoopbackNeedsIp => write!(f, "The base URL must name a loopback IP address such as http://127.0.0.1:8080, not a host name: a name could be resolved to another machine."),
        }
    }
}

/// The credential's address fields, as the n8n credential stores them.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressConfig {
    /// `cloud` (default) or `local`.
    pub environment: String,
    /// The account as the user typed it (cloud).
    pub address: String,
    /// Zone used when `address` is only a subdomain (cloud).
    pub zone: String,
    /// Loopback base URL (local).
    pub base_url: String,
    /// The address must be a bare subdomain (the n8n OAuth2 credential,
    /// whose token URL is built from it by an n8n expression).
    pub subdomain_only: bool,
}

/// A validated account address. Only [`AccountAddress::from_config`],
/// [`AccountAddress::parse`] and [`AccountAddress::parse_loopback`] build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountAddress {
    origin: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Hosted { subdomain: String, zone: Zone },
    Loopback,
}

impl AccountAddress {
    pub fn from_config(config: &AddressConfig) -> Result<AccountAddress, AddressError> {
        match config.environment.as_str() {
            "local" => AccountAddress::parse_loopback(&config.base_url),
            _ => {
                if config.subdomain_only && !is_label_shape(&config.address) {
                    check_characters(&config.address)?;
                    return Err(AddressError::SubdomainOnly);
                }
                let zone = if config.zone.is_empty() {
                    Zone::AmocrmRu
                } else {
                    Zone::parse(&config.zone).ok_or_else(|| AddressError::UnknownZone {
                        zone: config.zone.clone(),
                    })?
                };
                AccountAddress::parse(&config.address, zone)
            }
        }
    }

    /// Parses an amoCRM/Kommo account address; `default_zone` applies when the
    /// input is a bare subdomain.
    pub fn parse(input: &str, default_zone: Zone) -> Result<AccountAddress, AddressError> {
        check_characters(input)?;
        let host = if let Some((scheme, _)) = input.split_once("://") {
            match scheme.to_ascii_lowercase().as_str() {
                "https" => {}
                "http" => return Err(AddressError::InsecureScheme),
                _ => return Err(AddressError::UnsupportedScheme),
            }
            host_of_url(input)?
        } else if is_label_shape(input) {
            // A bare subdomain: decided here, because the URL parser would read
            // digits-only input as an IPv4 number.
            return AccountAddress::hosted(&input.to_ascii_lowercase(), default_zone);
        } else {
            host_of_url(&format!("https://{input}"))?
        };
        match host {
            Host::Domain(domain) => AccountAddress::from_host(&domain),
            Host::Ipv4(_) | Host::Ipv6(_) => Err(AddressError::IpLiteral),
        }
    }

    /// Parses a base URL that may only point at this machine.
    pub fn parse_loopback(input: &str) -> Result<AccountAddress, AddressError> {
        check_characters(input)?;
        let scheme = input.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err(AddressError::LoopbackScheme);
        }
        let url = Url::parse(input).map_err(|_| AddressError::Malformed)?;
        check_url_parts(&url)?;
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain("localhost")) => return Err(AddressError::LoopbackNeedsIp),
            Some(Host::Domain(name)) => return Err(AddressError::LoopbackOnly { host: name.to_string() }),
            None => return Err(AddressError::Malformed),
        };
        if !loopback {
            return Err(AddressError::LoopbackOnly {
                host: url.host_str().unwrap_or_default().to_string(),
            });
        }
        Ok(AccountAddress {
            origin: url.origin().ascii_serialization(),
            kind: Kind::Loopback,
        })
    }

    fn from_host(host: &str) -> Result<AccountAddress, AddressError> {
        if host.ends_with('.') {
            return Err(AddressError::NotAmoHost { host: host.to_string() });
        }
        if host.split('.').any(|label| label.starts_with("xn--")) {
            return Err(AddressError::Punycode);
        }
        for zone in Zone::ALL {
            if let Some(prefix) = host.strip_suffix(zone.domain()).and_then(|p| p.strip_suffix('.')) {
                if prefix.contains('.') {
                    return Err(AddressError::NestedSubdomain);
                }
                return AccountAddress::hosted(prefix, zone);
            }
        }
        Err(AddressError::NotAmoHost { host: host.to_string() })
    }

    fn hosted(subdomain: &str, zone: Zone) -> Result<AccountAddress, AddressError> {
        if !is_label_shape(subdomain) || subdomain == "www" {
            return Err(AddressError::BadSubdomain {
                subdomain: subdomain.to_string(),
            });
        }
        if subdomain.starts_with("xn--") {
            return Err(AddressError::Punycode);
        }
        Ok(AccountAddress {
            origin: format!("https://{subdomain}.{}", zone.domain()),
            kind: Kind::Hosted {
                subdomain: subdomain.to_string(),
                zone,
            },
        })
    }

    /// `https://example.amocrm.ru` or `http://127.0.0.1:PORT`, no trailing slash.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The host the account answers on (`example.amocrm.ru`), as amoCRM writes
    /// it in OAuth `referer` values and lead URLs.
    pub fn host(&self) -> &str {
        self.origin.split_once("://").map(|(_, h)| h).unwrap_or(&self.origin)
    }

    pub fn subdomain(&self) -> Option<&str> {
        match &self.kind {
            Kind::Hosted { subdomain, .. } => Some(subdomain),
            Kind::Loopback => None,
        }
    }

    pub fn zone(&self) -> Option<Zone> {
        match &self.kind {
            Kind::Hosted { zone, .. } => Some(*zone),
            Kind::Loopback => None,
        }
    }

    pub fn is_loopback(&self) -> bool {
        matches!(self.kind, Kind::Loopback)
    }

    /// Absolute URL of an API path (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        debug_assert!(path_and_query.starts_with('/'));
        format!("{}{}", self.origin, path_and_query)
    }

    /// Whether `url` is on this account's origin, compared after parsing so
    /// that tricks such as `https://example.amocrm.ru@evil.test/` or
    /// `https://example.amocrm.ru.evil.test/` cannot pass. This is the last gate
    /// before a token is attached to a request.
    pub fn owns_url(&self, url: &str) -> bool {
        match Url::parse(url) {
            Ok(parsed) => {
                parsed.username().is_empty()
                    && parsed.password().is_none()
                    && parsed.origin().ascii_serialization() == self.origin
            }
            Err(_) => false,
        }
    }
}

fn check_characters(input: &str) -> Result<(), AddressError> {
    if input.is_empty() {
        return Err(AddressError::Empty);
    }
    if let Some(ch) = input.chars().find(|c| !c.is_ascii()) {
        return Err(AddressError::NonAscii { ch });
    }
    if input.chars().any(|c| c.is_ascii_whitespace() || c.is_ascii_control()) {
        return Err(AddressError::Whitespace);
    }
    Ok(())
}

/// One DNS label in the shape amoCRM allows for subdomains.
fn is_label_shape(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn host_of_url(input: &str) -> Result<Host<String>, AddressError> {
    // Percent-escapes and backslashes are normalised away by URL parsers;
    // an honest address never has them.
    if input.contains('%') || input.contains('\\') {
        return Err(AddressError::Malformed);
    }
    let url = Url::parse(input).map_err(|_| AddressError::Malformed)?;
    check_url_parts(&url)?;
    let host = url.host().map(|h| h.to_owned()).ok_or(AddressError::Malformed)?;
    if matches!(host, Host::Domain(_)) && authority_has_port(input) {
        // Judged on the text: the parser drops `:443` as the https default,
        // and any port we refuse in every other form.
        return Err(AddressError::Port);
    }
    Ok(host)
}

/// Whether the authority part of `scheme://authority/...` names a port.
fn authority_has_port(input: &str) -> bool {
    let rest = input.split_once("://").map_or(input, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let after_ipv6 = host_port.rsplit_once(']').map_or(host_port, |(_, p)| p);
    after_ipv6.contains(':')
}

fn check_url_parts(url: &Url) -> Result<(), AddressError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddressError::UserInfo);
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(AddressError::PathOrQuery);
    }
    Ok(())
}

/// Why a drive address was refused (see [`AccountAddress::drive_origin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveError {
    Malformed,
    InsecureScheme,
    UserInfo,
    Port,
    IpLiteral,
    NotDriveHost { host: String },
}

impl fmt::Display for DriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DriveError::*;
        match self {
            Malformed => write!(f, "it is not a valid https address"),
            InsecureScheme => write!(f, "it uses http://, and the token must not travel unencrypted"),
            UserInfo => write!(f, "it contains a user name or password before '@'"),
            Port => write!(f, "it names a port; amoCRM's drive is served on the standard https port"),
            IpLiteral => write!(f, "it is an IP address, not one of amoCRM's or Kommo's drive hosts"),
            NotDriveHost { host } => write!(
                f,
                "`{host}` is not one of amoCRM's or Kommo's drive hosts (drive.amocrm.ru, drive-b.amocrm.ru, drive-c.kommo.com, …)"
            ),
        }
    }
}

/// The authority of `scheme://authority/…` as written.
fn authority_of(input: &str) -> &str {
    let rest = input.split_once("://").map_or(input, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

impl AccountAddress {
    /// The origin of an address on the account's file drive, if it is one
    /// the token may be sent to. amoCRM names the drive host per account
    /// (`GET /api/v4/account?with=drive_url`, e.g. `https://drive-b.amocrm.ru`),
    /// and its upload and download links point there; the host is admitted
    /// by the same closed-list rule as account addresses: https, no user
    /// name, no port, a name (not an IP address), and exactly one label,
    /// `drive` or `drive-…`, under amocrm.ru, amocrm.com or kommo.com. An
    /// account on a loopback base URL (the local emulator) has its drive on
    /// a loopback IP address too, on any port, and nowhere else.
    pub fn drive_origin(&self, url: &str) -> Result<String, DriveError> {
        let authority = authority_of(url);
        if url
            .chars()
            .any(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
            || authority.contains(['%', '\\'])
        {
            return Err(DriveError::Malformed);
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let parsed = Url::parse(url).map_err(|_| DriveError::Malformed)?;
        if authority.contains('@') || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(DriveError::UserInfo);
        }
        if self.is_loopback() {
            if !matches!(scheme.as_deref(), Some("http" | "https")) {
                return Err(DriveError::Malformed);
            }
            let loopback = match parsed.host() {
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            };
            if !loopback {
                return Err(DriveError::NotDriveHost {
                    host: parsed.host_str().unwrap_or_default().to_string(),
                });
            }
            return Ok(parsed.origin().ascii_serialization());
        }
        match scheme.as_deref() {
            Some("https") => {}
            Some("http") => return Err(DriveError::InsecureScheme),
            _ => return Err(DriveError::Malformed),
        }
        let host = match parsed.host() {
            Some(Host::Domain(d)) => d.to_string(),
            Some(_) => return Err(DriveError::IpLiteral),
            None => return Err(DriveError::Malformed),
        };
        if authority_has_port(url) {
            return Err(DriveError::Port);
        }
        let not_drive = || DriveError::NotDriveHost { host: host.clone() };
        let (label, zone) = host.split_once('.').ok_or_else(not_drive)?;
        let drive_label = label == "drive"
            || label
                .strip_prefix("drive-")
                .is_some_and(|rest| is_label_shape(rest) && !rest.starts_with("xn--"));
        if !drive_label || Zone::parse(zone).is_none() {
            return Err(not_drive());
        }
        Ok(format!("https://{host}"))
    }

    /// Whether a token may be attached to a request for `url`: the account's
    /// own origin, or its file drive ([`AccountAddress::drive_origin`]).
    pub fn admits_token_url(&self, url: &str) -> bool {
        self.owns_url(url) || self.drive_origin(url).is_ok()
    }
}

#[cfg(test)]
mod drive_tests {
    use super::*;

    fn hosted() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    #[test]
    fn amocrm_and_kommo_drive_hosts_are_admitted() {
        for (url, origin) in [
            ("https://drive-b.amocrm.ru", "https://drive-b.amocrm.ru"),
            ("https://drive-b.amocrm.ru/", "https://drive-b.amocrm.ru"),
            ("https://drive.amocrm.com/v1.0/sessions", "https://drive.amocrm.com"),
            (
                "https://drive-c.kommo.com/v1.0/files/abc?x=1",
                "https://drive-c.kommo.com",
            ),
            ("HTTPS://DRIVE-B.AMOCRM.RU/upload/1", "https://drive-b.amocrm.ru"),
        ] {
            assert_eq!(hosted().drive_origin(url).as_deref(), Ok(origin), "{url}");
            assert!(hosted().admits_token_url(url), "{url}");
        }
    }

    #[test]
    fn hostile_drive_urls_are_refused() {
        for url in [
            "https://evil.com",
            "https://drive-b.amocrm.ru.evil.com",
            "https://amocrm.ru.evil.com",
            "https://drive-b.evil.com",
            "https://evil-drive.amocrm.ru",
            "https://x.drive-b.amocrm.ru",
            "https://drive-b.amocrm.ru@evil.com",
            "https://user:pw@drive-b.amocrm.ru",
            "https://drive-b.amocrm.ru:8443",
            "https://drive-b.amocrm.ru:443",
            "http://drive-b.amocrm.ru",
            "ftp://drive-b.amocrm.ru",
            "https://127.0.0.1:9000",
            "https://[::1]/",
            "https://93.184.216.34/",
            "https://drive-b.amocrm.ru%2e.evil.com",
            "https://drive-b.amocrm.ru\\@evil.com",
            "https://drive-xn--80ak6aa92e.amocrm.ru",
            "https://drive-.amocrm.ru",
            "https://drive-b.amocrm.ru./",
            "https://drive-b.amocrm.ru .evil.com",
            "//drive-b.amocrm.ru",
            "",
        ] {
            assert!(hosted().drive_origin(url).is_err(), "{url} admitted");
            assert!(!hosted().admits_token_url(url), "{url} admitted");
        }
        assert_eq!(
            hosted().drive_origin("http://drive-b.amocrm.ru"),
            Err(DriveError::InsecureScheme)
        );
        assert_eq!(
            hosted().drive_origin("https://u@drive-b.amocrm.ru"),
            Err(DriveError::UserInfo)
        );
    }

    #[test]
    fn a_local_account_has_its_drive_on_loopback_only() {
        let local = AccountAddress::parse_loopback("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            local.drive_origin("http://127.0.0.1:9090/v1.0/sessions").as_deref(),
            Ok("http://127.0.0.1:9090")
        );
        assert_eq!(
            local.drive_origin("http://[::1]:9090").as_deref(),
            Ok("http://[::1]:9090")
        );
        for url in [
            "http://localhost:9090",
            "http://10.0.0.1:9090",
            "http://drive-b.amocrm.ru",
            "http://127.0.0.1.evil.com:9090",
            "http://user@127.0.0.1:9090",
            "file:///etc/passwd",
        ] {
            assert!(local.drive_origin(url).is_err(), "{url} admitted");
        }
        // A hosted account never has a loopback drive.
        assert!(hosted().drive_origin("http://127.0.0.1:9090").is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        AccountAddress::parse(input, Zone::AmocrmRu)
            .unwrap_or_else(|e| panic!("{input:?} refused: {e}"))
            .origin()
            .to_string()
    }

    fn err(input: &str) -> AddressError {
        match AccountAddress::parse(input, Zone::AmocrmRu) {
            Ok(a) => panic!("{input:?} accepted as {}", a.origin()),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_every_shape_users_paste() {
        for input in [
            "example",
            "example.amocrm.ru",
            "example.amocrm.ru/",
            "https://example.amocrm.ru",
            "https://example.amocrm.ru/",
            "HTTPS://Example.AmoCRM.ru/",
            "EXAMPLE",
        ] {
            assert_eq!(ok(input), "https://example.amocrm.ru", "{input}");
        }
        assert_eq!(ok("shop-24.kommo.com"), "https://shop-24.kommo.com");
        assert_eq!(ok("https://acme.amocrm.com"), "https://acme.amocrm.com");
        assert_eq!(ok("12345"), "https://12345.amocrm.ru");
    }

    #[test]
    fn bare_subdomain_takes_the_configured_zone() {
        let a = AccountAddress::parse("acme", Zone::KommoCom).unwrap();
        assert_eq!(a.origin(), "https://acme.kommo.com");
        assert_eq!(a.host(), "acme.kommo.com");
        assert_eq!(a.subdomain(), Some("acme"));
        assert_eq!(a.zone(), Some(Zone::KommoCom));
        // A full host keeps its own zone whatever the default.
        let b = AccountAddress::parse("acme.amocrm.ru", Zone::KommoCom).unwrap();
        assert_eq!(b.origin(), "https://acme.amocrm.ru");
    }

    #[test]
    fn refuses_other_hosts() {
        assert!(matches!(err("example.com"), AddressError::NotAmoHost { .. }));
        assert!(matches!(err("https://evil.test/"), AddressError::NotAmoHost { .. }));
        assert!(matches!(
            err("example.amocrm.ru.evil.test"),
            AddressError::NotAmoHost { .. }
        ));
        assert!(matches!(err("amocrm.ru"), AddressError::NotAmoHost { .. }));
        assert!(matches!(err("example.notamocrm.ru"), AddressError::NotAmoHost { .. }));
        assert!(matches!(err("exampleamocrm.ru"), AddressError::NotAmoHost { .. }));
        assert!(matches!(err("example.amocrm.ru."), AddressError::NotAmoHost { .. }));
        assert!(matches!(err("www.amocrm.ru"), AddressError::BadSubdomain { .. }));
        assert_eq!(err("a.b.amocrm.ru"), AddressError::NestedSubdomain);
        assert!(matches!(err("-bad.amocrm.ru"), AddressError::BadSubdomain { .. }));
        assert!(matches!(
            err("under_score.amocrm.ru"),
            AddressError::BadSubdomain { .. } | AddressError::Malformed
        ));
    }

    #[test]
    fn refuses_user_info_paths_queries_and_ports() {
        assert_eq!(err("https://user:pw@example.amocrm.ru/"), AddressError::UserInfo);
        assert_eq!(err("evil.test@example.amocrm.ru"), AddressError::UserInfo);
        assert_eq!(err("https://example.amocrm.ru@evil.test/"), AddressError::UserInfo);
        assert_eq!(
            err("https://example.amocrm.ru/leads/detail/1"),
            AddressError::PathOrQuery
        );
        assert_eq!(err("https://example.amocrm.ru/?x=1"), AddressError::PathOrQuery);
        assert_eq!(err("https://example.amocrm.ru/#frag"), AddressError::PathOrQuery);
        assert_eq!(err("example.amocrm.ru:8443"), AddressError::Port);
        assert_eq!(err("https://example.amocrm.ru:8443/"), AddressError::Port);
        assert_eq!(err("https://example.amocrm.ru:443/"), AddressError::Port);
        assert_eq!(err("http://example.amocrm.ru/"), AddressError::InsecureScheme);
        assert_eq!(err("ftp://example.amocrm.ru/"), AddressError::UnsupportedScheme);
        assert_eq!(err("javascript://example.amocrm.ru/"), AddressError::UnsupportedScheme);
        assert_eq!(err("https://example.amocrm.ru%2f@evil.test"), AddressError::Malformed);
        assert_eq!(err("https:\\\\evil.test\\example.amocrm.ru"), AddressError::Malformed);
    }

    #[test]
    fn refuses_ip_literals_public_private_and_loopback() {
        for input in [
            "1.2.3.4",
            "https://10.0.0.1/",
            "192.168.1.1",
            "127.0.0.1",
            "https://[::1]/",
            "0x7f.1",
            "https://2130706433/",
        ] {
            assert_eq!(err(input), AddressError::IpLiteral, "{input}");
        }
    }

    #[test]
    fn refuses_whitespace_unicode_and_punycode_lookalikes() {
        assert_eq!(err(" example.amocrm.ru"), AddressError::Whitespace);
        assert_eq!(err("example.amocrm.ru\n"), AddressError::Whitespace);
        assert_eq!(err("exa mple"), AddressError::Whitespace);
        assert_eq!(err("example.amocrm.ru\t"), AddressError::Whitespace);
        // Cyrillic 'а' and 'о' look like Latin letters.
        assert!(matches!(
            err("ex\u{0430}mple.amocrm.ru"),
            AddressError::NonAscii { ch: '\u{0430}' }
        ));
        assert!(matches!(err("example.am\u{043e}crm.ru"), AddressError::NonAscii { .. }));
        // Fullwidth dot, zero-width space, right-to-left override.
        assert!(matches!(err("example\u{ff0e}amocrm.ru"), AddressError::NonAscii { .. }));
        assert!(matches!(
            err("example\u{200b}.amocrm.ru"),
            AddressError::NonAscii { .. }
        ));
        assert!(matches!(
            err("\u{202e}example.amocrm.ru"),
            AddressError::NonAscii { .. }
        ));
        assert_eq!(err("xn--80ak6aa92e.amocrm.ru"), AddressError::Punycode);
        assert_eq!(err("example.xn--amocrm-9ya.ru"), AddressError::Punycode);
        assert_eq!(err(""), AddressError::Empty);
    }

    #[test]
    fn messages_name_the_problem_and_the_fix() {
        let msg = err("ex\u{0430}mple.amocrm.ru").to_string();
        assert!(msg.contains("U+0430"), "{msg}");
        assert!(msg.contains("example.amocrm.ru"), "{msg}");
        let msg = err("https://evil.test/").to_string();
        assert!(msg.contains("evil.test") && msg.contains("kommo.com"), "{msg}");
    }

    #[test]
    fn loopback_base_url_only_reaches_this_machine() {
        let a = AccountAddress::parse_loopback("http://127.0.0.1:8123").unwrap();
        assert_eq!(a.origin(), "http://127.0.0.1:8123");
        assert!(a.is_loopback());
        assert_eq!(
            AccountAddress::parse_loopback("http://127.0.0.1:8123/")
                .unwrap()
                .origin(),
            "http://127.0.0.1:8123"
        );
        assert_eq!(
            AccountAddress::parse_loopback("http://[::1]:80/").unwrap().origin(),
            "http://[::1]"
        );
        assert_eq!(
            AccountAddress::parse_loopback("https://127.5.5.5").unwrap().origin(),
            "https://127.5.5.5"
        );
        for (input, expected) in [
            ("http://localhost:8123", AddressError::LoopbackNeedsIp),
            (
                "http://10.0.0.1:8123",
                AddressError::LoopbackOnly {
                    host: "10.0.0.1".into(),
                },
            ),
            ("http://8.8.8.8", AddressError::LoopbackOnly { host: "8.8.8.8".into() }),
            (
                "http://[::ffff:8.8.8.8]",
                AddressError::LoopbackOnly {
                    host: "[::ffff:808:808]".into(),
                },
            ),
            (
                "http://evil.test",
                AddressError::LoopbackOnly {
                    host: "evil.test".into(),
                },
            ),
            (
                "http://127.0.0.1.nip.io",
                AddressError::LoopbackOnly {
                    host: "127.0.0.1.nip.io".into(),
                },
            ),
            ("http://u:p@127.0.0.1:1", AddressError::UserInfo),
            ("http://127.0.0.1:1/api", AddressError::PathOrQuery),
            ("file:///etc/passwd", AddressError::LoopbackScheme),
            ("127.0.0.1:8000", AddressError::LoopbackScheme),
            (" http://127.0.0.1:1", AddressError::Whitespace),
        ] {
            assert_eq!(AccountAddress::parse_loopback(input), Err(expected), "{input}");
        }
    }

    #[test]
    fn config_picks_environment() {
        let cloud = AddressConfig {
            environment: "cloud".into(),
            address: "acme".into(),
            zone: "kommo.com".into(),
            base_url: "http://127.0.0.1:1".into(),
            subdomain_only: false,
        };
        assert_eq!(
            AccountAddress::from_config(&cloud).unwrap().origin(),
            "https://acme.kommo.com"
        );
        let local = AddressConfig {
            environment: "local".into(),
            ..cloud.clone()
        };
        assert_eq!(
            AccountAddress::from_config(&local).unwrap().origin(),
            "http://127.0.0.1:1"
        );
        let sub_only = AddressConfig {
            subdomain_only: true,
            address: "acme.kommo.com".into(),
            ..cloud.clone()
        };
        assert_eq!(AccountAddress::from_config(&sub_only), Err(AddressError::SubdomainOnly));
        let sub_ok = AddressConfig {
            subdomain_only: true,
            ..cloud.clone()
        };
        assert_eq!(
            AccountAddress::from_config(&sub_ok).unwrap().origin(),
            "https://acme.kommo.com"
        );
        let bad_zone = AddressConfig {
            zone: "evil.test".into(),
            ..cloud
        };
        assert!(matches!(
            AccountAddress::from_config(&bad_zone),
            Err(AddressError::UnknownZone { .. })
        ));
    }

    #[test]
    fn owns_url_compares_parsed_origins() {
        let a = AccountAddress::parse("example", Zone::AmocrmRu).unwrap();
        assert!(a.owns_url("https://example.amocrm.ru/api/v4/leads?page=2"));
        assert!(a.owns_url("https://EXAMPLE.amocrm.ru:443/api/v4/leads"));
        assert!(!a.owns_url("https://example.amocrm.ru@evil.test/api/v4/leads"));
        assert!(!a.owns_url("https://example.amocrm.ru.evil.test/api/v4/leads"));
        assert!(!a.owns_url("http://example.amocrm.ru/api/v4/leads"));
        assert!(!a.owns_url("https://example.amocrm.ru:444/api"));
        assert!(!a.owns_url("https://other.amocrm.ru/api"));
        assert!(!a.owns_url("/api/v4/leads"));
        assert!(!a.owns_url("https://user@example.amocrm.ru/api"));
        let l = AccountAddress::parse_loopback("http://127.0.0.1:9000").unwrap();
        assert!(l.owns_url("http://127.0.0.1:9000/api/v4/leads"));
        assert!(!l.owns_url("http://127.0.0.1:9001/api/v4/leads"));
    }
}
