//! Dropping root once the sockets are bound: to a user, its primary group
//! and its supplementary groups, for good.

use std::ffi::CString;

use nix::unistd::{Gid, Uid, User, geteuid, initgroups, setgid, setuid};

use crate::fatal::Fatal;

/// The account to run as.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    name: CString,
    uid: Uid,
    gid: Gid,
}

/// Looks `name` up; only root may switch users.
///
/// # Errors
/// Not running as root, or no such user.
pub(crate) fn lookup(name: &str) -> Result<Account, Fatal> {
    let failed = |why: String| Fatal::new(format!("--user {name}: {why}"));
    if !geteuid().is_root() {
        return Err(failed(format!(
            "only root can switch users (running as uid {})",
            geteuid()
        )));
    }
    let user = User::from_name(name)
        .map_err(|e| failed(e.desc().to_owned()))?
        .ok_or_else(|| failed("no such user".to_owned()))?;
    let name = CString::new(name).map_err(|_| failed("contains a NUL byte".to_owned()))?;
    Ok(Account {
        name,
        uid: user.uid,
        gid: user.gid,
    })
}

/// Becomes `account`: supplementary groups, group, then user; then checks
/// that root cannot be regained.
///
/// # Errors
/// A call fails, or root could be regained.
pub(crate) fn become_user(account: &Account) -> Result<(), Fatal> {
    let shown = account.name.to_string_lossy();
    let failed = |what: &str, e: nix::Error| {
        Fatal::new(format!("cannot become {shown}: {what}: {}", e.desc()))
    };
    initgroups(&account.name, account.gid).map_err(|e| failed("initgroups", e))?;
    setgid(account.gid).map_err(|e| failed("setgid", e))?;
    setuid(account.uid).map_err(|e| failed("setuid", e))?;
    if !account.uid.is_root() && setuid(Uid::from_raw(0)).is_ok() {
        return Err(Fatal::new(format!(
            "cannot become {shown}: root could be regained"
        )));
    }
    log::info!(
        "running as {shown} (uid {}, gid {})",
        account.uid,
        account.gid
    );
    Ok(())
}

/// Logs a warning when running as root.
pub(crate) fn warn_if_root() {
    if geteuid().is_root() {
        log::warn!("running as root: --user NAME drops privileges once the sockets are bound");
    }
}
