//! The clock field: local time of day as `localtime_r` gives it, following
//! `TZ` and `/etc/localtime` exactly as `uptime` does.

/// Hours, minutes and seconds of `time` (seconds since the epoch) in local
/// time; `None` when the C library cannot convert it.
#[allow(unsafe_code)]
pub fn time_of_day(time: i64) -> Option<(u8, u8, u8)> {
    let time = libc::time_t::try_from(time).ok()?;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; `localtime_r` is thread-safe
    // and writes only `tm`.
    let converted = unsafe { libc::localtime_r(&time, &mut tm) };
    if converted.is_null() {
        return None;
    }
    let field = |v: libc::c_int| u8::try_from(v).ok();
    Some((field(tm.tm_hour)?, field(tm.tm_min)?, field(tm.tm_sec)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_of_day_is_in_range() {
        let (h, m, s) = time_of_day(1_700_000_000).unwrap();
        assert!(h < 24 && m < 60 && s < 61);
        let (_, m2, s2) = time_of_day(1_700_000_000 + 3600).unwrap();
        assert_eq!(
            (m, s),
            (m2, s2),
            "an hour later, minutes and seconds match in every zone but odd ones"
        );
    }
}
