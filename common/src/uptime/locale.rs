//! The decimal separator of the loads, as `uptime` finds it: it calls
//! `setlocale(LC_ALL, "")`, so the environment (`LC_ALL`, `LC_NUMERIC`,
//! `LANG`) picks the locale, and a locale that cannot be loaded leaves "C".

use std::ffi::CStr;
use std::ptr;

/// The separator `printf("%.2f")` uses under the environment's locale.
#[allow(unsafe_code)]
pub(crate) fn decimal_separator() -> String {
    // SAFETY: a valid mask, a NUL-terminated empty name (the environment's
    // locale) and no base locale; the result is checked for null.
    let locale = unsafe { libc::newlocale(libc::LC_ALL_MASK, c"".as_ptr(), ptr::null_mut()) };
    if locale.is_null() {
        return ".".to_owned();
    }
    // SAFETY: `locale` is a valid locale object; the returned string lives
    // until `freelocale`, and is copied before that.
    let radix = unsafe {
        let text = libc::nl_langinfo_l(libc::RADIXCHAR, locale);
        let radix = if text.is_null() {
            None
        } else {
            CStr::from_ptr(text).to_str().ok().map(str::to_owned)
        };
        libc::freelocale(locale);
        radix
    };
    radix
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| ".".to_owned())
}
