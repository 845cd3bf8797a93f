//! `ruptime-fuzz TARGET`: one of the targets of this package, fed by
//! AFL++ (`make fuzz` runs each for a bounded time).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = ruptime_fuzz::target(&name) else {
        let names: Vec<&str> = ruptime_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: fuzz TARGET (one of {})", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
