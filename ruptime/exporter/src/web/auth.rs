//! HTTP basic authentication against `basic_auth_users`' bcrypt hashes.
//!
//! A bcrypt check costs about 90 ms of a core at cost 10, and Prometheus
//! sends the same credentials every scrape, so verdicts are kept, as
//! exporter-toolkit keeps them (right and wrong alike, keyed by the user,
//! the hash and the password, so a changed file asks again). Checks run one
//! at a time on a blocking thread, which holds the turn until its check
//! ends, even when the request that asked is gone: a flood of wrong
//! passwords costs one core at most, and waits beyond [`WAIT`] are turned
//! away. An unknown user
//! costs the same check as a known one, against a hash of no password, so
//! timing does not tell which users exist.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lru::LruCache;

/// The verdicts kept.
const KEPT: usize = 1024;

/// How long a request may wait for the checks before it.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A bcrypt hash that no password given here matches: the check made for
/// an unknown user (bcrypt of a random string, cost 10).
const NOBODY: &str = "$2b$10$0ElRPvyqqFjv6ip/Brs.3.fa3HO9mSWZCNc8awHotvK6eZvtySAFe";

/// What a request's credentials are worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let in: no users are configured, or the password is right.
    Admitted,
    /// No credentials, or wrong ones: 401.
    Refused,
    /// The checks before it took longer than [`WAIT`]: 503.
    Busy,
}

/// Verdicts by user, hash and password.
type Kept = LruCache<(String, String, String), bool>;

/// The checks, and the verdicts kept.
#[derive(Debug)]
pub(crate) struct Auth {
    kept: Mutex<Kept>,
    /// One check at a time.
    checking: Arc<tokio::sync::Mutex<()>>,
}

impl Auth {
    pub(crate) fn new() -> Auth {
        let kept = NonZeroUsize::new(KEPT).map_or_else(LruCache::unbounded, LruCache::new);
        Auth {
            kept: Mutex::new(kept),
            checking: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The verdict on an `Authorization` header's value, for `users`.
    pub(crate) async fn check(
        &self,
        users: &BTreeMap<String, String>,
        authorization: Option<&[u8]>,
    ) -> Verdict {
        if users.is_empty() {
            return Verdict::Admitted;
        }
        let Some((user, password)) = authorization.and_then(credentials) else {
            return Verdict::Refused;
        };
        let hash = users.get(&user).cloned();
        let key = (user, hash.clone().unwrap_or_default(), password);
        if let Some(verdict) = self.kept(&key) {
            return verdict;
        }
        let turn = Arc::clone(&self.checking).lock_owned();
        let Ok(turn) = tokio::time::timeout(WAIT, turn).await else {
            return Verdict::Busy;
        };
        // The same credentials may have been checked while this waited.
        if let Some(verdict) = self.kept(&key) {
            return verdict;
        }
        let password = key.2.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| NOBODY.to_owned());
            bcrypt::verify(password, &hash).unwrap_or(false) && known
        })
        .await;
        let right = checked.unwrap_or(false);
        self.lock().put(key, right);
        verdict(right)
    }

    /// The verdict kept for these credentials, if one is.
    fn kept(&self, key: &(String, String, String)) -> Option<Verdict> {
        self.lock().get(key).copied().map(verdict)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The verdict on a password found right or wrong.
fn verdict(right: bool) -> Verdict {
    if right {
        Verdict::Admitted
    } else {
        Verdict::Refused
    }
}

/// The user and password of a `Basic` authorization.
fn credentials(value: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(user_password)).into_bytes()
    }

    #[test]
    fn credentials_are_read_from_the_header() {
        assert_eq!(
            credentials(&basic("prometheus:s3cr:et")),
            Some(("prometheus".into(), "s3cr:et".into()))
        );
        assert_eq!(
            credentials(b"basic cHJvbWV0aGV1czpzM2NyZXQ="),
            Some(("prometheus".into(), "s3cret".into()))
        );
        for bad in [
            &b"Bearer abc"[..],
            b"Basic",
            b"Basic !!!",
            b"Basic bm9jb2xvbg==",
        ] {
            assert_eq!(credentials(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn passwords_are_checked_and_verdicts_kept() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = BTreeMap::from([("prometheus".to_owned(), hash)]);
        let auth = Auth::new();
        assert_eq!(auth.check(&BTreeMap::new(), None).await, Verdict::Admitted);
        assert_eq!(auth.check(&users, None).await, Verdict::Refused);
        let right = basic("prometheus:s3cret");
        assert_eq!(auth.check(&users, Some(&right)).await, Verdict::Admitted);
        assert_eq!(auth.check(&users, Some(&right)).await, Verdict::Admitted);
        let wrong = basic("prometheus:guess");
        assert_eq!(auth.check(&users, Some(&wrong)).await, Verdict::Refused);
        let stranger = basic("mallory:s3cret");
        assert_eq!(auth.check(&users, Some(&stranger)).await, Verdict::Refused);
        assert_eq!(auth.lock().len(), 3);
        // Another hash for the same user asks again.
        let changed =
            BTreeMap::from([("prometheus".to_owned(), bcrypt::hash("other", 4).unwrap())]);
        assert_eq!(auth.check(&changed, Some(&right)).await, Verdict::Refused);
    }

    #[tokio::test]
    async fn an_unknown_user_costs_a_whole_check() {
        let users = BTreeMap::from([("prometheus".to_owned(), NOBODY.to_owned())]);
        let start = std::time::Instant::now();
        assert_eq!(bcrypt::verify("guess", NOBODY).ok(), Some(false));
        let one = start.elapsed();
        let start = std::time::Instant::now();
        let stranger = basic("mallory:guess");
        let auth = Auth::new();
        assert_eq!(auth.check(&users, Some(&stranger)).await, Verdict::Refused);
        let took = start.elapsed();
        assert!(took >= one / 2, "{took:?} against {one:?} for a check");
    }

    #[tokio::test]
    async fn a_check_keeps_its_turn_when_its_request_is_gone() {
        let auth = Arc::new(Auth::new());
        let users = BTreeMap::from([("prometheus".to_owned(), NOBODY.to_owned())]);
        let asking = {
            let auth = Arc::clone(&auth);
            tokio::spawn(async move { auth.check(&users, Some(&basic("prometheus:a"))).await })
        };
        let until = std::time::Instant::now() + WAIT;
        while auth.checking.try_lock().is_ok() {
            assert!(std::time::Instant::now() < until, "the check never began");
            tokio::task::yield_now().await;
        }
        // The request goes (its client hung up) while its check runs.
        asking.abort();
        assert!(asking.await.is_err());
        assert!(auth.checking.try_lock().is_err(), "the turn went with it");
        let turn = tokio::time::timeout(WAIT, auth.checking.lock()).await;
        assert!(turn.is_ok(), "the turn comes back once the check ends");
    }

    #[test]
    fn nobody_s_hash_is_a_cost_10_hash() {
        let parts: bcrypt::HashParts = NOBODY.parse().unwrap();
        assert_eq!(parts.get_cost(), 10);
        // A whole check, as long as a known user's, that fails.
        assert_eq!(bcrypt::verify("", NOBODY).ok(), Some(false));
    }
}
